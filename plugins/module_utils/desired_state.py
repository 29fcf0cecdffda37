# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The desired state of a charger, built from inventory data and validated before anything changes.

Inputs per host (docs/INVENTORY.md): ``evcs_station`` (host_vars), ``evcs_site``, ``evcs_network`` and
``evcs_ocpp`` (site group_vars), ``evcs_environment``, ``evcs_production_confirmed``, ``evcs_csms``,
``evcs_vault`` and ``evcs_environment_rules`` (group_vars/all).

``load_station(host, host_vars)`` returns ``(station, problems)``. ``station`` is ONE plain dict per charger,
the model every later role consumes:

``host``, ``station_id`` (default: the host name), ``state`` (present|absent), ``environment``,
``serial_number``, ``vendor``, ``model``, ``firmware_version``, ``security_profile`` (1..3), ``ocpp_version``
(``1.6`` | ``2.0.1``: the station's, else its site's, else 2.0.1),
``ocpp_endpoint`` (``evcs_csms.ws_urls[security_profile]``; the station connects to ``<ocpp_endpoint>/<station_id>``),
``evses`` [{``id``, ``max_current_a``, ``phases``, ``voltage_v``, ``connectors`` [{``id``, ``type``, ``format``,
``max_current_a``}]}], ``network`` (``evcs_network`` deep-merged under the station's ``network``), ``ocpp``
(``OCPP_DEFAULTS`` < ``evcs_ocpp`` < the station's ``ocpp``), ``load_management`` {``max_current_a`` (default: sum
of the EVSE ratings), ``priority``}, ``tariff_id`` and ``access`` (default: the site's), ``firmware_channel``,
``monitoring``, ``asset``, ``site`` (the validated ``evcs_site``), ``csms`` and ``vault`` (the validated
connection settings, secrets included). ``public_station(station)`` is the same without secrets, csms or vault.

``check_inventory(data)`` validates a whole fleet (``{host: host_vars}``): every host, then the fleet rules
(unique station ids and serials, the site power cap, one environment per run).
"""

from __future__ import annotations

import copy
import datetime
import difflib

from ansible_collections.evcs.provisioning.plugins.module_utils._validation import (
    INVALID, MASK, MAX_TEXT, Checker, Field, Report, closest, gateway_problem, hostname_problem, interface_problem,
    ip_address_problem, no_semicolon, pattern_check, plain, secret_values, strip_secrets,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CsmsError
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.connection import backend_options
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.registry import backend_class, backend_names
from ansible_collections.evcs.provisioning.plugins.module_utils.desired.connector_types import (
    CONNECTOR_TYPES, MAX_AC_PHASE_VOLTAGE, current_kind,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.desired.ocpp_settings import OCPP_DEFAULTS, OCPP_SETTINGS
from ansible_collections.evcs.provisioning.plugins.module_utils.station.monitoring import MONITOR_TYPES
from ansible_collections.evcs.provisioning.plugins.module_utils.station import security16
from ansible_collections.evcs.provisioning.plugins.module_utils.station.protocol import DEFAULT_OCPP_VERSION, OCPP_VERSIONS
from ansible_collections.evcs.provisioning.plugins.module_utils.station import configuration_keys
from ansible_collections.evcs.provisioning.plugins.module_utils.station.models import (
    LOGGING_LEVELS, ModelError, available_models, load_model, model_name, unmapped_logging, unmapped_settings,
)

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit  # type: ignore

try:
    import zoneinfo
    _TIMEZONES = frozenset(zoneinfo.available_timezones())
except ImportError:  # pragma: no cover - Python < 3.9 on a target
    _TIMEZONES = frozenset()


ID_TOKEN_TYPES = ('Central', 'eMAID', 'ISO14443', 'ISO15693', 'KeyCode', 'Local', 'MacAddress', 'NoAuthorization')
AUTHORIZATION_STATUSES = ('Accepted', 'Blocked', 'ConcurrentTx', 'Expired', 'Invalid', 'NoCredit',
                          'NotAllowedTypeEVSE', 'NotAtThisLocation', 'NotAtThisTime', 'Unknown')
VPN_TYPES = ('IKEv2', 'IPSec', 'L2TP', 'PPTP')

NETWORK_DEFAULTS = {'mode': 'ethernet', 'addressing': 'dhcp'}

_STATION_ID = pattern_check(r'^(?!\.)(?!.*\.\.)[A-Za-z0-9._-]{1,36}$', 'is not a valid station id',
                            'use 1..36 characters from A-Z a-z 0-9 . _ -, not starting with "." and without ".." '
                            '(it becomes the certificate CN, a URL path segment and a Vault KV path)')
_SERIAL = pattern_check(r'^[A-Za-z0-9._/-]{1,25}$', 'is not a valid serial number',
                        'use 1..25 characters from A-Z a-z 0-9 . _ / - (OCPP serialNumber is string[0..25])')
_SITE_ID = pattern_check(r'^[a-z0-9](?:[a-z0-9-]{0,34}[a-z0-9])?$', 'is not a valid site id',
                         'use 1..36 lowercase letters, digits and "-", not starting or ending with "-"')
_ICCID = pattern_check(r'^[0-9]{19,20}$', 'is not a valid ICCID', 'give the SIM\'s 19 or 20 digits, in quotes')
#: 3GPP TS 23.003 9.1: an APN is at most 100 octets
APN_MAX_LENGTH = 100


def _luhn_ok(digits):
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _iccid_check_digit(value):
    """ITU-T E.118: the last digit of an ICCID is a Luhn check digit over the others."""
    if _luhn_ok(value):
        return None
    return ('fails the Luhn check of its last digit (ITU-T E.118)',
            'copy the ICCID again from the SIM card or its carrier: one digit is wrong or two are swapped')


_COUNTRY = pattern_check(r'^[A-Z]{2}$', 'is not an ISO 3166-1 alpha-2 country code', 'write two capital letters, e.g. DE')
_CURRENCY = pattern_check(r'^[A-Z]{3}$', 'is not an ISO 4217 currency code', 'write three capital letters, e.g. EUR')
_PKI_ROLE = pattern_check(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$', 'is not a PKI role name',
                          'give the name of a PKI role of evcs_vault.pki_mount that issues this organization as the '
                          'subject O (letters, digits, ".", "_", "-")')
_OCPP_NAME = pattern_check(r'^[A-Za-z0-9*_.:+|@-]{1,50}$', 'is not an OCPP identifier',
                           'use the component or variable name as the station reports it (letters, digits, . _ - * : + | @)')
_ENVIRONMENT = pattern_check(r'^[a-z0-9](?:[a-z0-9_-]{0,30}[a-z0-9])?$', 'is not a valid environment name',
                             'use 1..32 lowercase letters, digits, "_" and "-" (for example staging, pilot, '
                             'eu-production); it becomes part of Vault KV paths')
_TOKEN_NAME = pattern_check(r'^[a-z0-9][a-z0-9_-]{0,63}$', 'is not a valid name',
                            'use lowercase letters, digits, "_" and "-"')


def _passphrase_length(value):
    if 8 <= len(value) <= 63:
        return None
    return 'must be 8 to 63 characters long (WPA2)', 'choose a passphrase of 8 to 63 characters'


def _timezone(value):
    if not _TIMEZONES or value in _TIMEZONES:
        return None
    suggestion = closest(value, _TIMEZONES)
    return 'is not an IANA time zone', ('did you mean %r?' % suggestion) if suggestion else 'use a name such as Europe/Berlin'


def _https_url(value):
    parts = urlsplit(value)
    if parts.scheme != 'https' or not parts.hostname:
        return 'is not an https URL', 'write https://host[:port]'
    return None


def _csms_api_url(value):
    """https, or http on loopback only (a CSMS whose API listens on the controller's own host, as CitrineOS does
    behind no TLS proxy in the lab)."""
    parts = urlsplit(value)
    if parts.scheme == 'http' and parts.hostname in ('127.0.0.1', 'localhost', '::1'):
        return None
    return _https_url(value)


def _unique_ids(what):
    def _check(items):
        ids = [item.get('id') for item in items]
        if sorted(ids) != list(range(1, len(ids) + 1)):
            return '%s ids are %s' % (what, ids), 'number the %ss 1, 2, 3... without gaps or repeats (OCPP requires it)' % what
        return None
    return _check


def _unique_tokens(items):
    tokens = [item.get('id_token') for item in items]
    duplicates = sorted(set(t for t in tokens if tokens.count(t) > 1))
    if duplicates:
        return 'lists id_token %s more than once' % ', '.join(duplicates), 'keep one entry per id_token'
    return None


def _name(max_len=MAX_TEXT, required=False, **kwargs):
    return Field('str', required=required, max_len=max_len, checks=(no_semicolon,) + tuple(kwargs.pop('checks', ())), **kwargs)


def _text(max_len=MAX_TEXT, required=False, **kwargs):
    return Field('str', required=required, max_len=max_len, **kwargs)


def _secret(max_len=MAX_TEXT, required=False, **kwargs):
    return Field('str', required=required, max_len=max_len, secret=True, **kwargs)


def _current(required=True):
    return Field('number', required=required, positive=True, maximum=2000)


def _dict(fields, required=False, **kwargs):
    return Field('dict', required=required, fields=fields, **kwargs)


def _list(items, required=False, **kwargs):
    return Field('list', required=required, items=items, **kwargs)


_CONNECTOR = _dict({
    'id': Field('int', required=True, minimum=1),
    'type': Field('str', required=True, choices=CONNECTOR_TYPES),
    'format': Field('str', required=True, choices=('Socket', 'Cable')),
    'max_current_a': _current(),
})
_EVSE = _dict({
    'id': Field('int', required=True, minimum=1),
    'max_current_a': _current(),
    'phases': Field('int', required=True, choices=(1, 3)),
    'voltage_v': Field('number', default=230, positive=True, maximum=1000),
    'connectors': _list(_CONNECTOR, required=True, min_items=1, checks=(_unique_ids('connector'),)),
})
NETWORK_FIELDS = {
    'mode': Field('str', required=True, choices=('ethernet', 'wifi', 'cellular')),
    'addressing': Field('str', required=True, choices=('dhcp', 'static')),
    'ipv4': _dict({'address': _text(checks=(interface_problem,)), 'gateway': _text(checks=(ip_address_problem,))}),
    'dns': _list(_text(checks=(ip_address_problem,))),
    'ntp': _list(_text(max_len=253, checks=(hostname_problem,))),
    'wifi': _dict({'ssid': _text(max_len=32, required=True), 'passphrase': _secret(required=True, checks=(_passphrase_length,))}),
    'cellular': _dict({
        'apn': _text(max_len=APN_MAX_LENGTH, checks=(hostname_problem,)),
        'username': _text(max_len=20),
        'password': _secret(max_len=20),
        'pin': _secret(max_len=8, checks=(pattern_check(r'^[0-9]{4,8}$', 'is not a SIM PIN', 'give its 4 to 8 digits, in quotes'),)),
        'iccid': _text(max_len=20, checks=(_ICCID, _iccid_check_digit)),
        'preferred_network': _text(max_len=6, checks=(pattern_check(r'^[0-9]{5,6}$', 'is not a network code',
                                                                    'give the MCC and MNC digits, e.g. 26201'),)),
        'use_only_preferred_network': Field('bool'),
        'authentication': Field('str', choices=('CHAP', 'NONE', 'PAP', 'AUTO')),
    }),
    'vpn': _dict({
        'enabled': Field('bool', default=False),
        'type': Field('str', choices=VPN_TYPES),
        'server': _text(max_len=512, checks=(hostname_problem,)),
        'group': _text(max_len=50),
        'username': _text(max_len=20),
        'password': _secret(max_len=20),
        'key': _secret(max_len=255),
    }),
}
#: the OCPP settings, from the one table (desired/ocpp_settings.py): a setting with a default is always there
OCPP_FIELDS = dict(
    (setting.key, Field(setting.field.kind, required=setting.default is not None, minimum=setting.field.minimum,
                        maximum=setting.field.maximum, items=setting.field.items, choices=setting.field.choices))
    for setting in OCPP_SETTINGS)
#: one variable monitor of the station (OCPP 2.0.1 SetMonitoringDataType); severity 0 (Danger) .. 9 (Debug)
_MONITOR = _dict({
    'component': _dict({'name': _text(max_len=50, required=True, checks=(_OCPP_NAME,)), 'instance': _text(max_len=50),
                        'evse': Field('int', minimum=1), 'connector': Field('int', minimum=1)}, required=True),
    'variable': _dict({'name': _text(max_len=50, required=True, checks=(_OCPP_NAME,)), 'instance': _text(max_len=50)},
                      required=True),
    'type': Field('str', required=True, choices=MONITOR_TYPES),
    'value': Field('number', required=True),
    'severity': Field('int', default=5, minimum=0, maximum=9),
    'transaction': Field('bool', default=False),
})


def _unique_monitors(items):
    keys = [repr((item.get('component'), item.get('variable'), item.get('type'))) for item in items]
    if len(set(keys)) != len(keys):
        return 'declares a monitor of the same type on the same variable twice', 'keep one per component, variable and type'
    return None


STATION_FIELDS = {
    'id': _text(max_len=36, checks=(_STATION_ID,)),
    'serial_number': _text(max_len=25, required=True, checks=(_SERIAL,)),
    'vendor': _name(max_len=50, required=True),
    'model': _name(max_len=20, required=True),
    'firmware_version': _text(max_len=50),
    'station_model': _text(max_len=64),
    'security_profile': Field('int', required=True, choices=(1, 2, 3)),
    # the OCPP version the station speaks (default: its site's, else 2.0.1); docs/OCPP16.md
    'ocpp_version': Field('str', choices=tuple(sorted(OCPP_VERSIONS))),
    'evses': _list(_EVSE, required=True, min_items=1, checks=(_unique_ids('EVSE'),)),
    'network': _dict(NETWORK_FIELDS, required=True),
    'ocpp': _dict(OCPP_FIELDS, required=True),
    'load_management': _dict({'max_current_a': _current(required=False), 'priority': Field('int', default=1, minimum=0, maximum=100)}),
    'tariff_id': _text(max_len=36, nullable=True, checks=(_TOKEN_NAME,)),
    'access': Field('str', nullable=True, choices=('public', 'private', 'free')),
    'firmware_channel': Field('str', default='stable', choices=('stable', 'beta', 'pinned')),
    # the station's own log level, where its model maps one (OCPP standardizes none)
    'logging': _dict({'level': Field('str', choices=LOGGING_LEVELS)}),
    'monitoring': _dict({'alerts': Field('bool', default=True), 'offline_alert_after_s': Field('int', default=900, minimum=60),
                         'monitors': _list(_MONITOR, checks=(_unique_monitors,))}),
    'asset': _dict({'installer': _name(max_len=100), 'installation_date': Field('date'), 'warranty_start': Field('date'),
                    'warranty_end': Field('date')}),
    'state': Field('str', default='present', choices=('present', 'absent')),
}
SITE_FIELDS = {
    'id': _text(max_len=36, required=True, checks=(_SITE_ID,)),
    'name': _name(max_len=100, required=True),
    'address': _dict({
        'street': _name(max_len=100, required=True), 'city': _name(max_len=50, required=True),
        'postal_code': _name(max_len=20, required=True), 'country': _text(required=True, checks=(_COUNTRY,)),
    }, required=True),
    'coordinates': _dict({'latitude': Field('number', required=True, minimum=-90, maximum=90),
                          'longitude': Field('number', required=True, minimum=-180, maximum=180)}),
    'timezone': _text(max_len=64, default='UTC', checks=(_timezone,)),
    'operator': _dict({'name': _name(max_len=100, required=True), 'organization': _name(max_len=64, required=True)}, required=True),
    'grid_connection': _dict({'max_current_a': _current(), 'phases': Field('int', required=True, choices=(1, 3)),
                              'voltage_v': Field('number', default=230, positive=True, maximum=1000)}, required=True),
    'load_management_group': _text(max_len=64, nullable=True, checks=(_TOKEN_NAME,)),
    'tariff': _dict({
        'id': _text(max_len=36, required=True, checks=(_TOKEN_NAME,)), 'currency': _text(required=True, checks=(_CURRENCY,)),
        'price_per_kwh': Field('number', default=0.0, minimum=0), 'price_per_minute': Field('number', default=0.0, minimum=0),
        'session_fee': Field('number', default=0.0, minimum=0),
    }),
    'id_tokens': _list(_dict({
        'id_token': _name(max_len=36, required=True), 'type': Field('str', required=True, choices=ID_TOKEN_TYPES),
        'status': Field('str', default='Accepted', choices=AUTHORIZATION_STATUSES),
    }), default=[], checks=(_unique_tokens,)),
    'access': Field('str', default='public', choices=('public', 'private', 'free')),
    'station_model': _text(max_len=64),
    'ocpp_version': Field('str', choices=tuple(sorted(OCPP_VERSIONS))),
}
CSMS_FIELDS = {
    # the registered backends (csms/registry.py); their own settings go in ``options`` (checked against the
    # backend's OPTIONS by _check_csms_backend)
    'backend': Field('str', default=backend_names()[0], choices=tuple(backend_names())),
    'options': Field('dict', default={}),
    'url': _text(required=True, checks=(_csms_api_url,)),
    # required by the reference backend (_check_csms_backend names it when missing); other backends may need none
    'token': _secret(),
    'ca_path': _text(),
    'validate_certs': Field('bool', default=True),
    'ws_urls': Field('dict', required=True),
    'root_ca_path': _text(),
    'staging_password': _secret(),
}
VAULT_FIELDS = {
    'url': _text(required=True, checks=(_https_url,)),
    'ca_path': _text(),
    'validate_certs': Field('bool', default=True),
    'auth_method': Field('str', default='approle', choices=('token', 'approle', 'cert')),
    'role_id': _secret(),
    'secret_id': _secret(),
    'token': _secret(),
    # VAULT_TOKEN/BAO_TOKEN from the environment are used only when this is true
    'token_from_env': Field('bool', default=False),
    'cert_path': _text(),
    'key_path': _text(),
    'approle_mount': _text(max_len=64, default='approle'),
    'pki_mount': _text(max_len=64, required=True),
    'pki_root_mount': _text(max_len=64),
    'station_role': _text(max_len=64, default='charging-station'),
    # operator organization -> the PKI role that issues it as the subject O (a role fixes O); station_role otherwise
    'station_roles': Field('dict', keys=_name(max_len=64, required=True),
                           values=_text(max_len=64, required=True, checks=(_PKI_ROLE,))),
    'csms_role': _text(max_len=64),
    'kv_mount': _text(max_len=64, default='secret'),
    'organization': _name(max_len=64),
}
RULES_FIELDS = {
    'csms_hosts': _list(_text(max_len=253), required=True, min_items=1),
    'vault_hosts': _list(_text(max_len=253), required=True, min_items=1),
    'vault_pki_mounts': _list(_text(max_len=64), required=True, min_items=1),
    'issuer_common_names': _list(_text(max_len=64), default=[]),
}
#: every top-level variable the model reads, and its description
VARIABLES = {
    'evcs_station': _dict(STATION_FIELDS, required=True),
    'evcs_site': _dict(SITE_FIELDS, required=True),
    'evcs_network': Field('dict', default={}),
    'evcs_ocpp': Field('dict', default={}),
    'evcs_environment': Field('str', required=True, checks=(_ENVIRONMENT,)),
    # whether this environment is production (its writing runs need evcs_production_confirmed): the inventory says so,
    # the environment's name does not decide it
    'evcs_environment_production': Field('bool'),
    'evcs_production_confirmed': Field('bool', default=False),
    # send passwords and APN/VPN secrets to security-profile-1 (ws://) stations (audited); lab benches only
    'evcs_allow_plaintext_secrets': Field('bool', default=False),
    'evcs_csms': _dict(CSMS_FIELDS, required=True),
    'evcs_vault': _dict(VAULT_FIELDS, required=True),
    'evcs_environment_rules': _dict(RULES_FIELDS, required=True),
    # the identity role's renewal settings, when the inventory overrides them (roles/identity/defaults)
    'identity_renew_before': Field('int', minimum=0, maximum=3650, default=None),
    'identity_ttl': Field('str', max_len=32, default=None),
    'evcs_station_model_dirs': _list(_text(), default=[]),
}
#: how close the part after ``evcs_`` must be to a known variable's to count as a typo of it
_TYPO_RATIO = 0.8
#: the identity role's default renew_before (days) when the inventory does not set it
_DEFAULT_RENEW_BEFORE = 30


class UnreadableVariable(object):
    """Stands in for a variable whose template could not be rendered (an undefined name, a failing lookup)."""

    def __init__(self, error):
        self.error = error


def deep_merge(base, override):
    """``override`` merged over ``base`` (mappings recursively; anything else replaces)."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return copy.deepcopy(override)
    merged = copy.deepcopy(base)
    for key, value in override.items():
        merged[key] = deep_merge(merged.get(key), value) if isinstance(merged.get(key), dict) else copy.deepcopy(value)
    return merged


def misspelt_variable(name):
    """The inventory variable that ``name`` (an ``evcs_*`` name the model does not read) looks like a typo of, or None.

    Only close matches of the part after ``evcs_`` count (``evcs_netwrok``, ``evcs_sites``): the playbooks' own run
    options (``evcs_batch_size``, ``evcs_move_to_site``, ...) are not typos of inventory variables."""
    if not name.startswith('evcs_') or name in VARIABLES:
        return None
    best, best_ratio = None, _TYPO_RATIO
    for known in VARIABLES:
        if known.startswith('evcs_'):
            ratio = difflib.SequenceMatcher(None, name[5:], known[5:]).ratio()
            if ratio >= best_ratio:
                best, best_ratio = known, ratio
    return best


def load_station(host, host_vars):
    """Validate one host's variables into its desired state: ``(station or None, [problem, ...])``."""
    misspelt = sorted((name, misspelt_variable(name)) for name in host_vars if misspelt_variable(name))
    host_vars = dict((name, _read(host_vars, name)) for name in VARIABLES)
    report = Report(host, secret_values(dict((k, v) for k, v in host_vars.items() if not isinstance(v, UnreadableVariable))))
    for name, known in misspelt:
        report.add(name, '<%s>' % name, 'is not an inventory variable, so its settings would be silently ignored',
                   'did you mean %s? rename the variable (in group_vars or host_vars) to %s' % (known, known))
    for name, value in host_vars.items():
        if isinstance(value, UnreadableVariable):
            report.add(name, '<template>', 'cannot be read: %s' % value.error,
                       'define the variables it refers to (for the lab: run "evcs-lab up" or point EVCS_LAB_HOME at the lab)')
            host_vars[name] = None
    values = _clean_variables(host, host_vars, report)
    if values is None:
        return None, report.problems
    values['_declared_ocpp'] = _declared_ocpp(host_vars)
    station = _build(host, values)
    _cross_check(station, values, report)
    return station, report.problems


def _read(host_vars, name):
    value = host_vars.get(name)
    return value if isinstance(value, UnreadableVariable) else plain(value)


def _clean_variables(host, host_vars, report):
    checker = Checker(report)
    station = host_vars.get('evcs_station')
    if isinstance(station, dict):
        station = dict(station)
        station['network'] = _merged_section(NETWORK_DEFAULTS, host_vars.get('evcs_network'), station.get('network'))
        station['ocpp'] = _merged_section(OCPP_DEFAULTS, host_vars.get('evcs_ocpp'), station.get('ocpp'))
        station = _version_text(station)
        host_vars = dict(host_vars, evcs_station=station)
    if isinstance(host_vars.get('evcs_site'), dict):
        host_vars = dict(host_vars, evcs_site=_version_text(host_vars['evcs_site']))
    values = {}
    for name, field in VARIABLES.items():
        if report.has(name):
            values[name] = INVALID
            continue
        value = host_vars.get(name)
        if value is None and field.default is not None and not field.required:
            values[name] = copy.deepcopy(field.default)
            continue
        values[name] = checker.clean(value, field, name)
    if any(values[name] is INVALID or values[name] is None for name in ('evcs_station', 'evcs_site')):
        return None
    return values


def _version_text(section):
    """``ocpp_version: 1.6`` unquoted is a YAML float: read it as the text it was meant to be."""
    if isinstance(section.get('ocpp_version'), float) and not isinstance(section.get('ocpp_version'), bool):
        return dict(section, ocpp_version=repr(section['ocpp_version']))
    return section


def _declared_ocpp(host_vars):
    """The OCPP settings the station itself declares (``evcs_station.ocpp``), without the defaults and the site's."""
    station = host_vars.get('evcs_station')
    declared = station.get('ocpp') if isinstance(station, dict) else None
    return dict(declared) if isinstance(declared, dict) else {}


def _merged_section(defaults, site_defaults, station_section):
    merged = deep_merge(defaults, site_defaults) if isinstance(site_defaults, dict) else dict(defaults)
    if station_section is None:
        return merged
    return deep_merge(merged, station_section) if isinstance(station_section, dict) else station_section


def _valid(values, name):
    value = values.get(name)
    return {} if value is INVALID or value is None else value


def _build(host, values):
    source = values['evcs_station']
    site = values['evcs_site']
    csms = _valid(values, 'evcs_csms')
    evses = source.get('evses', [])
    station = dict(
        host=host,
        station_id=source.get('id') or host,
        state=source.get('state', 'present'),
        environment=values.get('evcs_environment') if values.get('evcs_environment') is not INVALID else None,
        serial_number=source.get('serial_number'),
        vendor=source.get('vendor'),
        model=source.get('model'),
        firmware_version=source.get('firmware_version'),
        station_model=source.get('station_model'),
        security_profile=source.get('security_profile'),
        ocpp_version=source.get('ocpp_version') or site.get('ocpp_version') or DEFAULT_OCPP_VERSION,
        ocpp_endpoint=_ws_url(csms, source.get('security_profile')),
        evses=evses,
        network=source.get('network', {}),
        ocpp=source.get('ocpp', {}),
        load_management=dict(source.get('load_management') or {}),
        tariff_id=source.get('tariff_id') or (site.get('tariff') or {}).get('id'),
        access=source.get('access') or site.get('access'),
        firmware_channel=source.get('firmware_channel', 'stable'),
        logging=dict(source.get('logging') or {}),
        monitoring=source.get('monitoring') or {'alerts': True, 'offline_alert_after_s': 900},
        asset=source.get('asset') or {},
        site=site,
        csms=csms,
        vault=_valid(values, 'evcs_vault'),
    )
    station['load_management'].setdefault('priority', 1)
    station['load_management'].setdefault('max_current_a', sum(evse.get('max_current_a', 0) for evse in evses))
    return station


def _ws_url(csms, profile):
    urls = csms.get('ws_urls') or {}
    return urls.get(profile, urls.get(str(profile))) if profile else None


def public_station(station):
    """The station's desired state without secrets and without the environment's connection settings."""
    view = dict((key, value) for key, value in station.items() if key not in ('csms', 'vault'))
    view = strip_secrets(copy.deepcopy(view))
    for key in ('asset',):
        view[key] = dict((k, v.isoformat() if hasattr(v, 'isoformat') else v) for k, v in view[key].items())
    return view


# -- rules across fields -------------------------------------------------------------------------------------------

def _cross_check(station, values, report):
    for rule in (_check_evses, _check_station_model, _check_ocpp_version, _check_network, _check_site_fit, _check_tariff, _check_asset,
                 _check_renewal, _check_csms, _check_csms_backend, _check_vault, _check_environment,
                 _check_security16):
        rule(station, values, report)


def _check_security16(station, values, report):
    """An OCPP 1.6 station on profile 3: its serial number is its certificate's CN (station/security16.py)."""
    if report.has('evcs_station.serial_number'):
        return
    for path, value, what, fix in security16.inventory_problems(station):
        report.add(path, value, what, fix)


def _is_production(values):
    """Whether the inventory says its environment is production (evcs_environment_production)."""
    return values.get('evcs_environment_production') is True


def _check_station_model(station, values, report):
    """The station's model exists, and it can set every non-standard network setting the inventory declares."""
    if any(report.has('evcs_station.' + key) for key in ('vendor', 'model', 'firmware_version', 'station_model')):
        return
    dirs = values.get('evcs_station_model_dirs')
    dirs = [] if dirs is INVALID or dirs is None else dirs
    try:
        name = model_name(station, station['site'], dirs)
        model = load_model(name, dirs)
    except ModelError as error:
        named = values['evcs_station'].get('station_model')
        path = 'evcs_station.station_model' if named else 'evcs_site.station_model'
        report.add(path, named or station['site'].get('station_model'), str(error),
                   'name one of %s, or add the model file to a directory of evcs_station_model_dirs (playbooks/'
                   'gather.yml writes a starting one)' % ', '.join(sorted(available_models(dirs))))
        return
    station['station_model'] = name
    for field, value, why in unmapped_settings(station['network'], model) + unmapped_logging(station.get('logging'), model):
        secret = field.endswith(('passphrase', 'password'))
        report.add('evcs_station.' + field, value, why,
                   'set it on the station locally and remove it from the inventory, or select a station model that '
                   'maps it (evcs_station.station_model; playbooks/gather.yml writes a starting model file)',
                   secret=secret)


def _version_path(values):
    if not values['evcs_station'].get('ocpp_version') and (values.get('evcs_site') or {}).get('ocpp_version'):
        return 'evcs_site.ocpp_version'
    return 'evcs_station.ocpp_version'


def _check_ocpp_version(station, values, report):
    """The station's model speaks its OCPP version; on a 1.6 station every OCPP setting it declares has a 1.6 key."""
    if report.has('evcs_station.ocpp_version') or report.has('evcs_site.ocpp_version') or not station.get('station_model'):
        return
    dirs = values.get('evcs_station_model_dirs')
    try:
        model = load_model(station['station_model'], [] if dirs is INVALID or dirs is None else dirs)
    except ModelError:
        return  # reported by _check_station_model
    version = station['ocpp_version']
    if model['ocpp_version'] != version:
        report.add(_version_path(values), version,
                   'station model %s describes OCPP %s stations' % (model['name'], model['ocpp_version']),
                   'set evcs_station.ocpp_version: "%s" if the station speaks it, or select its OCPP %s model '
                   '(evcs_station.station_model; %s)' % (model['ocpp_version'], version,
                                                         'generic-16' if version == '1.6' else 'generic'))
        return
    if version != '1.6':
        return
    monitors = (station.get('monitoring') or {}).get('monitors')
    if monitors:
        report.add('evcs_station.monitoring.monitors', '<%d monitors>' % len(monitors),
                   'variable monitors (SetVariableMonitoring) do not exist in OCPP 1.6',
                   'remove them for this OCPP 1.6 station (the CSMS\'s alerting, monitoring.alerts, still applies)')
    for key, value, why in configuration_keys.unmapped_settings(values.get('_declared_ocpp') or {}, model):
        report.add('evcs_station.ocpp.' + key, value, why,
                   'remove it from the station\'s ocpp settings (OCPP 1.6 cannot set it; docs/OCPP16.md), or map it to '
                   'a key in the station model\'s configuration_keys.settings')


def _check_evses(station, values, report):
    for index, evse in enumerate(station['evses']):
        rating = evse.get('max_current_a')
        for c_index, connector in enumerate(evse.get('connectors', [])):
            current = connector.get('max_current_a')
            if rating is not None and current is not None and current > rating:
                report.add('evcs_station.evses[%d].connectors[%d].max_current_a' % (index, c_index), current,
                           'exceeds the EVSE rating of %s A' % rating,
                           'lower the connector to at most %s A or raise evses[%d].max_current_a' % (rating, index))
        voltage = evse.get('voltage_v')
        ac_types = sorted(set(c.get('type') for c in evse.get('connectors', []) if current_kind(c.get('type')) == 'AC'))
        if ac_types and voltage is not None and voltage > MAX_AC_PHASE_VOLTAGE:
            report.add('evcs_station.evses[%d].voltage_v' % index, voltage,
                       'is above %d V, the highest phase-to-neutral voltage of an AC supply, and the EVSE has AC '
                       'connector(s) (%s)' % (MAX_AC_PHASE_VOLTAGE, ', '.join(ac_types)),
                       'give the phase-to-neutral voltage (230 in Europe, 120 or 277 in North America); only DC '
                       'connectors go up to 1000 V')


def _check_network(station, values, report):
    network = station['network']
    path = 'evcs_station.network'
    ipv4 = network.get('ipv4') or {}
    if network.get('addressing') == 'static':
        for key in ('address', 'gateway'):
            if not ipv4.get(key) and not report.has('%s.ipv4.%s' % (path, key)) and not report.has(path + '.ipv4'):
                report.add('%s.ipv4.%s' % (path, key), ipv4.get(key), 'is required with addressing: static',
                           'give ipv4.%s, or set addressing: dhcp' % key)
        if ipv4.get('address') and ipv4.get('gateway'):
            problem = gateway_problem(ipv4['address'], ipv4['gateway'])
            if problem:
                report.add(path + '.ipv4.gateway', ipv4['gateway'], problem[0], problem[1])
    elif network.get('addressing') == 'dhcp' and ipv4:
        report.add(path + '.ipv4', ipv4, 'is only used with addressing: static', 'remove ipv4 or set addressing: static')
    if network.get('mode') == 'wifi' and not network.get('wifi') and _model_sets(station, values, 'wifi_ssid'):
        report.add(path + '.wifi', network.get('wifi'), 'is required with mode: wifi', 'give wifi.ssid and wifi.passphrase')
    if network.get('mode') == 'cellular' and not (network.get('cellular') or {}).get('apn'):
        report.add(path + '.cellular.apn', (network.get('cellular') or {}).get('apn'), 'is required with mode: cellular',
                   'give the APN of the SIM\'s operator, for example iot.example')
    vpn = network.get('vpn') or {}
    for key in ('server', 'username', 'password', 'key', 'type'):
        if vpn.get('enabled') and not vpn.get(key) and not report.has('%s.vpn.%s' % (path, key)):
            report.add('%s.vpn.%s' % (path, key), vpn.get(key), 'is required when the VPN is enabled (SetNetworkProfile '
                       'vpn needs server, user, password, key and type)', 'give vpn.%s or set vpn.enabled: false' % key)


def _model_sets(station, values, setting):
    """Whether the station's model sets ``setting`` (True when the model is unknown: the model check reports that)."""
    if not station.get('station_model'):
        return True
    dirs = values.get('evcs_station_model_dirs')
    model = load_model(station['station_model'], [] if dirs is INVALID or dirs is None else dirs)
    return setting in model['network']['settings']


def _check_site_fit(station, values, report):
    grid = station['site'].get('grid_connection') or {}
    for index, evse in enumerate(station['evses']):
        if evse.get('phases') == 3 and grid.get('phases') == 1:
            report.add('evcs_station.evses[%d].phases' % index, 3, 'the site %r has a single-phase grid connection' % station['site'].get('id'),
                       'set phases: 1 or fix evcs_site.grid_connection.phases')
    limit = station['load_management'].get('max_current_a')
    cap = grid.get('max_current_a')
    if limit is not None and cap is not None and limit > cap:
        report.add('evcs_station.load_management.max_current_a', limit, 'exceeds the site cap of %s A' % cap,
                   'lower it to at most %s A' % cap)


def _check_tariff(station, values, report):
    """A station's tariff must be one the collection creates: its site's ``evcs_site.tariff``."""
    tariff_id = station.get('tariff_id')
    site = station['site']
    defined = (site.get('tariff') or {}).get('id')
    if tariff_id and tariff_id != defined and not report.has('evcs_station.tariff_id') and not report.has('evcs_site.tariff'):
        report.add('evcs_station.tariff_id', tariff_id,
                   'is not defined: site %r defines %s, and the collection writes only the tariffs of evcs_site.tariff'
                   % (site.get('id'), 'the tariff %r' % defined if defined else 'no tariff'),
                   'define it in evcs_site.tariff of the site group, or remove tariff_id to use the site\'s tariff')


def _check_asset(station, values, report):
    """Warranty dates in order; in production, who installed the charger and when (CSMS asset records, warranty)."""
    asset = station['asset']
    path = 'evcs_station.asset'
    if report.has(path):
        return
    installed, start, end = asset.get('installation_date'), asset.get('warranty_start'), asset.get('warranty_end')
    if installed and start and start < installed:
        report.add(path + '.warranty_start', start, 'is before the installation date %s' % installed.isoformat(),
                   'a warranty starts on or after installation: fix warranty_start or installation_date')
    if start and end and end <= start:
        report.add(path + '.warranty_end', end, 'is not after warranty_start %s' % start.isoformat(),
                   'fix warranty_end (or warranty_start) from the warranty document')
    if _is_production(values) and station.get('state') == 'present':
        for key in ('installer', 'installation_date', 'warranty_start'):
            if not asset.get(key) and not report.has('%s.%s' % (path, key)):
                report.add('%s.%s' % (path, key), asset.get(key), 'is required for a production charger',
                           'record who installed the charger and when (evcs_station.asset): the CSMS asset record and '
                           'warranty claims need it')


def _check_renewal(station, values, report):
    """identity_renew_before must be shorter than identity_ttl, or every run re-enrolls every station."""
    from ansible_collections.evcs.provisioning.plugins.module_utils import x509  # cryptography only when needed

    ttl, renew_before = values.get('identity_ttl'), values.get('identity_renew_before')
    if not ttl or ttl is INVALID or renew_before is INVALID:
        return
    lifetime = x509.vault_duration(ttl)
    if lifetime is None:
        report.add('identity_ttl', ttl, 'is not a Vault duration', 'write hours or days, for example 8760h or 365d')
        return
    days = renew_before if renew_before is not None else _DEFAULT_RENEW_BEFORE
    problem = x509.renewal_window_problem(datetime.timedelta(days=days), lifetime)
    if problem:
        report.add('identity_renew_before', days, problem,
                   'give identity_renew_before fewer days than identity_ttl (%s), for example a third of it' % ttl)


def _check_csms(station, values, report):
    csms = station['csms']
    ws_urls = csms.get('ws_urls')
    if ws_urls is None:
        return
    for key, url in sorted(ws_urls.items(), key=lambda item: str(item[0])):
        problem = _ws_url_problem(key, url)
        if problem:
            report.add('evcs_csms.ws_urls.%s' % key, url, problem[0], problem[1])
    profile = station.get('security_profile')
    if profile and not station.get('ocpp_endpoint'):
        report.add('evcs_station.security_profile', profile, 'evcs_csms.ws_urls has no URL for this profile',
                   'add evcs_csms.ws_urls.%s or choose a profile the CSMS offers (%s)' % (profile, ', '.join(str(k) for k in sorted(ws_urls, key=str))))


def _ws_url_problem(key, url):
    if str(key) not in ('1', '2', '3'):
        return 'is not a security profile', 'use the keys 1, 2 and 3'
    if not isinstance(url, str):
        return 'is not a URL', 'write ws://host:port/path (profile 1) or wss://host:port/path (2, 3)'
    scheme = 'ws' if str(key) == '1' else 'wss'
    parts = urlsplit(url)
    if parts.scheme != scheme or not parts.hostname or len(url) > 512:
        return ('security profile %s needs a %s:// URL' % (key, scheme),
                'write %s://host:port/path (profile 1 is ws://, 2 and 3 are wss://)' % scheme)
    return None


def _check_csms_backend(station, values, report):
    """What the chosen backend needs: its generic options (``REQUIRES``) and its own ``options``."""
    csms = station['csms']
    try:
        cls = backend_class(csms.get('backend'))
    except KeyError:
        return
    if 'csms_token' in cls.REQUIRES and not csms.get('token'):
        report.add('evcs_csms.token', csms.get('token'), 'is required with backend %s' % cls.NAME,
                   'set evcs_csms.token (from ansible-vault or a lookup)')
    try:
        backend_options(cls, csms.get('options'))
    except CsmsError as exc:
        report.add('evcs_csms.options', csms.get('options'), str(exc).split(': see the doc fragment', maxsplit=1)[0],
                   'see the doc fragment evcs.provisioning.csms_%s and docs/BACKENDS.md' % cls.NAME)


def _check_vault(station, values, report):
    vault = station['vault']
    needs = {'approle': ('role_id', 'secret_id'), 'token': ('token',), 'cert': ('cert_path', 'key_path')}
    method = vault.get('auth_method')
    for key in needs.get(method, ()):
        if not vault.get(key):
            report.add('evcs_vault.%s' % key, vault.get(key), 'is required with auth_method: %s' % method,
                       'set evcs_vault.%s (from ansible-vault or a lookup) or choose another auth_method' % key)


def _check_environment(station, values, report):
    environment = values.get('evcs_environment')
    rules = _valid(values, 'evcs_environment_rules')
    confirmed = values.get('evcs_production_confirmed')
    production = values.get('evcs_environment_production')
    if (production not in (True, False) and isinstance(environment, str) and 'prod' in environment
            and not report.has('evcs_environment_production')):
        report.add('evcs_environment_production', None,
                   'environment %r looks like production but the inventory does not say whether it is' % environment,
                   'set evcs_environment_production: true (writing runs then need evcs_production_confirmed) or false '
                   'in group_vars/all')
    if production is True and confirmed is not True and not report.has('evcs_production_confirmed'):
        report.add('evcs_production_confirmed', confirmed, 'a production run must be confirmed (environment %r is '
                   'production: evcs_environment_production)' % environment, 'pass -e evcs_production_confirmed=true (the apply job in CI does this)')
    if not rules or environment in (None, INVALID):
        return
    targets = [('evcs_csms.url', station['csms'].get('url'), 'csms_hosts')]
    targets += [('evcs_csms.ws_urls.%s' % k, u, 'csms_hosts') for k, u in sorted((station['csms'].get('ws_urls') or {}).items(), key=lambda i: str(i[0]))]
    targets.append(('evcs_vault.url', station['vault'].get('url'), 'vault_hosts'))
    for path, url, rule in targets:
        host = urlsplit(url).hostname if isinstance(url, str) else None
        if host and host not in rules.get(rule, ()):
            report.add(path, url, 'host %r does not belong to the %s environment' % (host, environment),
                       'point it at this environment\'s endpoint (evcs_environment_rules.%s: %s)' % (rule, ', '.join(rules.get(rule, ()))))
    mount = station['vault'].get('pki_mount')
    if mount and mount not in rules.get('vault_pki_mounts', ()):
        report.add('evcs_vault.pki_mount', mount, 'is not a PKI mount of the %s environment' % environment,
                   'use one of evcs_environment_rules.vault_pki_mounts: %s' % ', '.join(rules.get('vault_pki_mounts', ())))


# -- rules across the fleet ----------------------------------------------------------------------------------------

def check_fleet(stations):
    """Problems across hosts: duplicate ids/serials, the site power cap, one environment and one site definition."""
    problems = []
    problems += _duplicates(stations, 'station_id', 'evcs_station.id', 'give every charger its own OCPP identity')
    problems += _duplicates(stations, 'serial_number', 'evcs_station.serial_number', 'fix the serial number from the type plate')
    problems += _site_caps(stations)
    problems += _one_environment(stations)
    return problems


def _site_group_problems(host, groups):
    groups = sorted(set(groups or ()))
    if len(groups) < 2:
        return []
    return ['%s: evcs_site = <groups %s>: the charger is in %d site groups, each defining evcs_site; Ansible would take '
            'the definition of %r alone and the station would move sites in the CSMS; keep each charger in exactly one '
            'site group (move it with playbooks/move.yml)' % (host, ', '.join(groups), len(groups), groups[-1])]


def _duplicates(stations, key, path, fix):
    seen = {}
    for host in sorted(stations):
        seen.setdefault(stations[host].get(key), []).append(host)
    problems = []
    for value, hosts in sorted(seen.items(), key=lambda item: str(item[0])):
        if value is not None and len(hosts) > 1:
            for host in hosts:
                others = ', '.join(h for h in hosts if h != host)
                problems.append('%s: %s = %r: is also used by %s; %s' % (host, path, value, others, fix))
    return problems


def _site_caps(stations):
    problems = []
    for site_id, members in sorted(_by_site(stations).items()):
        site = stations[members[0]]['site']
        for host in members[1:]:
            if stations[host]['site'] != site:
                problems.append('%s: evcs_site = %r: differs from the definition of site %r seen on %s; define each site once, in '
                                'group_vars/<site>.yml' % (host, site_id, site_id, members[0]))
        cap = (site.get('grid_connection') or {}).get('max_current_a')
        total = sum(_live_current(stations[host]) for host in members)
        if cap is not None and total > cap and not site.get('load_management_group'):
            problems.append('%s: evcs_site.grid_connection.max_current_a = %r: the chargers of site %r may draw %s A together (%s); '
                            'lower their load_management.max_current_a, raise the cap, or set evcs_site.load_management_group'
                            % (members[0], cap, site_id, total, ', '.join('%s %s A' % (h, _live_current(stations[h])) for h in members)))
    return problems


def _live_current(station):
    return 0 if station.get('state') == 'absent' else (station['load_management'].get('max_current_a') or 0)


def _by_site(stations):
    sites = {}
    for host in sorted(stations):
        site_id = stations[host]['site'].get('id')
        if site_id:
            sites.setdefault(site_id, []).append(host)
    return sites


def _one_environment(stations):
    seen = {}
    for host in sorted(stations):
        station = stations[host]
        key = (station.get('environment'), station['csms'].get('url'), station['vault'].get('url'), station['vault'].get('pki_mount'))
        seen.setdefault(key, []).append(host)
    if len(seen) <= 1:
        return []
    first = sorted(seen.values(), key=len, reverse=True)[0][0]
    problems = []
    for key, hosts in seen.items():
        if first in hosts:
            continue
        problems.append('%s: evcs_environment = %r: this run mixes environments or endpoints (%s uses %r, CSMS %s, Vault %s %s); '
                        'run one inventory per environment' % (hosts[0], key[0], first, stations[first].get('environment'),
                                                               key[1], key[2], key[3]))
    return problems


# -- the whole fleet -------------------------------------------------------------------------------------------------

def check_inventory(data, hosts=None, site_groups=None):
    """Validate ``{host: host_vars}``: returns ``{'stations': {host: station}, 'problems': [...], 'summary': {...}}``.
    ``site_groups`` (``{host: [group, ...]}``, the groups that define ``evcs_site``) refuses a host in two sites."""
    stations = {}
    problems = []
    for host in (hosts if hosts is not None else sorted(data)):
        station, host_problems = load_station(host, data.get(host) or {})
        problems += host_problems
        problems += _site_group_problems(host, (site_groups or {}).get(host))
        if station is not None:
            stations[host] = station
    problems += check_fleet(stations)
    return dict(stations=stations, problems=problems, summary=summarize(stations))


def summarize(stations):
    """Counts per site and per network mode, and the environment the run targets."""
    sites = {}
    modes = {}
    environments = set()
    for host in sorted(stations):
        station = stations[host]
        environments.add(station.get('environment'))
        mode = station['network'].get('mode')
        modes[mode] = modes.get(mode, 0) + 1
        site = station['site']
        entry = sites.setdefault(site.get('id'), dict(name=site.get('name'), stations=0, evses=0, connectors=0, max_current_a=0,
                                                      grid_max_current_a=(site.get('grid_connection') or {}).get('max_current_a'),
                                                      load_management_group=site.get('load_management_group')))
        entry['stations'] += 1
        entry['evses'] += len(station['evses'])
        entry['connectors'] += sum(len(evse.get('connectors', [])) for evse in station['evses'])
        entry['max_current_a'] += _live_current(station)
    return dict(environment=sorted(e for e in environments if e)[0] if any(environments) else None, stations=len(stations),
                sites=sites, network_modes=modes)


def station_from_vars(host, host_vars):
    """The desired state of one charger for a later role's action plugin; refuses bad input with every problem."""
    station, problems = load_station(host, host_vars)
    if problems or station is None:
        raise ModuleFailure('%d problem(s) in the inventory of %s:\n%s' % (len(problems), host, '\n'.join(problems)), problems=problems)
    return station


# -- the inventory_check module --------------------------------------------------------------------------------------

def inventory_check_argument_spec():
    return dict(
        hosts=dict(type='list', elements='str'),
        data=dict(type='dict'),
        site_groups=dict(type='dict'),
    )


def run_inventory_check(params, context):
    """Validate the fleet in ``params['data']`` (``{host: vars}``); ``params['hosts']`` narrows it."""
    data = params.get('data')
    if data is None:
        raise ModuleFailure('inventory_check needs the inventory data: give the data option (the action plugin reads hostvars)')
    if context.check_mode:
        # a check-mode run (a plan, verify.yml) changes nothing, so production needs no confirmation for it
        data = dict((host, dict(values, evcs_production_confirmed=True)) for host, values in data.items())
    hosts = params.get('hosts')
    outcome = check_inventory(data, hosts=hosts if hosts is not None else sorted(data), site_groups=params.get('site_groups'))
    stations = dict((host, public_station(station)) for host, station in outcome['stations'].items())
    problems = outcome['problems']
    result = dict(changed=False, stations=stations, problems=problems, summary=outcome['summary'])
    if problems:
        raise ModuleFailure('%d problem(s) in the inventory, nothing was changed:\n%s' % (len(problems), '\n'.join(problems)),
                            problems=problems, summary=outcome['summary'])
    result['msg'] = '\n'.join(summary_lines(outcome['summary']))
    return result


def summary_lines(summary):
    """The summary as short readable lines: the fleet first, then one line per site."""
    modes = ', '.join('%s %d' % (mode, count) for mode, count in sorted(summary['network_modes'].items()))
    lines = ['inventory ok: %d charger(s) in %d site(s), environment %s (network: %s)'
             % (summary['stations'], len(summary['sites']), summary['environment'], modes or 'none')]
    for site_id, site in sorted(summary['sites'].items()):
        arbitration = ', load management group %s' % site['load_management_group'] if site['load_management_group'] else ''
        lines.append('%s (%s): %d station(s), %d EVSE(s), %d connector(s), %s A of %s A grid cap%s'
                     % (site_id, site['name'], site['stations'], site['evses'], site['connectors'], site['max_current_a'],
                        site['grid_max_current_a'], arbitration))
    return lines


__all__ = ['MASK', 'UnreadableVariable', 'check_inventory', 'load_station', 'public_station', 'station_from_vars',
           'run_inventory_check', 'inventory_check_argument_spec']
