# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The device-model variables of a station's network settings."""

from __future__ import annotations

DOCUMENTATION = r'''
name: network_variables
short_description: Device-model variables of a charging station's network settings
version_added: 0.1.0
description:
  - Maps the station's network settings (C(evcs_station.network) over the site's C(evcs_network)) to OCPP 2.0.1
    device-model variables, in the form of the O(evcs.provisioning.device_model#module:variables) option - the
    standard C(ClockCtrlr) time source and NTP servers (instances 1 and 2 as priorities, or one variable, as the
    model says), and the settings OCPP does not standardize (interface enabled, addressing, static address and
    gateway, DNS servers, Wi-Fi SSID and passphrase, APN and its credentials, VPN flag) where the station model maps
    them to its own components (see the P(evcs.provisioning.station_model#filter) filter).
  - Secrets (Wi-Fi passphrase, APN password) are marked C(write_only), as a station never reports them back.
options:
  _input:
    description: The merged network settings.
    type: dict
    required: true
  model:
    description: The station model, from the P(evcs.provisioning.station_model#filter) filter.
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Show the network variables of a station
  ansible.builtin.debug:
    msg: "{{ network_settings | evcs.provisioning.network_variables(evcs_station | evcs.provisioning.station_model(evcs_site)) }}"
'''

RETURN = r'''
_value:
  description: One item per variable - component, variable, value and, where needed, value_type and write_only.
  type: list
  elements: dict
'''

from ansible_collections.evcs.provisioning.plugins.module_utils.station_settings import network_variables


class FilterModule(object):
    def filters(self):
        return {'network_variables': network_variables}
