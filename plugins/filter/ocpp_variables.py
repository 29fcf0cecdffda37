# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The device-model variables of a station's OCPP settings."""

from __future__ import annotations

DOCUMENTATION = r'''
name: ocpp_variables
short_description: Device-model variables of a charging station's OCPP settings
version_added: 0.1.0
description:
  - Maps the OCPP settings (C(evcs_station.ocpp) over the site's C(evcs_ocpp)) - heartbeat interval, offline
    threshold, message timeout, sampled, ended and aligned measurands and intervals, remote start authorization,
    offline and pre-authorization - to OCPP 2.0.1 device-model variables, then appends O(extra_variables) as they are.
  - Settings that are not given or null are left out.
options:
  _input:
    description: The merged OCPP settings.
    type: dict
    required: true
  extra_variables:
    description: More variables in the form of the O(evcs.provisioning.device_model#module:variables) option.
    type: list
    elements: dict
    default: []
'''

EXAMPLES = r'''
- name: Show the OCPP variables of a station
  ansible.builtin.debug:
    msg: "{{ {'heartbeat_interval': 300} | evcs.provisioning.ocpp_variables }}"
'''

RETURN = r'''
_value:
  description: One item per variable - component, variable, value and value_type.
  type: list
  elements: dict
'''

from ansible_collections.evcs.provisioning.plugins.module_utils.station_settings import ocpp_variables


class FilterModule(object):
    def filters(self):
        return {'ocpp_variables': ocpp_variables}
