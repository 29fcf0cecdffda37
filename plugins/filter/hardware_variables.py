# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the inventory says about a station's EVSEs and connectors, as device-model variables."""

from __future__ import annotations

DOCUMENTATION = r'''
name: hardware_variables
short_description: A charging station's EVSEs and connectors as device-model variables
version_added: 0.1.0
description:
  - Each EVSE of C(evcs_station.evses) becomes its C(SupplyPhases) variable (default 3) and each connector its
    C(ConnectorType), so that the ocpp role can compare them with what the station reports.
options:
  _input:
    description: The station, C(evcs_station).
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Show what the station must report about its hardware
  ansible.builtin.debug:
    msg: "{{ evcs_station | evcs.provisioning.hardware_variables }}"
'''

RETURN = r'''
_value:
  description: One item per variable - component (with evse and connector ids), variable and the expected value.
  type: list
  elements: dict
'''

from ansible_collections.evcs.provisioning.plugins.module_utils.station_settings import hardware_variables


class FilterModule(object):
    def filters(self):
        return {'hardware_variables': hardware_variables}
