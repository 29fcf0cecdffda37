# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Redaction of secrets and a compact summary of a task's diff, shared by the audit callback and the drift filter."""

from __future__ import annotations

DOCUMENTATION = r'''
name: redact
short_description: Replace secret values in a data structure
version_added: 0.1.0
description:
  - Returns a copy of the input in which the value of every key whose name contains V(password), V(passphrase),
    V(secret), V(token), V(key) or V(pin) (in snake_case or camelCase) is replaced by V(********).
  - Every occurrence of the strings given in O(secrets) is masked wherever it appears, also inside longer strings.
options:
  _input:
    description: Any data structure (dicts, lists, scalars).
    type: raw
    required: true
  secrets:
    description: Values to mask wherever they appear (for example the values of C(no_log) options).
    type: list
    elements: str
    default: []
'''

EXAMPLES = r'''
- name: Show a station's network settings without its secrets
  ansible.builtin.debug:
    msg: "{{ evcs_station.network | evcs.provisioning.redact }}"
'''

RETURN = r'''
_value:
  description: The input with secret values replaced by V(********).
  type: raw
'''

import re

MASK = '********'
_SECRET_WORDS = re.compile(r'(?:^|_)(?:password|passphrase|secret|token|key|pin)s?(?:_|$)')
_CAMEL_BOUNDARY = re.compile(r'(?<=[a-z0-9])(?=[A-Z])')


def is_secret_key(name):
    """True when a key's name says it holds a secret (``apn_password``, ``BasicAuthPassword``, ``sim_pin``)."""
    words = _CAMEL_BOUNDARY.sub('_', str(name)).lower().replace('-', '_').replace('.', '_')
    return bool(_SECRET_WORDS.search(words))


def _mask_text(text, secrets):
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, MASK)
    return text


def redact(data, secrets=None):
    """A copy of ``data`` with secret-named keys and every value in ``secrets`` masked."""
    ordered = sorted((str(s) for s in (secrets or ()) if s), key=len, reverse=True)
    return _redact(data, ordered)


def _redact(data, secrets):
    if isinstance(data, dict):
        return dict((key, MASK if is_secret_key(key) and value not in (None, '') else _redact(value, secrets))
                    for key, value in data.items())
    if isinstance(data, (list, tuple)):
        return [_redact(item, secrets) for item in data]
    if isinstance(data, str):
        return _mask_text(data, secrets)
    return data


def changed_fields(before, after, prefix=''):
    """Dotted paths of the keys whose values differ between two dicts, with their before/after values."""
    fields = {}
    for key in sorted(set(before) | set(after), key=str):
        path = '%s%s' % (prefix, key)
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            fields.update(changed_fields(old, new, path + '.'))
        else:
            fields[path] = {'before': old, 'after': new}
    return fields


def _text_summary(diff):
    before, after = diff.get('before') or '', diff.get('after') or ''
    before_lines, after_lines = set(str(before).splitlines()), set(str(after).splitlines())
    return {
        'path': diff.get('after_header') or diff.get('before_header'),
        'lines_added': len(after_lines - before_lines),
        'lines_removed': len(before_lines - after_lines),
    }


def diff_summary(diff, secrets=None):
    """Summarise a task's ``diff`` (a dict or a list of dicts): changed keys only, secrets redacted.

    Structured diffs become ``{"fields": {path: {before, after}}}``; text diffs (file content) keep only the
    path and line counts, since file content may hold anything.
    """
    diffs = diff if isinstance(diff, list) else [diff]
    fields, files = {}, []
    for item in diffs:
        if not isinstance(item, dict):
            continue
        before, after = item.get('before'), item.get('after')
        if isinstance(before, dict) or isinstance(after, dict):
            fields.update(changed_fields(before if isinstance(before, dict) else {},
                                         after if isinstance(after, dict) else {}))
        elif before is not None or after is not None:
            files.append(_text_summary(item))
    summary = {}
    if fields:
        summary['fields'] = dict((path, _redact_change(path, change, secrets)) for path, change in fields.items())
    if files:
        summary['files'] = files
    return summary


def _redact_change(path, change, secrets):
    """A field whose path names a secret (``network.wifi.passphrase``) keeps the fact that it changed, not the values."""
    if any(is_secret_key(part) for part in path.split('.')):
        return dict((side, MASK if value not in (None, '') else value) for side, value in change.items())
    return dict((side, redact(value, secrets)) for side, value in change.items())


class FilterModule(object):
    """evcs.provisioning.redact"""

    def filters(self):
        return {'redact': redact}
