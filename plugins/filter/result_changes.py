# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
name: result_changes
short_description: Every changed field of a host's registered results, secrets redacted
version_added: 0.1.0
description:
  - Reads the registered task results named in O(names) from one host's variables and returns one entry per changed
    field (from each result's C(diff), or each loop item's), with secret values replaced by V(********).
  - A changed result without a diff (the run had no C(--diff)) gives one entry whose field is the result's name.
  - Run in check mode, the entries are the drift between the inventory and the fleet.
  - With O(include_checks), a registered M(evcs.provisioning.commissioning_check) result adds one entry per failed
    required item, and one per device-model variable that differs.
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
  include_checks:
    description: Add the failed items of commissioning results.
    type: bool
    default: true
'''

EXAMPLES = r'''
- name: List what drifted on this station
  ansible.builtin.debug:
    msg: "{{ hostvars[inventory_hostname] | evcs.provisioning.result_changes(['network_variables', 'commission_result']) }}"
'''

RETURN = r'''
_value:
  description: C([{source, field, before, after}]); C(source) is the registered name, C(field) the dotted path.
  type: list
  elements: dict
'''

from jinja2 import Undefined

from ansible_collections.evcs.provisioning.plugins.filter.redact import diff_summary


def result_changes(host_vars, names, include_checks=True):
    entries = []
    for name in names:
        result = host_var(host_vars, name)
        if not isinstance(result, dict):
            continue
        entries.extend(_diff_entries(name, result))
        if include_checks and isinstance(result.get('checklist'), list):
            entries.extend(check_entries(name, result['checklist']))
    return entries


def host_var(host_vars, name):
    """A host's variable, or None when it is undefined or does not template (it is then simply not a result)."""
    try:
        value = host_vars[name]
    except Exception:  # pylint: disable=broad-except  # hostvars raises several kinds for undefined/broken values
        return None
    return None if isinstance(value, Undefined) else value


def _changed(result):
    return bool(result.get('changed')) or any(isinstance(item, dict) and item.get('changed') for item in result.get('results') or ())


def _diffs(result):
    items = [result] + [item for item in result.get('results') or () if isinstance(item, dict)]
    for item in items:
        if item.get('changed') and item.get('diff') and not item.get('_ansible_no_log'):
            yield item['diff']


def _diff_entries(name, result):
    diffs = list(_diffs(result))
    if not diffs and _changed(result):
        return [{'source': name, 'field': name, 'before': None, 'after': '(changed; run with --diff for the fields)'}]
    entries = []
    for diff in diffs:
        summary = diff_summary(diff)
        for field, change in sorted(summary.get('fields', {}).items()):
            entries.append({'source': name, 'field': field, 'before': change['before'], 'after': change['after']})
        for changed_file in summary.get('files', []):
            entries.append({'source': name, 'field': changed_file['path'], 'before': None,
                            'after': '%(lines_added)d line(s) added, %(lines_removed)d removed' % changed_file})
    return entries


def check_entries(name, checklist):
    """Failed required checklist items; a device-model mismatch becomes one entry per variable."""
    entries = []
    for item in checklist:
        if item.get('status') != 'fail' or not item.get('required', True):
            continue
        evidence = item.get('evidence')
        mismatches = evidence.get('mismatches') if isinstance(evidence, dict) else None
        if mismatches:
            entries.extend({'source': name, 'field': '%s: %s' % (item['name'], m['variable']),
                            'before': m.get('actual'), 'after': m.get('expected')} for m in mismatches)
        else:
            error = evidence.get('error', evidence) if isinstance(evidence, dict) else evidence
            entries.append({'source': name, 'field': item['name'], 'before': error, 'after': 'pass'})
    return entries


class FilterModule(object):
    """evcs.provisioning.result_changes"""

    def filters(self):
        return {'result_changes': result_changes}
