# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a 1.6 station model refuses of the configuration keys an inventory declares."""

from __future__ import annotations

DOCUMENTATION = r'''
name: configuration_key_problems
short_description: What a 1.6 station model refuses of declared configuration keys
version_added: 0.2.0
description:
  - One line per key the station's 1.6 model refuses - a read-only key, a key the model does not list when it refuses
    unknown keys, the write-only C(AuthorizationKey) (rotated by the security stage, never declared), a value longer
    than OCPP 1.6 allows. The validate role checks C(ocpp_extra_configuration_keys) with it before anything is written.
options:
  _input:
    description: The keys, in the form of the O(evcs.provisioning.configuration_keys#module:keys) option.
    type: list
    elements: dict
    required: true
  model:
    description: The station's 1.6 model (the C(evcs.provisioning.station_model) filter).
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Refuse bad extra keys
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('; ') }}"
  vars:
    problems: "{{ ocpp_extra_configuration_keys | evcs.provisioning.configuration_key_problems(model) }}"
'''

RETURN = r'''
_value:
  description: One line per refused key, naming the key and the fix.
  type: list
  elements: str
'''

from ansible_collections.evcs.provisioning.plugins.module_utils.station.configuration_keys import key_problems


def configuration_key_problems(keys, model):
    return key_problems(keys or [], model)


class FilterModule(object):
    def filters(self):
        return {'configuration_key_problems': configuration_key_problems}
