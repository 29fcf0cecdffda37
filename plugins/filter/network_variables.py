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
    device-model variables of its C(NetworkInterface) component and C(ClockCtrlr) - Enabled, AddressMode, static
    address and gateway, DnsServers, the Wi-Fi SSID and passphrase or the APN and its credentials, VpnEnabled, the
    time source and up to two NTP servers - in the form of the O(evcs.provisioning.device_model#module:variables) option.
  - Secrets (Wi-Fi passphrase, APN password) are marked C(write_only), as a station never reports them back.
options:
  _input:
    description: The merged network settings.
    type: dict
    required: true
  interface_instances:
    description: The C(NetworkInterface) component instance per network mode (V(ethernet), V(wifi), V(cellular)).
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Show the network variables of a station
  ansible.builtin.debug:
    msg: "{{ network_settings | evcs.provisioning.network_variables({'ethernet': 'Wired0', 'wifi': 'Wireless0', 'cellular': 'Cellular0'}) }}"
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
