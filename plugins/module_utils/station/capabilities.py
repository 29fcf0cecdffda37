# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Capability discovery: what a station accepts, read once per vendor/model/firmware and checked before any write.

``GetBaseReport(FullInventory)`` makes the station send its whole device model in ``NotifyReport`` parts; they are
collected through the CSMS backend (``wait_for_message``) and reduced to one entry per variable (mutability, data
type, values list, min/max limits, unit) plus the message limits (``DeviceDataCtrlr.ItemsPerMessage`` /
``BytesPerMessage``), the configuration slots (the valuesList of ``NetworkConfigurationPriority``) and the rate units
(``SmartChargingCtrlr.RateUnit``). The result is cached in a file per vendor/model/firmware that later runs (and the
other stations of the same model) reuse. The station model's own ``variables`` fill in what no station reported.

``check_variables`` refuses, before anything is written, every declared variable the station does not have, cannot
write (ReadOnly), or would refuse (type, out of range, not in the values list), naming host, variable, value and fix.

An OCPP 1.6 station has no device model: ``run_station_capabilities`` hands it to ``station/capabilities16.py``
(GetConfiguration and the starting 1.6 model file) when its CSMS connection, or else the inventory, says it speaks 1.6.
"""

from __future__ import annotations

import datetime
import json
import os
import random
import re
import tempfile
from decimal import Decimal, InvalidOperation

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - PyYAML comes with ansible-core
    HAS_YAML = False

from ansible_collections.evcs.provisioning.plugins.module_utils._validation import plain
from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CsmsError
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.connection import (
    station_argument_spec, task_backend,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.device_model import (
    MASK, StationSession, normalise_item, render, value_type, variable_spec,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.station import capabilities16
from ansible_collections.evcs.provisioning.plugins.module_utils.station.models import ModelError, load_model, message_limits

CACHE_ENV = 'EVCS_CAPABILITY_CACHE'
DEFAULT_CACHE = os.path.join('~', '.cache', 'evcs-provisioning', 'capabilities')
_FORMAT = 1
_LIMITS = ('ItemsPerMessage', 'BytesPerMessage')
_TRUE_FALSE = ('true', 'false')


def capability_key(component, component_instance, variable, variable_instance=None):
    """``Component[instance].Variable[instance]``: one key for every EVSE and connector of a component."""
    key = component + ('[%s]' % component_instance if component_instance else '')
    return key + '.' + variable + ('[%s]' % variable_instance if variable_instance else '')


def _item_key(item):
    return capability_key(item['component']['name'], item['component'].get('instance'), item['variable']['name'],
                          item['variable'].get('instance'))


# -- the station's report -------------------------------------------------------------------------------------------
def request_report(session, timeout):
    """GetBaseReport(FullInventory) and the NotifyReport parts the station sends for it: a list of reportData items."""
    backend, station_id = session.backend, session.station_id
    request_id = random.randint(1, 2 ** 31 - 1)
    try:
        since = backend.now()
    except CsmsError as error:
        raise ModuleFailure('station %s: reading the CSMS clock failed: %s' % (station_id, error))
    answer = session.call('GetBaseReport', {'requestId': request_id, 'reportBase': 'FullInventory'})
    if answer.get('status') != 'Accepted':
        raise ModuleFailure('station %s answered GetBaseReport(FullInventory) with %s: its capabilities cannot be '
                            'discovered; give them in its station model file (variables)' % (station_id, answer.get('status')))
    try:
        parts = backend.wait_for_message(station_id, 'NotifyReport', since, timeout, request_id=request_id)
    except CsmsError as error:
        raise ModuleFailure('station %s: its NotifyReport for GetBaseReport %d did not arrive complete: %s' % (
            station_id, request_id, error), kind=error.kind)
    items = []
    for part in sorted(parts, key=lambda message: message['payload'].get('seqNo', 0)):
        items += part['payload'].get('reportData') or []
    return items


def _number(value):
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number == int(number) else number


def capabilities_from_report(report_data):
    """``{'variables': {key: {...}}, 'values': {key: actual value}}`` of NotifyReport reportData items."""
    variables, values = {}, {}
    for item in report_data:
        component, variable = item.get('component') or {}, item.get('variable') or {}
        key = capability_key(component.get('name'), component.get('instance'), variable.get('name'),
                             variable.get('instance'))
        attributes = [attribute for attribute in item.get('variableAttribute') or []
                      if attribute.get('type', 'Actual') == 'Actual']
        characteristics = item.get('variableCharacteristics') or {}
        entry = {'mutability': (attributes[0] if attributes else {}).get('mutability', 'ReadWrite'),
                 'data_type': characteristics.get('dataType', 'string')}
        for name, field in (('valuesList', 'values_list'), ('unit', 'unit')):
            if characteristics.get(name) not in (None, ''):
                entry[field] = characteristics[name]
        for name, field in (('minLimit', 'min_limit'), ('maxLimit', 'max_limit')):
            if characteristics.get(name) is not None:
                entry[field] = _number(characteristics[name])
        variables.setdefault(key, entry)
        if attributes and attributes[0].get('value') is not None:
            values.setdefault(key, attributes[0]['value'])
    return {'variables': variables, 'values': values}


def _from_model_rows(rows):
    variables = {}
    for row in rows or []:
        key = capability_key(row['component'], row.get('component_instance'), row['variable'], row.get('instance'))
        entry = dict((field, row[field]) for field in ('mutability', 'data_type', 'values_list', 'unit', 'min_limit',
                                                       'max_limit') if row.get(field) is not None)
        if isinstance(entry.get('values_list'), list):
            entry['values_list'] = ','.join(str(value) for value in entry['values_list'])
        entry.setdefault('mutability', 'ReadWrite')
        entry.setdefault('data_type', 'string')
        variables[key] = entry
    return variables


def summarise(variables, values, model):
    """What the roles need from the capabilities: slots, rate units, message limits (discovered over the model's)."""
    slots = model.get('slots')
    priority = variables.get('OCPPCommCtrlr.NetworkConfigurationPriority') or {}
    if priority.get('values_list'):
        found = [int(part) for part in re.findall(r'\d+', str(priority['values_list']))]
        slots = found or slots
    rate = variables.get('SmartChargingCtrlr.RateUnit') or {}
    rate_units = [unit.strip() for unit in str(values.get('SmartChargingCtrlr.RateUnit') or rate.get('values_list') or '')
                  .split(',') if unit.strip()] or list(model.get('rate_units') or ['A', 'W'])
    limits = message_limits(model)
    for name in _LIMITS:
        for action in ('GetVariables', 'SetVariables', 'GetReport'):
            value = _number(values.get(capability_key('DeviceDataCtrlr', None, name, action)))
            if value:
                limits.setdefault(name, {})[action] = value
    return {'slots': slots, 'rate_units': rate_units, 'limits': limits}


# -- cache ----------------------------------------------------------------------------------------------------------
def cache_dir(configured=None):
    return os.path.expanduser(configured or os.environ.get(CACHE_ENV) or DEFAULT_CACHE)


def cache_path(directory, vendor, model, firmware):
    parts = [re.sub(r'[^A-Za-z0-9.-]+', '-', str(part or 'unknown')).strip('-').lower() or 'unknown'
             for part in (vendor, model, firmware)]
    return os.path.join(directory, '_'.join(parts) + '.json')


def read_cache(path):
    try:
        with open(path) as handle:
            data = json.load(handle)
    except (IOError, OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get('format') == _FORMAT else None


def write_cache(path, data):
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix='.capabilities.')
    with os.fdopen(handle, 'w') as stream:
        json.dump(dict(data, format=_FORMAT), stream, indent=1, sort_keys=True)
    os.rename(temporary, path)


# -- checks ---------------------------------------------------------------------------------------------------------
def _fits_type(kind, text):
    if kind == 'integer':
        return re.match(r'^-?\d+$', text) is not None
    if kind == 'decimal':
        try:
            Decimal(text)
        except InvalidOperation:
            return False
        return True
    if kind == 'boolean':
        return text in _TRUE_FALSE
    return True


def value_problem(entry, text):
    """Why the station would refuse ``text`` for a variable described by ``entry``, or None."""
    kind = entry.get('data_type', 'string')
    if entry.get('mutability') == 'ReadOnly':
        return 'is ReadOnly on this station', 'remove it from the inventory (the station sets it itself)'
    if not _fits_type(kind, text):
        return 'is not a valid %s' % kind, 'give a %s value' % kind
    allowed = [part.strip() for part in str(entry.get('values_list') or '').split(',') if part.strip()]
    if allowed and kind in ('OptionList', 'MemberList', 'SequenceList'):
        members = [text] if kind == 'OptionList' else [part.strip() for part in text.split(',') if part.strip()]
        wrong = [member for member in members if member not in allowed]
        if wrong:
            return ('%s not in its values list' % ', '.join(wrong),
                    'use only %s' % ', '.join(allowed))
    low, high = entry.get('min_limit'), entry.get('max_limit')
    if kind in ('integer', 'decimal'):
        measure, what = Decimal(text), 'value'
    elif kind == 'string':
        measure, what = len(text), 'length'
    else:
        return None
    if low is not None and measure < Decimal(str(low)) or high is not None and measure > Decimal(str(high)):
        bounds = (what, '-' if low is None else low, '-' if high is None else high)
        return 'is out of range: its %s must be between %s and %s' % bounds, 'give a %s within that range' % what
    return None


def check_variables(host, items, variables, model_name, source):
    """Problems (strings) of the declared ``items`` against ``variables`` (key -> capability entry)."""
    problems = []
    for raw in items:
        item = normalise_item(raw)
        if item.get('value') is None:
            continue
        key = _item_key(item)
        text = render(item['value'], value_type(item))
        shown = MASK if item['write_only'] else text
        entry = variables.get(key)
        if entry is None:
            problems.append('%s: variable %s = %s: the station (model %s, capabilities from %s) has no such variable; '
                            'fix the component/variable name or remove it (playbooks/gather.yml lists what the station '
                            'has)' % (host, key, shown, model_name, source))
            continue
        found = value_problem(entry, text)
        if found:
            problems.append('%s: variable %s = %s: %s (model %s, capabilities from %s); %s'
                            % (host, key, shown, found[0], model_name, source, found[1]))
    return problems


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


# -- the station_capabilities module --------------------------------------------------------------------------------
def station_capabilities_argument_spec():
    return station_argument_spec(
        vendor=dict(type='str', required=True),
        model=dict(type='str', required=True),
        firmware_version=dict(type='str'),
        station_model=dict(type='str', default='generic'),
        model_dirs=dict(type='list', elements='path', default=[]),
        discover=dict(type='str', default='auto', choices=['auto', 'refresh', 'never']),
        cache_dir=dict(type='path'),
        timeout=dict(type='int', default=60),
        variables=dict(type='list', elements='dict', default=[], options=variable_spec()),
        host=dict(type='str'),
        write_model=dict(type='path'),
    )


def _discovered(params, context, path, backend):
    """(capabilities or None, source): the cache, else the station's report (then cached)."""
    if params['discover'] != 'refresh':
        cached = read_cache(path)
        if cached:
            return cached, 'cache %s' % path
    if params['discover'] == 'never':
        return None, 'the station model only (discovery off)'
    session = StationSession.for_task(backend(), params['station_id'], context)
    try:
        report = request_report(session, params['timeout'])
    except ModuleFailure as failure:
        if params['discover'] == 'auto' and failure.details.get('kind') in ('station_offline', 'station_timeout'):
            context.warn('station %s: capabilities not discovered (%s); checked against its station model only'
                         % (params['station_id'], failure))
            return None, 'the station model only (station offline)'
        raise
    found = capabilities_from_report(report)
    found.update(vendor=params['vendor'], model=params['model'], firmware_version=params.get('firmware_version'),
                 station_id=params['station_id'], discovered_at=now_rfc3339())
    write_cache(path, found)
    return found, 'the station (GetBaseReport, now cached in %s)' % path


def starting_model(name, params, found, summary):
    """A station model file (YAML text) from what a station reported: the start of a model file for its vendor/model."""
    rows = []
    for key, entry in sorted((found or {}).get('variables', {}).items()):
        match = re.match(r'^([^.\[]+)(?:\[([^\]]*)\])?\.([^\[]+)(?:\[([^\]]*)\])?$', key)
        if not match:
            continue
        row = {'component': match.group(1), 'variable': match.group(3)}
        if match.group(2):
            row['component_instance'] = match.group(2)
        if match.group(4):
            row['instance'] = match.group(4)
        row.update(entry)
        rows.append(row)
    document = {
        'name': name,
        # no station id: every station of a vendor/model gives the same file, so a fleet's second run changes nothing
        'description': 'written by playbooks/gather.yml from a station\'s GetBaseReport',
        'match': [dict({'vendor': params['vendor'], 'model': params['model']},
                       **({'firmware': {'min': params['firmware_version'], 'max': params['firmware_version']}}
                          if params.get('firmware_version') else {}))],
        'slots': summary['slots'],
        'rate_units': summary['rate_units'],
        'items_per_message': summary['limits'].get('ItemsPerMessage', {}),
        'network': {},
        'variables': rows,
    }
    header = ('# Station model written by playbooks/gather.yml (evcs.provisioning.station_capabilities) from the\n'
              '# GetBaseReport(FullInventory) of a station. Review it: map the settings OCPP does not standardize under\n'
              '# network (see station_models/evcs-sim-q.yml for the keys), state the quirks, then put it in a directory of\n'
              '# evcs_station_model_dirs.\n')
    # plain(): Ansible hands the task's strings over as tagged str subclasses, which safe_dump cannot represent
    return header + yaml.safe_dump(plain(document), default_flow_style=None, sort_keys=False, width=120)


def write_model_file(path, text, check_mode):
    """Write a model file unless it already holds ``text``; True when it was (or, in check mode, would be) written."""
    try:
        with open(path) as handle:
            if handle.read() == text:
                return False
    except (IOError, OSError):
        pass
    if not check_mode:
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            os.makedirs(directory)
        with open(path, 'w') as handle:
            handle.write(text)
    return True


class _Backend(object):
    """The task's CSMS backend, made on first use (a run against the cache and the models needs no CSMS)."""

    def __init__(self, params, context):
        self._args, self._backend = (params, context), None

    def __call__(self):
        if self._backend is None:
            self._backend = task_backend(*self._args)
        return self._backend


def _model_name(params):
    return re.sub(r'[^a-z0-9.-]+', '-', ('%s-%s' % (params['vendor'], params['model'])).lower()).strip('-')


def _asks_station(params, path):
    return params['discover'] == 'refresh' or (params['discover'] == 'auto' and read_cache(path) is None)


def run_station_capabilities(params, context):
    host = params.get('host') or params['station_id']
    path = cache_path(cache_dir(params.get('cache_dir')), params['vendor'], params['model'], params.get('firmware_version'))
    backend = _Backend(params, context)
    speaks_16, connection = capabilities16.speaks_16(params, backend, _asks_station(params, path))
    if speaks_16:
        result, text = capabilities16.run_capabilities16(params, context, host, backend, _model_name(params), connection)
        if text is not None:
            result.update(changed=write_model_file(params['write_model'], text, context.check_mode),
                          model_file=params['write_model'], model_name=_model_name(params))
        return result
    try:
        model = load_model(params['station_model'], params['model_dirs'])
    except ModelError as error:
        raise ModuleFailure('%s: evcs_station.station_model = %s: %s' % (host, params['station_model'], error))
    for item in params['variables']:
        if item.get('write_only') and item.get('value') is not None:
            context.add_secret(render(item['value'], value_type(normalise_item(item))))
    found, source = _discovered(params, context, path, backend)
    variables = _from_model_rows(model['variables'])
    variables.update((found or {}).get('variables') or {})
    summary = summarise(variables, (found or {}).get('values') or {}, model)
    problems = check_variables(host, params['variables'], variables, model['name'], source) if variables else []
    if not variables and params['discover'] != 'never' and params['variables']:
        context.warn('%s: no capabilities known (station model %s has none and discovery gave none): the declared '
                     'variables were not checked' % (host, model['name']))
    result = {'changed': False, 'ocpp_version': '2.0.1', 'source': source, 'cache_file': path if found else None,
              'station_model': model['name'], 'checked': len([i for i in params['variables'] if i.get('value') is not None]),
              'known_variables': len(variables),
              'ansible_facts': {'evcs_capabilities': dict(summary, station_id=params['station_id'],
                                                          station_model=model['name'])}}
    result.update(summary)
    if problems:
        raise ModuleFailure('%d declared variable(s) the station would refuse, nothing was changed:\n%s'
                            % (len(problems), '\n'.join(problems)), problems=problems)
    if params.get('write_model'):
        if not HAS_YAML:
            raise ModuleFailure('PyYAML is needed on the controller to write a station model file')
        name = _model_name(params)
        text = starting_model(name, params, found, summary)
        result.update(changed=write_model_file(params['write_model'], text, context.check_mode),
                      model_file=params['write_model'], model_name=name)
    return result
