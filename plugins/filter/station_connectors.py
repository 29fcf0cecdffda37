# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connectors of a station's EVSEs, as commissioning_check takes them."""

from __future__ import annotations

DOCUMENTATION = r'''
name: station_connectors
short_description: The connectors of a charging station
version_added: 0.1.0
description:
  - Lists every connector of C(evcs_station.evses) as C(evse_id) and C(connector_id), the form of the
    O(evcs.provisioning.commissioning_check#module:connectors) option.
options:
  _input:
    description: The station, C(evcs_station).
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Show the connectors of a station
  ansible.builtin.debug:
    msg: "{{ evcs_station | evcs.provisioning.station_connectors }}"
'''

RETURN = r'''
_value:
  description: One item per connector - evse_id and connector_id.
  type: list
  elements: dict
'''

from ansible_collections.evcs.provisioning.plugins.module_utils.station_settings import station_connectors


class FilterModule(object):
    def filters(self):
        return {'station_connectors': station_connectors}
