# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an OCPP 1.6J station reports about itself: the start of its 1.6 station model file (``playbooks/gather.yml``).

OCPP 1.6 has no device model and no GetBaseReport: a station lists its configuration keys, each with ``readonly``,
when GetConfiguration names no key (OCPP 1.6 section 5.8: "all configuration settings"). The standard keys (the
``generic-16`` model, the inventory's 1.6 model, the ``key16`` column of the one settings table) that the station left
out of that answer are asked for by name, split at its ``GetConfigurationMaxKeys`` (``configuration_keys.KeySession``),
so a station that lists only part of its keys is still described. Besides the keys: the vendor, model and firmware of
its BootNotification (kept by the CSMS), its connector count (``NumberOfConnectors``, else the connectors the CSMS saw)
and its ``ChargingScheduleAllowedChargingRateUnit``.

The file (:func:`starting_model16`) has the format of ``station_models/generic-16.yml``; it holds no values, only key
names, types and flags, so nothing a station reports (the write-only ``AuthorizationKey`` above all, which a compliant
station never lists) reaches it. Each key the collection manages is marked with the inventory setting it comes from;
``central_system_url`` (the vendor key of the Central System URL, which 1.6 does not standardize) is left for the
operator to map, as ``network`` is in a 2.0.1 model file.
"""

from __future__ import annotations

import re
import textwrap

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - PyYAML comes with ansible-core
    HAS_YAML = False

from ansible_collections.evcs.provisioning.plugins.module_utils._validation import plain
from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CsmsError
from ansible_collections.evcs.provisioning.plugins.module_utils.desired.ocpp_settings import OCPP_SETTINGS
from ansible_collections.evcs.provisioning.plugins.module_utils.station import models
from ansible_collections.evcs.provisioning.plugins.module_utils.station.boot import reported_station
from ansible_collections.evcs.provisioning.plugins.module_utils.station.charging_limit16 import RATE_UNITS
from ansible_collections.evcs.provisioning.plugins.module_utils.station.configuration_keys import (
    MAX_KEYS, WRITE_ONLY_KEYS, KeySession,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.station.protocol import ocpp_version_of
from ansible_collections.evcs.provisioning.plugins.module_utils.station.security16 import (
    AUTHORIZATION_KEY, CPO_NAME, SECURITY_PROFILE,
)

VERSION = '1.6'
CONNECTORS_KEY = 'NumberOfConnectors'
RATE_UNIT_KEY = 'ChargingScheduleAllowedChargingRateUnit'
#: the keys the security stage manages (docs/OCPP16.md, Security); the OCPP settings come from the one settings table
SECURITY_KEYS = {
    SECURITY_PROFILE: 'managed: evcs_station.security_profile (security stage)',
    CPO_NAME: 'managed: the site operator\'s organization, set before a CSR (security stage)',
    AUTHORIZATION_KEY: 'managed: write-only, rotated from Vault (security stage); never read',
}
_INTEGER = re.compile(r'^-?\d+$')
_URL = re.compile(r'^wss?://', re.IGNORECASE)
_UNPRINTABLE = re.compile(r'[^\x20-\x7e]+')


# -- what the station reports ---------------------------------------------------------------------------------------
def standard_keys(model):
    """The configuration keys worth asking for by name: the 1.6 standard (``generic-16``), the ``key16`` column of the
    settings table and the keys of the station's own 1.6 model; never a write-only key."""
    keys = list(models.load_model(models.GENERIC_16)['configuration_keys']['keys'])
    keys += [setting.key16 for setting in OCPP_SETTINGS if setting.key16]
    keys += list(model['configuration_keys']['keys'])
    return [key for key in dict.fromkeys(keys) if key not in WRITE_ONLY_KEYS]


def _max_keys(found):
    try:
        return max(int((found.get(MAX_KEYS) or {}).get('value')), 0)
    except (TypeError, ValueError):
        return 0


def read_keys(session, wanted, add_secret=None):
    """``({key: {'value', 'readonly'}}, [unknown key])``: GetConfiguration with no key list, then the ``wanted`` keys it
    left out, by name and split at the station's GetConfigurationMaxKeys. A write-only key a station reports anyway is
    kept without its value (``add_secret`` masks the value)."""
    found, _unknown = session.get([])
    missing = [key for key in wanted if key not in found]
    unknown = []
    if missing:
        session.max_keys = _max_keys(found)
        more, unknown = session.get(missing)
        found.update(more)
    for key in WRITE_ONLY_KEYS:
        if key in found:
            if add_secret is not None:
                add_secret(found[key].get('value'))
            found[key] = {'value': None, 'readonly': False}
    return found, unknown


def rate_units(found):
    """The charging rate units (``A``, ``W``) of the station's ChargingScheduleAllowedChargingRateUnit, or None."""
    value = (found.get(RATE_UNIT_KEY) or {}).get('value')
    if value is None:
        return None
    return [RATE_UNITS[part.strip()] for part in str(value).split(',') if part.strip() in RATE_UNITS]


def connector_count(found, connection):
    """NumberOfConnectors, else the connectors (1..N) the CSMS has a StatusNotification of, else None."""
    value = (found.get(CONNECTORS_KEY) or {}).get('value')
    if value is not None and _INTEGER.match(str(value)):
        return int(value)
    seen = [item.get('connector_id') for item in (connection or {}).get('connectors') or []
            if (item.get('connector_id') or 0) > 0]
    return len(set(seen)) or None


def url_keys(found):
    """Keys whose value is a ws:// or wss:// URL: where the station may keep its Central System URL."""
    return sorted(key for key, entry in found.items() if _URL.match(str(entry.get('value') or '')))


# -- the model file ---------------------------------------------------------------------------------------------------
def _setting_of(key):
    for setting in OCPP_SETTINGS:
        if setting.key16 == key:
            return setting
    return None


def key_type(key, value, reference):
    """The type of a key: the reference model's, else the settings table's, else inferred from the value."""
    spec = reference['configuration_keys']['keys'].get(key)
    if spec:
        return spec['type']
    setting = _setting_of(key)
    if setting is not None and setting.value_type in models.KEY_TYPES:
        return setting.value_type
    text = str(value if value is not None else '').strip()
    if text.lower() in ('true', 'false'):
        return 'boolean'
    if _INTEGER.match(text):
        return 'integer'
    return 'string'


def key_rows(found, reference, security_extension):
    """``[(entry, comment)]`` of the model file's ``configuration_keys.keys``, sorted by key: type, readonly,
    write_only and reboot_required (from the reference model), and what the collection manages of it."""
    names = set(found)
    if security_extension:
        names.add(AUTHORIZATION_KEY)
    rows = []
    for key in sorted(names):
        entry = {'key': key, 'type': key_type(key, (found.get(key) or {}).get('value'), reference)}
        spec = reference['configuration_keys']['keys'].get(key) or {}
        if (found.get(key) or {}).get('readonly'):
            entry['readonly'] = True
        if key in WRITE_ONLY_KEYS or spec.get('write_only'):
            entry['write_only'] = True
        if spec.get('reboot_required'):
            entry['reboot_required'] = True
        setting = _setting_of(key)
        comment = ('managed: evcs_station.ocpp.%s' % setting.key if setting is not None else SECURITY_KEYS.get(key, ''))
        rows.append((entry, comment))
    return rows


def _comment(text):
    """``text`` safe inside a YAML comment line (what a station reports could hold a line break)."""
    return _UNPRINTABLE.sub(' ', str(text)).strip()


def _flow(entry):
    return yaml.safe_dump(plain(entry), default_flow_style=True, sort_keys=False, width=100000).strip()


def starting_model16(name, reported, found, reference, connectors=None):
    """A 1.6 station model file (YAML text) from what a station reported: ``reported`` is ``{'vendor', 'model',
    'firmware_version'}`` (its BootNotification), ``found`` its keys (``read_keys``). It names no station id: every
    station of a vendor/model gives the same file, so gathering a fleet twice changes nothing."""
    security_extension = SECURITY_PROFILE in found
    units = rate_units(found)
    match = {'vendor': reported['vendor'], 'model': reported['model']}
    if reported.get('firmware_version'):
        match['firmware'] = {'min': reported['firmware_version'], 'max': reported['firmware_version']}
    document = {
        'name': name,
        'description': 'written by playbooks/gather.yml from a station\'s configuration keys',
        'ocpp_version': VERSION,
        'match': [match],
    }
    if units:
        document['rate_units'] = units
    described = '%s %s, firmware %s' % (reported['vendor'], reported['model'], reported.get('firmware_version') or '-')
    lines = textwrap.wrap(
        'Station model written by playbooks/gather.yml (evcs.provisioning.station_capabilities) from the '
        'GetConfiguration of an OCPP 1.6J station (BootNotification: %s; %s connector(s)). Review it: map '
        'central_system_url, give reboot_required to the keys that need a reboot on this model, set unknown_keys, then '
        'put it in a directory of evcs_station_model_dirs (docs/OCPP16.md). It holds no values.'
        % (_comment(described), connectors if connectors is not None else 'unknown'),
        width=118, initial_indent='# ', subsequent_indent='# ')
    lines += [
        # plain(): Ansible hands the task's strings over as tagged str subclasses, which safe_dump cannot represent
        yaml.safe_dump(plain(document), default_flow_style=None, sort_keys=False, width=120).rstrip(),
    ]
    if not units:
        lines.append('# rate_units: the station reports no %s (no Smart Charging): A and W are assumed' % RATE_UNIT_KEY)
    candidates = url_keys(found)
    lines += [
        'configuration_keys:',
        '  # refuse: ocpp_extra_configuration_keys may name only the keys listed here; allow: any key',
        '  unknown_keys: refuse',
    ]
    lines += textwrap.wrap('the vendor key that holds the Central System URL (OCPP 1.6 standardizes none): needed to move '
                           'the station between security profiles. %s' % (
                               'Keys whose value is a ws:// or wss:// URL on this station: %s'
                               % _comment(', '.join(candidates)) if candidates
                               else 'No key of this station holds a ws:// or wss:// URL.'),
                           width=118, initial_indent='  # ', subsequent_indent='  # ')
    lines.append('  central_system_url: null')
    lacking = [setting for setting in OCPP_SETTINGS if setting.key16 and setting.key16 not in found]
    if lacking:
        lines += textwrap.wrap('the station lacks the standard key of: %s; map a vendor key of one here (setting: key)'
                               % ', '.join('%s (%s)' % (setting.key, setting.key16) for setting in lacking),
                               width=118, initial_indent='  # ', subsequent_indent='  # ')
    lines += ['  settings: {}', '  keys:']
    for entry, comment in key_rows(found, reference, security_extension):
        lines.append('    - %s%s' % (_flow(entry), '  # ' + comment if comment else ''))
    return '\n'.join(lines) + '\n'


# -- the station_capabilities module for a 1.6 station -----------------------------------------------------------------
def _connection(csms, station_id):
    try:
        return csms.connection(station_id)
    except CsmsError as error:
        raise ModuleFailure('station %s: the CSMS does not know its connection: %s' % (station_id, error),
                            kind=error.kind)


def speaks_16(params, backend, asks_station):
    """``(True when the station speaks OCPP 1.6, its CSMS connection when it was read)``: the inventory says 1.6, or
    (when the station is to be asked) its CSMS connection does (``backend()`` gives the task's CSMS backend). A declared
    version the connection contradicts fails with the fix."""
    declared = params.get('ocpp_version')
    if declared == VERSION or not asks_station:
        return declared == VERSION, None
    connection = _connection(backend(), params['station_id'])
    return ocpp_version_of(connection, declared, params['station_id']) == VERSION, connection


def _reference(params, host):
    """The station's 1.6 model when the inventory names one, else generic-16: where key types come from."""
    try:
        named = models.load_model(params['station_model'], params['model_dirs'])
    except models.ModelError as error:
        raise ModuleFailure('%s: evcs_station.station_model = %s: %s' % (host, params['station_model'], error),
                            field='station_model', value=params['station_model'])
    return named if named['ocpp_version'] == VERSION else models.load_model(models.GENERIC_16)


def _reported(params, connection, context):
    """Vendor, model and firmware as the station's BootNotification gave them (the inventory's where it gave none)."""
    boot = reported_station((connection or {}).get('boot'))
    reported = {'vendor': boot.get('vendorName') or params['vendor'], 'model': boot.get('model') or params['model'],
                'firmware_version': boot.get('firmwareVersion') or params.get('firmware_version')}
    for field, value in (('vendor', params['vendor']), ('model', params['model'])):
        if str(reported[field]).lower() != str(value).lower():
            context.warn('station %s reported %s %r in its BootNotification, the inventory says %r (evcs_station.%s): '
                         'the model file matches what the station reports' % (params['station_id'], field,
                                                                              reported[field], value, field))
    return reported


def run_capabilities16(params, context, host, backend, name, connection=None):
    """``(result, model file text or None)`` of station_capabilities for a 1.6 station (``backend()`` gives the task's
    CSMS backend, ``name`` is the model file's name, ``connection`` the station's CSMS connection if already read)."""
    reference = _reference(params, host)
    if params['variables']:
        raise ModuleFailure('%s: station %s speaks OCPP 1.6, which has no device-model variables: its configuration '
                            'keys are checked against its 1.6 station model by the validate role (leave variables out)'
                            % (host, params['station_id']), field='variables')
    result = {'changed': False, 'ocpp_version': VERSION, 'station_model': reference['name'], 'checked': 0,
              'known_variables': 0, 'slots': None, 'limits': {}, 'cache_file': None,
              'rate_units': list(reference['rate_units'])}
    if params['discover'] == 'never':
        if params.get('write_model'):
            raise ModuleFailure('%s: a 1.6 model file is written from what the station reports: run with discover '
                                'refresh or auto (playbooks/gather.yml does), not never' % host, field='discover')
        result.update(source='the station model only (discovery off)',
                      known_keys=len(reference['configuration_keys']['keys']))
        return _with_facts(result, params), None
    csms = backend()
    if connection is None:
        connection = _connection(csms, params['station_id'])
    ocpp_version_of(connection, params.get('ocpp_version'), params['station_id'])
    session = KeySession(csms, params['station_id'])
    found, unknown = read_keys(session, standard_keys(reference), context.add_secret)
    units = rate_units(found)
    result.update(source='the station (GetConfiguration)', known_keys=len(found),
                  readonly_keys=sorted(key for key, entry in found.items() if entry['readonly']),
                  unknown_keys=unknown, connectors=connector_count(found, connection),
                  central_system_url_candidates=url_keys(found), requests=dict(session.calls),
                  limits={MAX_KEYS: _max_keys(found) or None}, rate_units=units or result['rate_units'])
    text = None
    if params.get('write_model'):
        if not HAS_YAML:
            raise ModuleFailure('PyYAML is needed on the controller to write a station model file')
        text = starting_model16(name, _reported(params, connection, context), found, reference,
                                result['connectors'])
    return _with_facts(result, params), text


def _with_facts(result, params):
    result['ansible_facts'] = {'evcs_capabilities': {'slots': None, 'rate_units': result['rate_units'],
                                                     'limits': result['limits'], 'station_id': params['station_id'],
                                                     'station_model': result['station_model']}}
    return result
