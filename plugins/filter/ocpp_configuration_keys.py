# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OCPP 1.6 configuration keys of a station's OCPP settings."""

from __future__ import annotations

DOCUMENTATION = r'''
name: ocpp_configuration_keys
short_description: OCPP 1.6 configuration keys of a charging station's OCPP settings
version_added: 0.2.0
description:
  - Maps the OCPP settings (C(evcs_station.ocpp) over the site's C(evcs_ocpp), over the defaults) to the OCPP 1.6
    configuration keys of the station's 1.6 model, through the one table of OCPP settings (docs/OCPP16.md), then
    appends O(extra_keys) as they are.
  - A setting without a 1.6 key (or whose key the model does not have) is left out; validate refuses one the station
    declares itself.
options:
  _input:
    description: The merged OCPP settings.
    type: dict
    required: true
  model:
    description: The station's 1.6 model (the C(evcs.provisioning.station_model) filter).
    type: dict
    required: true
  extra_keys:
    description: More keys in the form of the O(evcs.provisioning.configuration_keys#module:keys) option.
    type: list
    elements: dict
    default: []
'''

EXAMPLES = r'''
- name: Show the configuration keys of a 1.6 station
  ansible.builtin.debug:
    msg: "{{ {'heartbeat_interval': 300} | evcs.provisioning.ocpp_configuration_keys(model) }}"
  vars:
    model: "{{ evcs_station | evcs.provisioning.station_model(evcs_site) }}"
'''

RETURN = r'''
_value:
  description: One item per key - key, value and value_type.
  type: list
  elements: dict
'''

from ansible_collections.evcs.provisioning.plugins.module_utils.station.configuration_keys import setting_keys


def ocpp_configuration_keys(settings, model, extra_keys=None):
    return setting_keys(settings, model, extra_keys)


class FilterModule(object):
    def filters(self):
        return {'ocpp_configuration_keys': ocpp_configuration_keys}
