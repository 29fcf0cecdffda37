# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The station model of a charging station (what OCPP does not standardize, from its model file)."""

from __future__ import annotations

DOCUMENTATION = r'''
name: station_model
short_description: The station model of a charging station, from its model file
version_added: 0.2.0
description:
  - Returns the station model the inventory selects for the station - C(evcs_station.station_model), else the
    site's C(evcs_site.station_model), else the first model file whose C(match) fits the station's C(vendor),
    C(model) and C(firmware_version), else V(generic) (standard OCPP 2.0.1 components only).
  - Model files are YAML, one per vendor and model (C(station_models/<name>.yml) in this collection, or in a
    directory of O(model_dirs), which wins). They map the settings OCPP does not standardize (static addressing, DNS,
    Wi-Fi, the SIM's ICCID) to the model's components and variables and state its quirks (configuration slots,
    rate units, ChargingStationMaxProfile support, items per message, reboot-required variables).
options:
  _input:
    description: The station, C(evcs_station).
    type: dict
    required: true
  site:
    description: The site, C(evcs_site) (its C(station_model)).
    type: dict
    default: {}
  model_dirs:
    description: More directories of model files, C(evcs_station_model_dirs).
    type: list
    elements: path
    default: []
'''

EXAMPLES = r'''
- name: Show the station model of a charger
  ansible.builtin.debug:
    msg: "{{ evcs_station | evcs.provisioning.station_model(evcs_site | default({}), evcs_station_model_dirs | default([])) }}"
'''

RETURN = r'''
_value:
  description: >-
    The model - C(name), C(match), C(slots) (null - read from the station), C(ocpp_interfaces), C(ntp), C(network)
    (C(component) per network mode, C(settings)), C(rate_units), C(charging_station_max_profile), C(items_per_message),
    C(reboot_required), C(variables).
  type: dict
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.evcs.provisioning.plugins.module_utils.station.models import ModelError, station_model


def _station_model(station, site=None, model_dirs=None):
    try:
        return station_model(station or {}, site or {}, model_dirs or [])
    except ModelError as error:
        raise AnsibleFilterError('station %s: %s: set evcs_station.station_model to a known model'
                                 % ((station or {}).get('id', '?'), error))


class FilterModule(object):
    def filters(self):
        return {'station_model': _station_model}
