# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""OCPP 2.0.1 device model variables: batched GetVariables -> compare -> batched SetVariables of the differences.

The station's own message limits (``DeviceDataCtrlr.ItemsPerMessage`` / ``BytesPerMessage`` for the
``GetVariables`` and ``SetVariables`` instances) are read at most once per run and host: the host's own station takes
them from its run snapshot (``station.snapshot``: the validate role's capability fact, or what the station reported in
the run's first GetVariables, which carries them); otherwise the first task that reads them returns them as the host
fact ``evcs_device_data_limits`` and later tasks of the run take them from there (the action plugins pass task
variables in ``RunContext.task_vars``). Every request is split to fit them.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CsmsError
# the module, not its names: csms.connection -> station.snapshot -> this module is a cycle
from ansible_collections.evcs.provisioning.plugins.module_utils.csms import connection

MASK = '********'
WRITE_ONLY_CHANGED = '(write-only, changed)'
#: bytes an OCPP-J CALL frame adds around its payload: [2,"<uuid>","<Action>",{...}]
_FRAME_OVERHEAD = 64
_LIMIT_ACTIONS = ('GetVariables', 'SetVariables')
_TRUE = ('true', '1', 'yes', 'on')
_FALSE = ('false', '0', 'no', 'off')
#: value types understood by normalisation; ``auto`` infers one from the desired value
VALUE_TYPES = ('auto', 'string', 'boolean', 'integer', 'decimal', 'list', 'set')
#: the host fact that carries a station's message limits from the first task of a run to the next ones
LIMITS_FACT = 'evcs_device_data_limits'
_LIMIT_NAMES = ('ItemsPerMessage', 'BytesPerMessage')


def variable_spec():
    """The suboptions of one device model variable (shared by every module that takes a variable list)."""
    return dict(
        component=dict(type='dict', required=True, options=dict(
            name=dict(type='str', required=True),
            instance=dict(type='str'),
            evse=dict(type='int'),
            connector=dict(type='int'),
        )),
        variable=dict(type='dict', required=True, options=dict(
            name=dict(type='str', required=True),
            instance=dict(type='str'),
        )),
        attribute_type=dict(type='str', default='Actual', choices=['Actual', 'Target', 'MinSet', 'MaxSet']),
        value=dict(type='raw'),
        value_type=dict(type='str', default='auto', choices=list(VALUE_TYPES)),
        write_only=dict(type='bool', default=False),
    )


def _gather_spec():
    """A variable read beside the managed ones: where it is, no value."""
    spec = variable_spec()
    return dict((name, spec[name]) for name in ('component', 'variable', 'attribute_type'))


def device_model_argument_spec():
    return connection.station_argument_spec(
        variables=dict(type='list', elements='dict', required=True, options=variable_spec()),
        gather=dict(type='list', elements='dict', default=[], options=_gather_spec()),
        state=dict(type='str', default='merged', choices=['merged', 'gathered']),
        update_write_only=dict(type='str', default='never', choices=['always', 'on_create', 'never']),
    )


# -- names ---------------------------------------------------------------------------------------------------
def variable_key(item):
    """``Component[instance][evse/connector].Variable[instance]`` plus ``(attributeType)`` when not Actual."""
    component = item['component']
    key = component['name']
    if component.get('instance'):
        key += '[%s]' % component['instance']
    if component.get('evse') is not None:
        if component.get('connector') is not None:
            key += '[%s/%s]' % (component['evse'], component['connector'])
        else:
            key += '[%s]' % component['evse']
    key += '.' + item['variable']['name']
    if item['variable'].get('instance'):
        key += '[%s]' % item['variable']['instance']
    if item.get('attribute_type', 'Actual') != 'Actual':
        key += '(%s)' % item['attribute_type']
    return key


def variable_entry(item):
    """The GetVariables entry (schema spelling) of a variable in the collection's form (``component``, ``variable``,
    ``attribute_type``): the one place that builds it (a SetVariables entry adds ``attributeValue``). ``attributeType``
    is left out when it is Actual, the schema's default, so requests stay small."""
    component = item['component']
    payload = {'name': component['name']}
    if component.get('instance'):
        payload['instance'] = component['instance']
    if component.get('evse') is not None:
        payload['evse'] = {'id': component['evse']}
        if component.get('connector') is not None:
            payload['evse']['connectorId'] = component['connector']
    variable = {'name': item['variable']['name']}
    if item['variable'].get('instance'):
        variable['instance'] = item['variable']['instance']
    entry = {'component': payload, 'variable': variable}
    if (item.get('attribute_type') or 'Actual') != 'Actual':
        entry['attributeType'] = item['attribute_type']
    return entry


def _result_key(result):
    """The ``variable_key`` of a Get/SetVariableResult as the station returned it."""
    component = result['component']
    evse = component.get('evse') or {}
    return variable_key({
        'component': {'name': component['name'], 'instance': component.get('instance'), 'evse': evse.get('id'),
                      'connector': evse.get('connectorId')},
        'variable': result['variable'],
        'attribute_type': result.get('attributeType') or 'Actual',
    })


def normalise_item(item):
    """Fill the optional keys of a variable given by a role or a test, as the argument spec would."""
    component = dict({'instance': None, 'evse': None, 'connector': None}, **item['component'])
    variable = dict({'instance': None}, **item['variable'])
    return dict({'attribute_type': 'Actual', 'value': None, 'value_type': 'auto', 'write_only': False}, **dict(
        item, component=component, variable=variable))


# -- values --------------------------------------------------------------------------------------------------
def value_type(item):
    """The comparison type of a variable: explicit, or inferred from the desired value and the variable's name."""
    if item.get('value_type', 'auto') != 'auto':
        return item['value_type']
    value = item.get('value')
    if isinstance(value, bool):
        return 'boolean'
    if isinstance(value, int):
        return 'integer'
    if isinstance(value, float):
        return 'decimal'
    if isinstance(value, (list, tuple)):
        # MemberList variables (the measurand lists) are sets; everything else comma-separated is a sequence
        return 'set' if item['variable']['name'].endswith('Measurands') else 'list'
    return 'string'


def normalise(value, kind):
    """A comparable form of ``value`` (desired or as the station reported it) for a variable of type ``kind``."""
    if value is None:
        return None
    if kind == 'boolean':
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        return text
    if kind in ('integer', 'decimal'):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            return str(value)
        return number.normalize() if kind == 'decimal' else (int(number) if number == number.to_integral_value() else number)
    if kind in ('list', 'set'):
        items = value if isinstance(value, (list, tuple)) else str(value).split(',')
        items = [str(entry).strip() for entry in items if str(entry).strip()]
        return sorted(items) if kind == 'set' else items
    return str(value)


def render(value, kind):
    """The OCPP string form of a desired value."""
    if kind == 'boolean':
        return 'true' if normalise(value, kind) is True else 'false'
    if kind in ('list', 'set'):
        return ','.join(normalise(value, 'list'))
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


# -- batching ------------------------------------------------------------------------------------------------
def message_size(action, entries):
    """Bytes of the OCPP-J CALL that carries ``entries`` (compact JSON, as stations count them)."""
    field = 'getVariableData' if action == 'GetVariables' else 'setVariableData'
    return len(json.dumps({field: entries}, separators=(',', ':'))) + len(action) + _FRAME_OVERHEAD


def split_batches(action, entries, items_limit=None, bytes_limit=None):
    """Split ``entries`` into consecutive requests of at most ``items_limit`` entries and ``bytes_limit`` bytes."""
    batches, current = [], []
    for entry in entries:
        candidate = current + [entry]
        too_many = items_limit and len(candidate) > items_limit
        too_big = bytes_limit and message_size(action, candidate) > bytes_limit
        if current and (too_many or too_big):
            batches.append(current)
            current = [entry]
        else:
            current = candidate
        if bytes_limit and message_size(action, current) > bytes_limit:
            raise ModuleFailure('one %s entry (%s) alone is %d bytes, above the station\'s BytesPerMessage of %d: '
                                'shorten the value' % (action, entry['component']['name'] + '.' + entry['variable']['name'],
                                                       message_size(action, current), bytes_limit))
    if current:
        batches.append(current)
    return batches


def _limit_items():
    items = []
    for action in _LIMIT_ACTIONS:
        for name in _LIMIT_NAMES:
            items.append({'component': {'name': 'DeviceDataCtrlr'}, 'variable': {'name': name, 'instance': action}})
    return items


def _limits_from_fact(fact, station_id):
    """{(action, name): number} from the ``evcs_device_data_limits`` fact, or None when it is not this station's."""
    if not isinstance(fact, dict) or fact.get('station_id') != station_id:
        return None
    limits = {}
    for action in _LIMIT_ACTIONS:
        for name, number in (fact.get(action) or {}).items():
            if name in _LIMIT_NAMES and number:
                limits[(action, name)] = int(number)
    return limits


def _backend_limits(backend):
    """The message limits the task's backend already knows for its station (``station.snapshot.SnapshotBackend``: read
    earlier in the run, or the validate role's capability fact), {} for any other backend."""
    method = getattr(type(backend), 'message_limits', None)
    return dict(method(backend) or {}) if method is not None else {}


class StationSession(object):
    """One task's conversation with one station: its message limits and batched Get/SetVariables.

    ``limits`` ({(action, name): number}) are the station's limits when an earlier task of the run read them; else those
    the backend knows (:func:`_backend_limits`); else the first request of a message type reads them.
    """

    def __init__(self, backend, station_id, limits=None):
        self.backend = backend
        self.station_id = station_id
        self.limits = dict(limits or {})
        self.limits_known = limits is not None
        self.limits_read = False
        self.calls = {}

    @classmethod
    def for_task(cls, backend, station_id, context):
        """A session that takes the station's limits from the host fact an earlier task of the run returned."""
        return cls(backend, station_id, _limits_from_fact(context.task_vars.get(LIMITS_FACT), station_id))

    def facts(self):
        """``{'ansible_facts': {LIMITS_FACT: ...}}`` when this task read the limits (merge it into the result)."""
        if not self.limits_read:
            return {}
        fact = {'station_id': self.station_id}
        for action in _LIMIT_ACTIONS:
            fact[action] = dict((name, self.limits[(action, name)]) for name in _LIMIT_NAMES
                                if (action, name) in self.limits)
        return {'ansible_facts': {LIMITS_FACT: fact}}

    def call(self, action, payload):
        self.calls[action] = self.calls.get(action, 0) + 1
        try:
            return self.backend.call(self.station_id, action, payload)
        except CsmsError as error:
            raise ModuleFailure('station %s: %s failed: %s' % (self.station_id, action, error), kind=error.kind)

    def read_limits(self):
        """Read the station's per-message limits once, in a first GetVariables of four items."""
        response = self.call('GetVariables', {'getVariableData': _limit_items()})
        for result in response.get('getVariableResult', []):
            if result.get('attributeStatus') != 'Accepted':
                continue
            try:
                number = int(result.get('attributeValue'))
            except (TypeError, ValueError):
                continue
            if number > 0:
                self.limits[(result['variable'].get('instance'), result['variable']['name'])] = number
        self.limits_known = self.limits_read = True

    def _known_limits(self):
        limits = _backend_limits(self.backend)
        limits.update(self.limits)
        return limits

    def _batches(self, action, entries):
        limits = self._known_limits()
        if not self.limits_known and any((action, name) not in limits for name in _LIMIT_NAMES):
            self.read_limits()
            limits = self._known_limits()
        return split_batches(action, entries, limits.get((action, 'ItemsPerMessage')),
                             limits.get((action, 'BytesPerMessage')))

    def get(self, items):
        """GetVariables for ``items``; returns {key: result} with the station's result dicts."""
        entries = [variable_entry(item) for item in items]
        results = {}
        for batch in self._batches('GetVariables', entries):
            for result in self.call('GetVariables', {'getVariableData': batch}).get('getVariableResult', []):
                results[_result_key(result)] = result
        return results

    def set(self, items):
        """SetVariables for ``items`` (value already in OCPP string form); returns {key: result}."""
        entries = [dict(variable_entry(item), attributeValue=item['rendered']) for item in items]
        results = {}
        for batch in self._batches('SetVariables', entries):
            for result in self.call('SetVariables', {'setVariableData': batch}).get('setVariableResult', []):
                results[_result_key(result)] = result
        return results


# -- outcome -------------------------------------------------------------------------------------------------
def _reason(result):
    info = result.get('attributeStatusInfo') or {}
    if not info:
        return 'no reason given'
    return ' '.join(part for part in (info.get('reasonCode'), info.get('additionalInfo')) if part)


def _refusal(station_id, action, item, result):
    shown = MASK if item.get('write_only') else item.get('value')
    hint = ''
    if action == 'GetVariables' and result.get('attributeStatus') == 'Rejected':
        hint = ' (a WriteOnly variable such as BasicAuthPassword cannot be read: mark it write_only: true)'
    return ('station %s answered %s for component %s variable %s%s with %s (%s)%s; value %s: fix the component/'
            'variable name or the value in the inventory' % (
                station_id, action, item['component']['name'], item['variable']['name'],
                '' if item['attribute_type'] == 'Actual' else ' attribute ' + item['attribute_type'],
                result.get('attributeStatus', 'no result'), _reason(result), hint, shown))


def current_values(session, items):
    """Read ``items`` (not write-only) and return {key: value string}; fail on any refusal."""
    readable = list(dict((variable_key(item), item) for item in items if not item['write_only']).values())
    results = session.get(readable) if readable else {}
    values = {}
    for item in readable:
        key = variable_key(item)
        result = results.get(key, {})
        if result.get('attributeStatus') != 'Accepted':
            raise ModuleFailure(_refusal(session.station_id, 'GetVariables', item, result), variable=key)
        values[key] = result.get('attributeValue')
    return values


def _component_of(item):
    component = item['component']
    return (component['name'], component.get('instance'), component.get('evse'), component.get('connector'))


def differences(items, current, update_write_only='never'):
    """The items whose desired value differs from ``current``, plus the write-only ones ``update_write_only`` asks for:
    ``always``, or ``on_create`` when another variable of the same component is set in this run."""
    changes = []
    for item in items:
        if item.get('value') is None or item['write_only']:
            continue
        kind = value_type(item)
        if normalise(current.get(variable_key(item)), kind) != normalise(item['value'], kind):
            changes.append(dict(item, rendered=render(item['value'], kind)))
    configured = set(_component_of(item) for item in changes)
    for item in items:
        if item.get('value') is None or not item['write_only']:
            continue
        if update_write_only == 'always' or (update_write_only == 'on_create' and _component_of(item) in configured):
            changes.append(dict(item, rendered=render(item['value'], value_type(item))))
    return changes


def build_diff(changes, current):
    """before/after keyed by variable_key, holding only the changed pairs; write-only values never shown."""
    before, after = {}, {}
    for item in changes:
        key = variable_key(item)
        if item['write_only']:
            before[key], after[key] = MASK, WRITE_ONLY_CHANGED
        else:
            before[key], after[key] = current.get(key), item['rendered']
    return {'before': before, 'after': after}


def apply_changes(session, changes):
    """SetVariables of ``changes``; returns the keys that answered RebootRequired; fails on any refusal."""
    results = session.set(changes)
    reboot, applied, refused = [], [], []
    for item in changes:
        key = variable_key(item)
        result = results.get(key, {})
        status = result.get('attributeStatus')
        if status == 'RebootRequired':
            reboot.append(key)
        elif status == 'Accepted':
            applied.append(key)
        else:
            refused.append(_refusal(session.station_id, 'SetVariables', item, result))
    if refused:
        raise ModuleFailure('; '.join(refused), applied=applied + reboot, reboot_required_variables=reboot,
                            reboot_required=bool(reboot))
    return reboot


def converge_variables(session, items, check_mode, update_write_only='never', current=None):
    """Read -> compare -> write: the shared core of device_model, network_profile and station_reset.

    ``current`` ({key: value}) is what the caller already read in the same GetVariables, for all of ``items``."""
    if current is None:
        current = current_values(session, items)
    changes = differences(items, current, update_write_only)
    reboot = [] if check_mode or not changes else apply_changes(session, changes)
    return {
        'changed': bool(changes),
        'diff': build_diff(changes, current),
        'changes': [variable_key(item) for item in changes],
        'current': current,
        'reboot_required': bool(reboot),
        'reboot_required_variables': reboot,
    }


def _gathered(items, current):
    return [{'key': variable_key(item), 'component': item['component'], 'variable': item['variable'],
             'attribute_type': item['attribute_type'], 'value': current.get(variable_key(item))}
            for item in items if not item['write_only']]


def _validate(params):
    if params['gather'] and params['state'] == 'gathered':
        raise ModuleFailure('station %s: gather reads variables beside the ones state=merged sets; with state=gathered '
                            'list every variable to read under variables' % params['station_id'])
    if params['state'] == 'merged':
        missing = [variable_key(item) for item in params['variables'] if item.get('value') is None]
        if missing:
            raise ModuleFailure('station %s: state=merged needs a value for %s: give value, or use state=gathered to read'
                                % (params['station_id'], ', '.join(missing)))
    for item in params['variables'] + params['gather']:
        if item['component'].get('connector') is not None and item['component'].get('evse') is None:
            raise ModuleFailure('station %s: %s names a connector without its evse: add component.evse'
                                % (params['station_id'], variable_key(item)))


def run_device_model(params, context):
    _validate(params)
    items = [normalise_item(item) for item in params['variables']]
    for item in items:
        if item['write_only'] and item.get('value') is not None:
            context.add_secret(render(item['value'], value_type(item)))
    gather = [normalise_item(item) for item in params['gather']]
    session = StationSession.for_task(connection.task_backend(params, context), params['station_id'], context)
    # one GetVariables (split only at the station's limits) reads what is set and what is gathered beside it
    current = current_values(session, items + gather)
    if params['state'] == 'gathered':
        outcome = {'changed': False, 'variables': _gathered(items, current)}
    else:
        outcome = converge_variables(session, items, context.check_mode, params['update_write_only'], current=current)
        outcome['variables'] = _gathered(items, outcome.pop('current'))
        outcome['gathered'] = _gathered(gather, current)
    outcome['requests'] = session.calls
    outcome.update(session.facts())
    return outcome
