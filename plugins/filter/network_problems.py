# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every problem of a station's network settings and CSMS URLs, before anything is sent."""

from __future__ import annotations

DOCUMENTATION = r'''
name: network_problems
short_description: Problems of a charging station's network settings and CSMS URLs
version_added: 0.1.0
description:
  - Checks the merged network settings (mode, addressing, static IPv4 address and gateway, DNS servers, Wi-Fi SSID
    and passphrase length, APN) and the CSMS URL of every security profile up to the station's (scheme V(ws) for
    profile 1, V(wss) for 2 and 3; a host of the environment when O(rules) lists C(csms_hosts)).
  - Returns one line per problem; an empty list when everything is fine. Secrets are never part of a line.
options:
  _input:
    description: The merged network settings.
    type: dict
    required: true
  model:
    description: >-
      The station model (P(evcs.provisioning.station_model#filter)); a network mode it has no OCPP interface for, and a
      setting OCPP does not standardize that it does not map, are problems.
    type: dict
    required: true
  station:
    description: The station, C(evcs_station) (its C(security_profile)).
    type: dict
    required: true
  csms:
    description: The CSMS, C(evcs_csms) (its C(ws_urls)).
    type: dict
    required: true
  rules:
    description: The environment rules, C(evcs_environment_rules) (its C(csms_hosts)).
    type: dict
    default: {}
'''

EXAMPLES = r'''
- name: Stop before touching a station with bad network settings
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('; ') }}"
  vars:
    problems: "{{ network_settings | evcs.provisioning.network_problems(network_station_model, evcs_station, evcs_csms) }}"
'''

RETURN = r'''
_value:
  description: One line per problem.
  type: list
  elements: dict
'''

from ansible_collections.evcs.provisioning.plugins.module_utils.station_settings import network_problems


class FilterModule(object):
    def filters(self):
        return {'network_problems': network_problems}
