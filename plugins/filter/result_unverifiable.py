# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
name: result_unverifiable
short_description: What a host's registered results could not check with the CSMS backend
version_added: 0.1.0
description:
  - Reads the registered task results named in O(names) from one host's variables and returns the lines their modules
    reported under C(unverifiable) (each result's, or each loop item's), in order, without repeats.
  - "A line reads C(not verifiable with backend <name>: <what>: backend <name> cannot <capability>): the CSMS backend in
    use lacks a capability the stage needs (docs/BACKENDS.md lists them per backend). It is neither drift nor a failure."
  - Names that are not defined, or are not task results, are ignored.
positional: names
options:
  _input:
    description: The host's variables, for example C(hostvars[inventory_hostname]).
    type: raw
    required: true
  names:
    description: Names of registered results.
    type: list
    elements: str
    required: true
'''

EXAMPLES = r'''
- name: List what the CSMS backend could not check on this station
  ansible.builtin.debug:
    msg: "{{ hostvars[inventory_hostname] | evcs.provisioning.result_unverifiable(['network_connection', 'backend_station']) }}"
'''

RETURN = r'''
_value:
  description: The lines, each once.
  type: list
  elements: str
'''

from ansible_collections.evcs.provisioning.plugins.filter.result_changes import host_var


def result_unverifiable(host_vars, names):
    lines = []
    for name in names:
        result = host_var(host_vars, name)
        if not isinstance(result, dict):
            continue
        items = [result] + [item for item in result.get('results') or () if isinstance(item, dict)]
        for item in items:
            for line in item.get('unverifiable') or ():
                if line not in lines:
                    lines.append(line)
    return lines


class FilterModule(object):
    """evcs.provisioning.result_unverifiable"""

    def filters(self):
        return {'result_unverifiable': result_unverifiable}
