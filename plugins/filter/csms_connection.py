# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A station's CSMS connection settings (interface, message timeout, APN) from its inventory variables."""

from __future__ import annotations

DOCUMENTATION = r'''
name: csms_connection
short_description: A charging station's CSMS connection settings from its inventory
version_added: 0.1.0
description:
  - Returns the OCPP interface, message timeout, (for a cellular station) the APN with its credentials, SIM PIN,
    preferred network and authentication, and (when C(network.vpn.enabled)) the VPN of the network connection
    profile the station uses to reach the CSMS, from C(evcs_station) and the site's C(evcs_network) and C(evcs_ocpp)
    defaults (the station's own C(network) and C(ocpp) keys override the site's, recursively).
  - The interface follows the network mode as the station model says (O(model)), by default as OCPP 2.0.1 names
    them - V(ethernet) is V(Wired0), V(wifi) is V(Wireless0), V(cellular) is V(Wireless1). The message timeout
    defaults to 30 seconds.
  - The security role sends it to the slot the station runs on (a change goes to a free slot first). Secrets (APN
    password, SIM PIN, VPN password and key) are in the result; the modules that use it treat them as secrets.
options:
  _input:
    description: The station, C(evcs_station).
    type: dict
    required: true
  network:
    description: The site's network defaults, C(evcs_network).
    type: dict
    default: {}
  ocpp:
    description: The site's OCPP defaults, C(evcs_ocpp).
    type: dict
    default: {}
  model:
    description: The station model (P(evcs.provisioning.station_model#filter)), for its C(ocpp_interfaces).
    type: dict
    default: {}
'''

EXAMPLES = r'''
- name: Show the connection settings of a station
  ansible.builtin.debug:
    msg: "{{ evcs_station | evcs.provisioning.csms_connection(evcs_network | default({}), evcs_ocpp | default({})) }}"
'''

RETURN = r'''
_value:
  description: >-
    C(interface), C(message_timeout), for a cellular station C(apn) (C(apn), C(apn_user_name), C(apn_password),
    C(sim_pin), C(preferred_network), C(use_only_preferred_network), C(apn_authentication)) and with a VPN C(vpn)
    (C(server), C(user), C(group), C(password), C(key), C(type)).
  type: dict
'''

from ansible_collections.evcs.provisioning.plugins.module_utils.station_settings import connection_settings


class FilterModule(object):
    def filters(self):
        return {'csms_connection': connection_settings}
