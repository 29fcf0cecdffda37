# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The device-model variable of a station's declared logging level."""

from __future__ import annotations

DOCUMENTATION = r'''
name: logging_variables
short_description: Device-model variable of a charging station's logging level
version_added: 0.2.0
description:
  - OCPP 2.0.1 standardizes no logging level. Where the station model maps one (C(logging.level) of its model file,
    with the component, the variable and the station's value of each level), the declared C(evcs_station.logging.level)
    becomes that variable, in the form of the O(evcs.provisioning.device_model#module:variables) option.
  - Nothing is returned when the inventory declares no level or the model maps none (validate refuses a level the
    model cannot set).
options:
  _input:
    description: The station's C(logging) settings (C(evcs_station.logging)).
    type: dict
    required: true
  model:
    description: The station model, from the P(evcs.provisioning.station_model#filter) filter.
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Show the logging variable of a station
  ansible.builtin.debug:
    msg: "{{ evcs_station.logging | default({}) | evcs.provisioning.logging_variables(evcs_station | evcs.provisioning.station_model(evcs_site)) }}"
'''

RETURN = r'''
_value:
  description: Zero or one item - component, variable and value.
  type: list
  elements: dict
'''

from ansible_collections.evcs.provisioning.plugins.module_utils.station.models import logging_variables


class FilterModule(object):
    def filters(self):
        return {'logging_variables': logging_variables}
