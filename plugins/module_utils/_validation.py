# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small declarative checker for inventory data, used by ``desired_state``.

A ``Field`` describes one value (kind, required, default, choices, bounds, nested fields, list items or the keys and
values of a free-form mapping, extra checks). ``Checker.clean(value, field, path)`` walks a value against its field, reports every problem to the
``Report`` and returns a cleaned copy holding only the valid parts (defaults filled in), or ``INVALID``.
Problems are one line each: ``<host>: <field path> = <value>: <what is wrong>; <how to fix>``.
"""

from __future__ import annotations

import datetime
import difflib
import re
import unicodedata

try:
    import netaddr
    HAS_NETADDR = True
except ImportError:  # pragma: no cover - the controller venv has it; a module run reports it
    HAS_NETADDR = False

#: keys whose values are secrets: never shown in a message or a result
SECRET_KEYS = frozenset(('password', 'passphrase', 'token', 'secret_id', 'role_id', 'api_token', 'staging_password', 'pin',
                         'key'))
MASK = '********'
#: longest value accepted where no tighter limit applies
MAX_TEXT = 500
_VALUE_REPR_MAX = 80

INVALID = object()
_MISSING = object()

_CONTROL = re.compile(r'[\x00-\x1f\x7f]')
_TEMPLATE_OR_SHELL = ('{{', '{%', '{#', '$(', '${', '`')
_BOOLEAN_WORDS = {'true': True, 'yes': True, 'on': True, '1': True, 'false': False, 'no': False, 'off': False, '0': False}
_SECRET_NAME = re.compile(r'pa?s+w|pass|secret|token|pin|key|cred|psk', re.IGNORECASE)
_HOSTNAME_LABEL = re.compile(r'^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$')

_KIND_FIX = {
    'str': ('is not a string', 'write it as text, for example in quotes'),
    'int': ('is not a whole number', 'write a whole number without quotes, for example 32'),
    'number': ('is not a number', 'write a number without quotes, for example 32 or 0.39'),
    'bool': ('is not a boolean', 'write true or false without quotes'),
    'dict': ('is not a mapping', 'write it as a YAML mapping (key: value lines)'),
    'list': ('is not a list', 'write it as a YAML list (one "- item" per line)'),
    'date': ('is not a date', 'write an ISO date, for example 2026-01-15'),
}


class Field(object):
    """The description of one inventory value. ``checks`` are callables ``value -> None | (what, fix)``.

    A ``dict`` has either ``fields`` (its known keys) or ``keys`` and ``values`` (a mapping of any keys, each key
    checked against ``keys`` and each value against ``values``, reported as ``path['key']``).
    """

    __slots__ = ('kind', 'required', 'default', 'choices', 'minimum', 'maximum', 'positive', 'max_len',
                 'fields', 'items', 'min_items', 'checks', 'secret', 'nullable', 'text', 'keys', 'values')

    def __init__(self, kind, required=False, default=_MISSING, choices=None, minimum=None, maximum=None,
                 positive=False, max_len=MAX_TEXT, fields=None, items=None, min_items=0, checks=(),
                 secret=False, nullable=False, text=True, keys=None, values=None):
        self.kind = kind
        self.required = required
        self.default = default
        self.choices = choices
        self.minimum = minimum
        self.maximum = maximum
        self.positive = positive
        self.max_len = max_len
        self.fields = fields
        self.items = items
        self.min_items = min_items
        self.checks = tuple(checks)
        self.secret = secret
        self.nullable = nullable
        self.text = text
        self.keys = keys
        self.values = values


def plain(value):
    """A copy of ``value`` made of builtin types only (Ansible hands over tagged subclasses; YAML gives dates)."""
    if isinstance(value, dict):
        return dict((plain(key), plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value
    return str(value)


def redact(value):
    """``value`` with the value of every secret key replaced by the mask (for messages)."""
    if isinstance(value, dict):
        return dict((key, MASK if key in SECRET_KEYS and item not in (None, '') else redact(item)) for key, item in value.items())
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def strip_secrets(value):
    """``value`` without the secret keys (for results: a summary never carries a secret, not even masked)."""
    if isinstance(value, dict):
        return dict((key, strip_secrets(item)) for key, item in value.items() if key not in SECRET_KEYS)
    if isinstance(value, list):
        return [strip_secrets(item) for item in value]
    return value


def secret_values(value, found=None):
    """Every non-empty secret string under ``value``."""
    found = set() if found is None else found
    if isinstance(value, dict):
        for key, item in value.items():
            if key in SECRET_KEYS and isinstance(item, (str, int)) and not isinstance(item, bool) and str(item):
                found.add(str(item))
            else:
                secret_values(item, found)
    elif isinstance(value, list):
        for item in value:
            secret_values(item, found)
    return found


def closest(name, known):
    """The closest known key to a misspelt ``name``, or None."""
    matches = difflib.get_close_matches(str(name), list(known), n=1, cutoff=0.6)
    return matches[0] if matches else None


class Report(object):
    """Collects the problems of one host (all of them, never stopping at the first)."""

    def __init__(self, host, secrets=()):
        self.host = host
        self.problems = []
        self.paths = set()
        self._secrets = sorted((s for s in secrets if len(s) >= 3), key=len, reverse=True)

    def add(self, path, value, what, fix, secret=False):
        shown = MASK if secret and value not in (None, '') else _short_repr(redact(value))
        message = '%s: %s = %s: %s; %s' % (self.host, path, shown, what, fix)
        for secret_value in self._secrets:
            message = message.replace(secret_value, MASK)
        self.problems.append(message)
        self.paths.add(path)

    def has(self, path):
        """Whether a problem was already reported at ``path`` (later rules then skip it)."""
        return path in self.paths


def _short_repr(value):
    if isinstance(value, (datetime.date, datetime.datetime)):
        value = value.isoformat()
    text = repr(value)
    if len(text) > _VALUE_REPR_MAX:
        text = text[:_VALUE_REPR_MAX - 3] + '...'
    return text


class Checker(object):
    """Walks values against ``Field`` descriptions and reports to ``report``."""

    def __init__(self, report):
        self.report = report

    def clean(self, value, field, path):
        if value is None and (field.nullable or not field.required):
            return None
        if value is None or value is _MISSING:
            self.report.add(path, None, 'is required', 'set it (see docs/INVENTORY.md)')
            return INVALID
        value = self._coerce(value, field, path)
        if value is INVALID:
            return INVALID
        if field.kind == 'dict' and field.fields is not None:
            return self._clean_mapping(value, field.fields, path)
        if field.kind == 'dict' and (field.keys is not None or field.values is not None):
            return self._clean_entries(value, field, path)
        if field.kind == 'list':
            return self._clean_list(value, field, path)
        if self._scalar_problem(value, field, path):
            return INVALID
        for check in field.checks:
            problem = check(value)
            if problem:
                self.report.add(path, value, problem[0], problem[1], secret=field.secret)
                return INVALID
        return value

    def clean_mapping(self, value, fields, path):
        """Check a mapping of ``fields``: unknown keys (with the closest known one), required keys, each value."""
        if not isinstance(value, dict):
            what, fix = _KIND_FIX['dict']
            self.report.add(path, value, what, fix)
            return INVALID
        return self._clean_mapping(value, fields, path)

    def _clean_mapping(self, value, fields, path):
        cleaned = {}
        for key in value:
            if key not in fields:
                self._unknown_key(path, key, value[key], fields)
        for key, field in fields.items():
            item = value.get(key, _MISSING)
            if item is _MISSING and field.default is not _MISSING:
                cleaned[key] = field.default
                continue
            if item is _MISSING and not field.required:
                continue
            result = self.clean(item, field, '%s.%s' % (path, key))
            if result is not INVALID:
                cleaned[key] = result
        return cleaned

    def _clean_entries(self, value, field, path):
        """A mapping of any keys: each key against ``field.keys``, each value against ``field.values``."""
        cleaned = {}
        for key in sorted(value, key=str):
            entry = '%s[%r]' % (path, key)
            if field.keys is not None and self.clean(key, field.keys, entry + ' (the key)') is INVALID:
                continue
            item = self.clean(value[key], field.values, entry) if field.values is not None else value[key]
            if item is not INVALID:
                cleaned[key] = item
        return cleaned

    def _unknown_key(self, path, key, value, fields):
        suggestion = closest(key, fields)
        if suggestion:
            fix = 'did you mean %r? rename the key to %r' % (suggestion, suggestion)
        else:
            fix = 'remove it; known keys: %s' % ', '.join(sorted(fields))
        secret = _looks_secret(key) or suggestion in SECRET_KEYS
        self.report.add('%s.%s' % (path, key), value, 'unknown key', fix, secret=secret)

    def _clean_list(self, value, field, path):
        if len(value) < field.min_items:
            self.report.add(path, value, 'needs at least %d item(s)' % field.min_items, 'add the missing item(s)')
            return INVALID
        if len(value) > 1000:
            self.report.add(path, '<%d items>' % len(value), 'has too many items', 'keep it under 1000 items')
            return INVALID
        cleaned = []
        for index, item in enumerate(value):
            result = self.clean(item, field.items, '%s[%d]' % (path, index)) if field.items else item
            if result is not INVALID:
                cleaned.append(result)
        for check in field.checks:
            problem = check(cleaned)
            if problem:
                self.report.add(path, value, problem[0], problem[1])
        return cleaned

    def _coerce(self, value, field, path):
        kind = field.kind
        if kind == 'bool' and isinstance(value, str) and value.lower() in _BOOLEAN_WORDS:
            return _BOOLEAN_WORDS[value.lower()]      # -e name=true on the command line gives a string
        ok = {
            'str': lambda v: isinstance(v, str),
            'int': lambda v: isinstance(v, int) and not isinstance(v, bool),
            'number': lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
            'bool': lambda v: isinstance(v, bool),
            'dict': lambda v: isinstance(v, dict),
            'list': lambda v: isinstance(v, list),
            'date': lambda v: isinstance(v, (datetime.date, str)),
            'raw': lambda v: True,
        }[kind](value)
        if not ok:
            what, fix = _KIND_FIX[kind]
            self.report.add(path, value, what, fix, secret=field.secret)
            return INVALID
        if kind == 'date' and isinstance(value, str):
            try:
                return datetime.date.fromisoformat(value)
            except ValueError:
                what, fix = _KIND_FIX['date']
                self.report.add(path, value, what, fix)
                return INVALID
        return value

    def _scalar_problem(self, value, field, path):
        problem = _choice_problem(value, field) or _bound_problem(value, field) or _text_problem(value, field)
        if problem:
            self.report.add(path, value, problem[0], problem[1], secret=field.secret)
        return bool(problem)


def _looks_secret(key):
    return bool(_SECRET_NAME.search(str(key)))


def _choice_problem(value, field):
    if field.choices is None or value in field.choices:
        return None
    choices = [str(c) for c in field.choices]
    suggestions = sorted(difflib.get_close_matches(value, choices, n=3, cutoff=0.75)) if isinstance(value, str) else []
    if not suggestions and isinstance(value, str):
        suggestions = [s for s in [closest(value, choices)] if s]
    fix = 'use one of: %s' % ', '.join(choices)
    if suggestions:
        fix = 'did you mean %s? %s' % (' or '.join(repr(s) for s in suggestions), fix)
    return 'is not an allowed value', fix


def _bound_problem(value, field):
    if field.kind not in ('int', 'number'):
        return None
    if field.positive and value <= 0:
        return 'must be greater than 0', 'give a positive value'
    if field.minimum is not None and value < field.minimum:
        return 'is below the minimum %s' % field.minimum, 'give a value of at least %s' % field.minimum
    if field.maximum is not None and value > field.maximum:
        return 'is above the maximum %s' % field.maximum, 'give a value of at most %s' % field.maximum
    return None


def _text_problem(value, field):
    if field.kind != 'str':
        return None
    if len(value) > field.max_len:
        return 'is %d characters long, the limit is %d' % (len(value), field.max_len), 'shorten it'
    if field.secret or not field.text:
        return None
    return injection_problem(value)


def injection_problem(value):
    """Control characters, invisible format characters or template/shell metacharacters that have no business in
    inventory text."""
    if _CONTROL.search(value):
        return 'contains a control character', 'remove line breaks, tabs and other control characters'
    hidden = invisible_characters(value)
    if hidden:
        return ('contains the invisible character(s) %s (they make a name read differently from what it is)' % ', '.join(hidden),
                'retype the value without them (copying from documents or chat often brings them in)')
    for token in _TEMPLATE_OR_SHELL:
        if token in value:
            return 'contains %r (template or shell syntax)' % token, 'remove it: inventory text is never executed or templated'
    return None


def invisible_characters(value):
    """The code points of ``value`` that render as nothing or reorder text: Unicode format characters (bidi overrides such
    as U+202E, zero-width spaces and joiners, the BOM), private-use and unassigned code points, as ``U+XXXX``."""
    found = []
    for char in value:
        if unicodedata.category(char) in ('Cf', 'Co', 'Cs', 'Cn') and 'U+%04X' % ord(char) not in found:
            found.append('U+%04X' % ord(char))
    return found


def no_semicolon(value):
    """Names end up in certificates, URLs and shell-adjacent tools: refuse a command separator."""
    if ';' in value or '|' in value or '&&' in value:
        return 'contains a command separator', 'remove ";", "|" and "&&" from the name'
    return None


def pattern_check(regex, what, fix):
    compiled = re.compile(regex)

    def _check(value):
        return None if compiled.match(value) else (what, fix)
    return _check


def ip_address_problem(value):
    if not HAS_NETADDR:
        return 'cannot be checked', 'install the Python package netaddr on the controller'
    try:
        netaddr.IPAddress(value, flags=netaddr.INET_PTON)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return 'is not an IP address', 'give an address such as 192.168.10.1'
    return None


def hostname_problem(value):
    """None when ``value`` is an IP address or a valid DNS hostname."""
    if ip_address_problem(value) is None:
        return None
    name = value[:-1] if value.endswith('.') else value
    if 0 < len(name) <= 253 and all(_HOSTNAME_LABEL.match(label) for label in name.split('.')):
        return None
    return 'is neither an IP address nor a valid hostname', 'give an IP address or a hostname such as pool.ntp.org'


def interface_problem(value):
    """An IPv4 address with prefix length, e.g. 192.168.10.21/24."""
    if not HAS_NETADDR:
        return 'cannot be checked', 'install the Python package netaddr on the controller'
    if '/' not in value:
        return 'has no prefix length', 'write address/prefix, for example 192.168.10.21/24'
    address = value.partition('/')[0]
    try:
        netaddr.IPAddress(address, flags=netaddr.INET_PTON)
        interface = netaddr.IPNetwork(value)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return 'is not an IPv4 address/prefix', 'write address/prefix, for example 192.168.10.21/24'
    if interface.version != 4:
        return 'is not IPv4', 'give an IPv4 address/prefix'
    if interface.prefixlen < 31 and interface.ip in (interface.network, interface.broadcast):
        return 'is the network or broadcast address of its prefix', 'give a host address inside the prefix'
    return None


def gateway_problem(interface, gateway):
    """The gateway must lie inside the interface's prefix and differ from the interface address."""
    network = netaddr.IPNetwork(interface)
    address = netaddr.IPAddress(gateway)
    if address not in network:
        return 'is outside %s' % network.cidr, 'give a gateway inside %s or fix the prefix length' % network.cidr
    if address == network.ip:
        return 'is the station\'s own address', 'give the router\'s address'
    return None
