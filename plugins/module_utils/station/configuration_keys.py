# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""OCPP 1.6J configuration keys: GetConfiguration -> compare -> ChangeConfiguration of the differences.

The 1.6 counterpart of the 2.0.1 device model (``device_model.py``), with the same value comparison, check mode and
diff. A 1.6 station answers GetConfiguration with its ``configurationKey`` list (``key``, ``readonly``, ``value``) and
the ``unknownKey`` names; a request naming more keys than its ``GetConfigurationMaxKeys`` must be split by the sender.
That limit is read once per run and host (the host fact ``evcs_configuration_key_limits``, like the 2.0.1 message
limits). ChangeConfiguration takes one key a call and answers Accepted, Rejected, RebootRequired or NotSupported.

Every key is checked before anything is written: against the station's model file (``configuration_keys`` of a 1.6
model: read-only keys, keys the model does not know when it refuses unknown ones) and against what the station reports
(``unknownKey``, ``readonly``). Write-only keys (the Security Extension's ``AuthorizationKey``) are never read back and
never shown.
"""

from __future__ import annotations

from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CsmsError
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.connection import (
    station_argument_spec, task_backend,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.device_model import (
    MASK, WRITE_ONLY_CHANGED, normalise, render,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.desired.ocpp_settings import OCPP_SETTINGS, with_defaults
from ansible_collections.evcs.provisioning.plugins.module_utils.station import models
from ansible_collections.evcs.provisioning.plugins.module_utils.station.protocol import ocpp_version_of

#: the host fact that carries a station's GetConfigurationMaxKeys from the first task of a run to the next ones
LIMITS_FACT = 'evcs_configuration_key_limits'
MAX_KEYS = 'GetConfigurationMaxKeys'
#: keys the Security Extension defines as write-only, whatever a model file says: never read, never shown
WRITE_ONLY_KEYS = ('AuthorizationKey',)
#: the 1.6 keys whose value is a set of measurands (compared in any order)
_MEASURAND_KEYS = ('MeterValuesAlignedData', 'MeterValuesSampledData', 'StopTxnAlignedData', 'StopTxnSampledData')
#: OCPP 1.6 ChangeConfiguration: key CiString50, value CiString500
KEY_MAX_LENGTH = 50
VALUE_MAX_LENGTH = 500
VALUE_TYPES = ('auto',) + models.KEY_TYPES
#: the OCPP 1.6 Measurand values (a 2.0.1-only measurand cannot be sampled by a 1.6 station)
MEASURANDS_16 = (
    'Current.Export', 'Current.Import', 'Current.Offered', 'Energy.Active.Export.Register',
    'Energy.Active.Import.Register', 'Energy.Reactive.Export.Register', 'Energy.Reactive.Import.Register',
    'Energy.Active.Export.Interval', 'Energy.Active.Import.Interval', 'Energy.Reactive.Export.Interval',
    'Energy.Reactive.Import.Interval', 'Frequency', 'Power.Active.Export', 'Power.Active.Import', 'Power.Factor',
    'Power.Offered', 'Power.Reactive.Export', 'Power.Reactive.Import', 'RPM', 'SoC', 'Temperature', 'Voltage',
)


def key_spec():
    """The suboptions of one configuration key (shared by every module that takes a key list)."""
    return dict(
        key=dict(type='str', required=True, no_log=False),
        value=dict(type='raw'),
        value_type=dict(type='str', default='auto', choices=list(VALUE_TYPES)),
        write_only=dict(type='bool', default=False),
    )


def configuration_keys_argument_spec():
    return station_argument_spec(
        keys=dict(type='list', elements='dict', default=[], options=key_spec(), no_log=False),
        gather=dict(type='list', elements='str', default=[]),
        state=dict(type='str', default='merged', choices=['merged', 'gathered']),
        update_write_only=dict(type='str', default='never', choices=['always', 'never']),
        station_model=dict(type='str'),
        model_dirs=dict(type='list', elements='path', default=[]),
    )


# -- what the inventory's settings become on a 1.6 station --------------------------------------------------------
def setting_key(setting, model):
    """The 1.6 configuration key of one row of the OCPP settings table on a station of ``model`` (None: it has none)."""
    mapped = (model or {}).get('configuration_keys', {}).get('settings', {})
    if setting.key in mapped:
        return mapped[setting.key]
    return setting.key16


def _model_has(model, key):
    keys = (model or {}).get('configuration_keys', {}).get('keys') or {}
    return not keys or key in keys


def unmapped_settings(declared, model):
    """``[(inventory key, value, why)]`` of declared OCPP settings a 1.6 station of ``model`` has no key for."""
    problems = []
    for setting in OCPP_SETTINGS:
        if declared.get(setting.key) is None:
            continue
        key = setting_key(setting, model)
        if key is None:
            problems.append((setting.key, declared[setting.key],
                             'has no OCPP 1.6 configuration key (station model %s maps none)' % model['name']))
        elif not _model_has(model, key):
            problems.append((setting.key, declared[setting.key],
                             'is the 1.6 key %s, which station model %s does not have' % (key, model['name'])))
        elif setting.value_type == 'set':
            unknown = [entry for entry in declared[setting.key] if entry not in MEASURANDS_16]
            if unknown:
                problems.append((setting.key, declared[setting.key], 'names %s, not an OCPP 1.6 measurand'
                                 % ', '.join(unknown)))
    return problems


def setting_keys(settings, model, extra_keys=None):
    """Configuration keys of the station's OCPP settings (over the table's defaults) as a 1.6 station of ``model`` has
    them, then ``extra_keys`` as they are. A defaulted setting without a 1.6 key is left out; a declared one is
    refused by validate (:func:`unmapped_settings`)."""
    settings = with_defaults(settings)
    keys = []
    for setting in OCPP_SETTINGS:
        value = settings.get(setting.key)
        key = setting_key(setting, model)
        if value is None or key is None or not _model_has(model, key):
            continue
        keys.append({'key': key, 'value': value, 'value_type': setting.value_type})
    return keys + list(extra_keys or [])


def key_problems(keys, model):
    """One line per key of ``keys`` (desired) that ``model`` refuses: read-only, write-only outside a rotation (the
    AuthorizationKey), unknown to a model that refuses unknown keys, too long. Checked before anything is written."""
    problems = []
    known = model['configuration_keys']['keys']
    for item in keys:
        key = str(item.get('key') or '')
        spec = known.get(key)
        if not key or len(key) > KEY_MAX_LENGTH:
            problems.append('configuration key %r is not a 1.6 key name (1 to %d characters): fix the name'
                            % (key, KEY_MAX_LENGTH))
        elif key in WRITE_ONLY_KEYS or (spec or {}).get('write_only'):
            problems.append('configuration key %s is write-only and rotated by the security stage (from Vault), never '
                            'declared: remove it from ocpp_extra_configuration_keys' % key)
        elif spec is None and model['configuration_keys']['unknown_keys'] != 'allow':
            problems.append('configuration key %s is not a key of station model %s: fix the name, or add it to the '
                            'model file\'s configuration_keys (or set unknown_keys: allow there)' % (key, model['name']))
        elif (spec or {}).get('readonly'):
            problems.append('configuration key %s is read-only on station model %s: remove it from the inventory'
                            % (key, model['name']))
        elif len(render(item.get('value'), _kind(item, spec))) > VALUE_MAX_LENGTH:
            problems.append('configuration key %s: the value is longer than the %d characters OCPP 1.6 allows: shorten '
                            'it' % (key, VALUE_MAX_LENGTH))
    return problems


# -- values --------------------------------------------------------------------------------------------------------
def _kind(item, spec=None):
    """The comparison type of a key: explicit, else the model's, else inferred from the desired value."""
    if item.get('value_type', 'auto') != 'auto':
        return item['value_type']
    if spec and spec.get('type'):
        return spec['type']
    value = item.get('value')
    if isinstance(value, bool):
        return 'boolean'
    if isinstance(value, int):
        return 'integer'
    if isinstance(value, float):
        return 'decimal'
    if isinstance(value, (list, tuple)):
        # the measurand lists (MeterValuesSampledData, StopTxnAlignedData, ...) are sets; other lists are sequences
        return 'set' if item['key'] in _MEASURAND_KEYS else 'list'
    return 'string'


def normalise_item(item):
    return dict({'value': None, 'value_type': 'auto', 'write_only': False}, **item)


def kind_of(item, model=None):
    """The comparison type of a key given by a role or a test (see :func:`_kind`)."""
    return _kind(normalise_item(item), ((model or {}).get('configuration_keys') or {}).get('keys', {}).get(item['key']))


# -- the conversation ----------------------------------------------------------------------------------------------
def _limit_from_fact(fact, station_id):
    if not isinstance(fact, dict) or fact.get('station_id') != station_id:
        return None
    return int(fact[MAX_KEYS]) if fact.get(MAX_KEYS) else 0


class KeySession(object):
    """One task's conversation with one 1.6 station: its GetConfigurationMaxKeys and split GetConfiguration.

    ``max_keys``: the station's limit when an earlier task of the run read it (0: none), None to read it first."""

    def __init__(self, backend, station_id, max_keys=None):
        self.backend = backend
        self.station_id = station_id
        self.max_keys = max_keys
        self.limit_read = False
        self.calls = {}

    @classmethod
    def for_task(cls, backend, station_id, context):
        return cls(backend, station_id, _limit_from_fact(context.task_vars.get(LIMITS_FACT), station_id))

    def facts(self):
        if not self.limit_read:
            return {}
        return {'ansible_facts': {LIMITS_FACT: {'station_id': self.station_id, MAX_KEYS: self.max_keys or None}}}

    def call(self, action, payload):
        self.calls[action] = self.calls.get(action, 0) + 1
        try:
            return self.backend.call(self.station_id, action, payload)
        except CsmsError as error:
            raise ModuleFailure('station %s: %s failed: %s' % (self.station_id, action, error), kind=error.kind)

    def read_limit(self):
        response = self.call('GetConfiguration', {'key': [MAX_KEYS]})
        self.max_keys = 0
        for entry in response.get('configurationKey') or []:
            if entry.get('key') == MAX_KEYS:
                try:
                    self.max_keys = max(int(entry.get('value')), 0)
                except (TypeError, ValueError):
                    self.max_keys = 0
        self.limit_read = True

    def get(self, keys):
        """GetConfiguration of ``keys`` (all the station has when empty), split at GetConfigurationMaxKeys.
        Returns ``({key: {'value', 'readonly'}}, [unknown key, ...])``."""
        if keys and self.max_keys is None:
            self.read_limit()
        batches = split_keys(keys, self.max_keys) if keys else [[]]
        found, unknown = {}, []
        for batch in batches:
            response = self.call('GetConfiguration', {'key': batch} if batch else {})
            for entry in response.get('configurationKey') or []:
                found[entry['key']] = {'value': entry.get('value'), 'readonly': bool(entry.get('readonly'))}
            unknown += [key for key in response.get('unknownKey') or [] if key not in unknown]
        return found, unknown

    def change(self, key, value):
        """ChangeConfiguration of one key; returns the station's status."""
        return self.call('ChangeConfiguration', {'key': key, 'value': value}).get('status')


def split_keys(keys, max_keys):
    """``keys`` in consecutive requests of at most ``max_keys`` keys (one request when the station sets no limit)."""
    if not max_keys:
        return [list(keys)]
    return [list(keys[start:start + max_keys]) for start in range(0, len(keys), max_keys)]


# -- compare and write ---------------------------------------------------------------------------------------------
def differences(items, current, update_write_only='never'):
    """The items whose desired value differs from ``current`` ({key: value string}), plus write-only ones when
    ``update_write_only`` is ``always``."""
    changes = []
    for item in items:
        if item.get('value') is None:
            continue
        kind = item['kind']
        if item['write_only']:
            if update_write_only == 'always':
                changes.append(dict(item, rendered=render(item['value'], kind)))
            continue
        if normalise(current.get(item['key']), kind) != normalise(item['value'], kind):
            changes.append(dict(item, rendered=render(item['value'], kind)))
    return changes


def build_diff(changes, current):
    before, after = {}, {}
    for item in changes:
        if item['write_only']:
            before[item['key']], after[item['key']] = MASK, WRITE_ONLY_CHANGED
        else:
            before[item['key']], after[item['key']] = current.get(item['key']), item['rendered']
    return {'before': before, 'after': after}


def apply_changes(session, changes):
    """ChangeConfiguration of each change; returns the keys that answered RebootRequired; fails naming every refusal
    (after the rest were written, and saying which were)."""
    reboot, applied, refused = [], [], []
    for item in changes:
        status = session.change(item['key'], item['rendered'])
        if status == 'RebootRequired':
            reboot.append(item['key'])
        elif status == 'Accepted':
            applied.append(item['key'])
        else:
            shown = MASK if item['write_only'] else item['rendered']
            refused.append('station %s answered ChangeConfiguration of key %s = %r with %s: %s' % (
                session.station_id, item['key'], shown, status or 'no status',
                'the station does not have this key: remove it or fix its name' if status == 'NotSupported'
                else 'the station refuses this value: fix the value in the inventory'))
    if refused:
        raise ModuleFailure('; '.join(refused), applied=applied + reboot, reboot_required_keys=reboot,
                            reboot_required=bool(reboot))
    return reboot


def _station_problems(station_id, items, found, unknown):
    """What the station's own GetConfiguration answer refuses of the desired keys, before any write."""
    problems = []
    for item in items:
        if item['key'] in unknown:
            problems.append('station %s does not know configuration key %s (GetConfiguration unknownKey): remove it '
                            'or fix its name' % (station_id, item['key']))
            continue
        entry = found.get(item['key'])
        if entry is None or not entry['readonly'] or item.get('value') is None or item['write_only']:
            continue
        if normalise(entry['value'], item['kind']) != normalise(item['value'], item['kind']):
            problems.append('station %s reports configuration key %s as read-only (value %r), so it cannot be set to '
                            '%r: remove it from the inventory' % (station_id, item['key'], entry['value'], item['value']))
    return problems


def _checked_items(params, model):
    items = []
    for raw in params['keys']:
        item = normalise_item(raw)
        spec = (model or {}).get('configuration_keys', {}).get('keys', {}).get(item['key'])
        item['write_only'] = bool(item['write_only'] or item['key'] in WRITE_ONLY_KEYS or (spec or {}).get('write_only'))
        item['kind'] = _kind(item, spec)
        items.append(item)
    problems = []
    if params['state'] == 'merged':
        problems += ['key %s has no value: give value, or use state=gathered to read' % item['key']
                     for item in items if item['value'] is None]
    if params['state'] == 'gathered':
        problems += ['key %s is write-only and cannot be read' % item['key'] for item in items if item['write_only']]
    if model is not None:
        known = model['configuration_keys']['keys']
        for item in items:
            spec = known.get(item['key'])
            if spec is None and model['configuration_keys']['unknown_keys'] != 'allow':
                problems.append('configuration key %s is not a key of station model %s: fix the name, or add it to the '
                                'model file\'s configuration_keys' % (item['key'], model['name']))
            elif spec and spec['readonly'] and params['state'] == 'merged':
                problems.append('configuration key %s is read-only on station model %s: remove it'
                                % (item['key'], model['name']))
    for item in items:
        if item['value'] is not None and len(render(item['value'], item['kind'])) > VALUE_MAX_LENGTH:
            problems.append('configuration key %s: the value is longer than %d characters' % (item['key'],
                                                                                              VALUE_MAX_LENGTH))
    if problems:
        raise ModuleFailure('station %s: %s' % (params['station_id'], '; '.join(problems)), field='keys')
    return items


def _model(params):
    if not params.get('station_model'):
        return None
    try:
        model = models.load_model(params['station_model'], params.get('model_dirs'))
    except models.ModelError as error:
        raise ModuleFailure('station %s: %s' % (params['station_id'], error), field='station_model')
    if model['ocpp_version'] != '1.6':
        raise ModuleFailure('station %s: station model %s is an OCPP %s model, not a 1.6 one: set station_model to the '
                            'station\'s 1.6 model' % (params['station_id'], model['name'], model['ocpp_version']),
                            field='station_model')
    return model


def check_version(backend, params):
    """Fail unless the station speaks OCPP 1.6 (its CSMS connection, else the inventory's word)."""
    try:
        connection = backend.connection(params['station_id'])
    except CsmsError as error:
        raise ModuleFailure('station %s: the CSMS does not know its connection: %s' % (params['station_id'], error),
                            kind=error.kind)
    version = ocpp_version_of(connection, params.get('ocpp_version'), params['station_id'])
    if version != '1.6':
        raise ModuleFailure('station %s speaks OCPP %s: configuration keys are OCPP 1.6; set evcs_station.ocpp_version '
                            'to match the station, or use evcs.provisioning.device_model for a 2.0.1 station'
                            % (params['station_id'], version), field='ocpp_version', value=version)
    return version


def run_configuration_keys(params, context):
    model = _model(params)
    items = _checked_items(params, model)
    for item in items:
        if item['write_only'] and item['value'] is not None:
            context.add_secret(render(item['value'], item['kind']))
    backend = task_backend(params, context)
    check_version(backend, params)
    session = KeySession.for_task(backend, params['station_id'], context)
    readable = [item['key'] for item in items if not item['write_only']]
    wanted = list(dict.fromkeys(readable + [key for key in params['gather'] if key not in WRITE_ONLY_KEYS]))
    if wanted or params['state'] == 'gathered':
        found, unknown = session.get(wanted)
    else:
        found, unknown = {}, []
    problems = _station_problems(params['station_id'], items, found, unknown)
    if problems:
        raise ModuleFailure('; '.join(problems), field='keys', requests=session.calls)
    current = dict((key, entry['value']) for key, entry in found.items() if key not in WRITE_ONLY_KEYS)
    outcome = {'changed': False, 'reboot_required': False, 'reboot_required_keys': [], 'changes': []}
    if params['state'] == 'merged':
        changes = differences(items, current, params['update_write_only'])
        reboot = [] if context.check_mode or not changes else apply_changes(session, changes)
        outcome.update(changed=bool(changes), diff=build_diff(changes, current),
                       changes=[item['key'] for item in changes], reboot_required=bool(reboot),
                       reboot_required_keys=reboot)
    outcome['keys'] = [{'key': item['key'], 'value': current.get(item['key']),
                        'readonly': found.get(item['key'], {}).get('readonly', False)}
                       for item in items if not item['write_only']]
    gather = params['gather'] or (list(found) if params['state'] == 'gathered' and not items else [])
    outcome['gathered'] = dict((key, current.get(key)) for key in gather if key not in WRITE_ONLY_KEYS)
    outcome['unknown_keys'] = [key for key in params['gather'] if key in unknown]
    outcome['requests'] = session.calls
    outcome.update(session.facts())
    return outcome
