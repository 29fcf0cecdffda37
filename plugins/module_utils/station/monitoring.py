# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Variable monitors on the station (OCPP 2.0.1 N02-N06): GetMonitoringReport -> compare -> SetVariableMonitoring of
the differences in one request, ClearVariableMonitoring of those no longer declared.

A monitor is identified by where it watches (component with its instance, EVSE and connector; variable with its
instance) and its type; its value, severity and ``transaction`` flag are what can drift. States, as the network
resource modules define them:

- ``merged``: the declared monitors are on the station (added, or their value/severity changed); others stay;
- ``overridden``: the station's monitors are exactly the declared ones: others are cleared. A monitor the station
  refuses to clear (hard-wired or preconfigured by its maker) is the station's own: it is reported, never a change;
- ``deleted``: the declared monitors (matched by place and type) are cleared;
- ``gathered``: nothing is written; the station's monitors are returned.
"""

from __future__ import annotations

import random

from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CsmsError, StationTimeout
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.connection import (
    lacks, station_argument_spec, task_backend,
)

#: OCPP 2.0.1 MonitorEnumType
MONITOR_TYPES = ('UpperThreshold', 'LowerThreshold', 'Delta', 'Periodic', 'PeriodicClockAligned')
STATES = ('merged', 'overridden', 'deleted', 'gathered')
_REPORT_TIMEOUT = 30


def monitor_spec():
    """The suboptions of one monitor (shared with the inventory's ``evcs_station.monitoring.monitors``)."""
    return dict(
        component=dict(type='dict', required=True, options=dict(
            name=dict(type='str', required=True), instance=dict(type='str'),
            evse=dict(type='int'), connector=dict(type='int'))),
        variable=dict(type='dict', required=True, options=dict(
            name=dict(type='str', required=True), instance=dict(type='str'))),
        type=dict(type='str', required=True, choices=list(MONITOR_TYPES)),
        value=dict(type='float', required=True),
        severity=dict(type='int', default=5),
        transaction=dict(type='bool', default=False),
    )


def variable_monitoring_argument_spec():
    return station_argument_spec(
        monitors=dict(type='list', elements='dict', default=[], options=monitor_spec()),
        state=dict(type='str', default='merged', choices=list(STATES)),
        report_timeout=dict(type='int', default=_REPORT_TIMEOUT),
    )


# -- the station's monitors as comparable entries ------------------------------------------------------------------
def _component(data):
    evse = data.get('evse') or {}
    if isinstance(evse, dict):
        evse_id, connector_id = evse.get('id'), evse.get('connectorId')
    else:
        evse_id, connector_id = evse, data.get('connector')
    return (data['name'], data.get('instance'), evse_id, connector_id if evse_id is not None else None)


def _variable(data):
    return (data['name'], data.get('instance'))


def _key(component, variable, kind):
    return component + variable + (kind,)


def _declared(monitor):
    """A declared monitor (module options) as ``(key, entry)``."""
    component = _component(monitor['component'])
    variable = _variable(monitor['variable'])
    entry = {'component': component, 'variable': variable, 'type': monitor['type'], 'value': float(monitor['value']),
             'severity': int(monitor['severity']), 'transaction': bool(monitor['transaction'])}
    return _key(component, variable, monitor['type']), entry


def reported_monitors(reports):
    """``{key: entry}`` from the NotifyMonitoringReport parts (entries also carry the station's ``id``)."""
    found = {}
    for report in reports:
        for item in (report.get('payload') or report).get('monitor') or []:
            component, variable = _component(item['component']), _variable(item['variable'])
            for monitor in item.get('variableMonitoring') or []:
                key = _key(component, variable, monitor['type'])
                found[key] = {'id': monitor['id'], 'component': component, 'variable': variable, 'type': monitor['type'],
                              'value': float(monitor['value']), 'severity': int(monitor['severity']),
                              'transaction': bool(monitor.get('transaction'))}
    return found


def _label(entry):
    name, instance, evse, connector = entry['component']
    where = name + ('[%s]' % instance if instance else '')
    if evse is not None:
        where += '@evse%s' % evse + ('/connector%s' % connector if connector is not None else '')
    variable, variable_instance = entry['variable']
    return '%s.%s%s %s' % (where, variable, '[%s]' % variable_instance if variable_instance else '', entry['type'])


def _shown(entry):
    return {'value': entry['value'], 'severity': entry['severity'], 'transaction': entry['transaction']}


def _payload_component(component):
    name, instance, evse, connector = component
    data = {'name': name}
    if instance:
        data['instance'] = instance
    if evse is not None:
        data['evse'] = dict({'id': evse}, **({'connectorId': connector} if connector is not None else {}))
    return data


def _payload_variable(variable):
    name, instance = variable
    return dict({'name': name}, **({'instance': instance} if instance else {}))


def plan(current, wanted, state):
    """``(to_set, to_clear)``: the SetMonitoringData entries (with the station's ``id`` where one is replaced) and the
    current entries to clear, for ``state``."""
    to_set, to_clear = [], []
    if state in ('merged', 'overridden'):
        for key, entry in sorted(wanted.items(), key=lambda item: _label(item[1])):
            have = current.get(key)
            if have is None or _shown(have) != _shown(entry):
                to_set.append(dict(entry, id=have['id']) if have else entry)
    if state == 'overridden':
        to_clear = [entry for key, entry in sorted(current.items(), key=lambda item: _label(item[1])) if key not in wanted]
    if state == 'deleted':
        to_clear = [current[key] for key in sorted(wanted, key=lambda k: _label(wanted[k])) if key in current]
    return to_set, to_clear


# -- OCPP ----------------------------------------------------------------------------------------------------------
def _call(backend, station_id, action, payload):
    try:
        return backend.call(station_id, action, payload)
    except CsmsError as exc:
        raise ModuleFailure('station %s: %s failed: %s' % (station_id, action, exc), error=exc.kind)


def read_monitors(backend, station_id, timeout=_REPORT_TIMEOUT):
    """The station's monitors (``{key: entry}``) through GetMonitoringReport and its NotifyMonitoringReport parts."""
    request_id = random.randint(1, 2 ** 31 - 1)
    since = backend.now()
    answer = _call(backend, station_id, 'GetMonitoringReport', {'requestId': request_id})
    status = answer.get('status')
    if status == 'EmptyResultSet':
        return {}
    if status != 'Accepted':
        raise ModuleFailure('station %s answered GetMonitoringReport with %s: it cannot report its variable monitors, so '
                            'they cannot be managed; remove evcs_station.monitoring.monitors for this station'
                            % (station_id, status), error='monitoring_report')
    try:
        reports = backend.wait_for_message(station_id, 'NotifyMonitoringReport', since, timeout, request_id=request_id)
    except StationTimeout:
        raise ModuleFailure('station %s did not send its NotifyMonitoringReport %s within %d s' % (station_id, request_id, timeout),
                            error='monitoring_report')
    except CsmsError as exc:
        raise ModuleFailure('station %s: reading its monitoring report failed: %s' % (station_id, exc), error=exc.kind)
    return reported_monitors(reports)


def _set(backend, station_id, entries):
    data = []
    for entry in entries:
        item = {'value': entry['value'], 'type': entry['type'], 'severity': entry['severity'],
                'transaction': entry['transaction'], 'component': _payload_component(entry['component']),
                'variable': _payload_variable(entry['variable'])}
        if entry.get('id') is not None:
            item['id'] = entry['id']
        data.append(item)
    answer = _call(backend, station_id, 'SetVariableMonitoring', {'setMonitoringData': data})
    refused = ['%s: %s' % (_label(entry), result.get('status'))
               for entry, result in zip(entries, answer.get('setMonitoringResult') or [])
               if result.get('status') != 'Accepted']
    if refused:
        raise ModuleFailure('station %s refused variable monitor(s): %s; check the component and variable exist on this '
                            'model and support monitoring (capability discovery lists them)' % (station_id, '; '.join(refused)),
                            error='monitor_refused')


def _clear(backend, station_id, entries):
    """Clear ``entries``; returns (cleared, kept): kept are the station's own monitors it refused to clear."""
    answer = _call(backend, station_id, 'ClearVariableMonitoring', {'id': [entry['id'] for entry in entries]})
    status = dict((item.get('id'), item.get('status')) for item in answer.get('clearMonitoringResult') or [])
    cleared = [entry for entry in entries if status.get(entry['id']) in ('Accepted', 'NotFound')]
    kept = [entry for entry in entries if entry not in cleared]
    return cleared, kept


def run_variable_monitoring(params, context):
    station_id = params['station_id']
    backend = task_backend(params, context)
    result = dict(changed=False, monitors=[], set=[], cleared=[])
    if lacks(backend, 'station_messages', context, 'the variable monitors of station %s' % station_id):
        return result
    wanted = dict(_declared(monitor) for monitor in params['monitors'])
    current = read_monitors(backend, station_id, params['report_timeout'])
    result['monitors'] = [dict(_shown(entry), monitor=_label(entry), id=entry['id'])
                          for entry in sorted(current.values(), key=_label)]
    if params['state'] == 'gathered':
        return result
    to_set, to_clear = plan(current, wanted, params['state'])
    kept = []
    if not context.check_mode:
        if to_set:
            _set(backend, station_id, to_set)
        if to_clear:
            to_clear, kept = _clear(backend, station_id, to_clear)
    for entry in kept:
        context.warn('station %s keeps its own monitor %s (id %s): it refused to clear it (hard-wired or preconfigured)'
                     % (station_id, _label(entry), entry['id']))
    result.update(changed=bool(to_set or to_clear), set=[_label(entry) for entry in to_set],
                  cleared=[_label(entry) for entry in to_clear])
    if result['changed']:
        before = dict((_label(entry), _shown(entry)) for entry in current.values()
                      if _label(entry) in result['set'] + result['cleared'])
        after = dict((_label(entry), _shown(entry)) for entry in to_set)
        result['diff'] = {'before': {'monitors': before}, 'after': {'monitors': after}}
    return result
