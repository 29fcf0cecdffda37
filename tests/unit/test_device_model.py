# -*- coding: utf-8 -*-
"""Normalisation, batching/splitting and diff building of the device_model logic."""

from __future__ import annotations

import pytest

from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure, RunContext
from ansible_collections.evcs.provisioning.plugins.module_utils.device_model import (
    LIMITS_FACT, MASK, WRITE_ONLY_CHANGED, StationSession, build_diff, current_values, differences, message_size,
    normalise, normalise_item, render, split_batches, value_type, variable_key,
)


def _item(component, variable, value=None, **extra):
    component = component if isinstance(component, dict) else {'name': component}
    variable = variable if isinstance(variable, dict) else {'name': variable}
    return normalise_item(dict({'component': component, 'variable': variable, 'value': value}, **extra))


@pytest.mark.parametrize('station_value,desired,kind,equal', [
    ('true', True, 'boolean', True),
    ('1', True, 'boolean', True),
    ('FALSE', False, 'boolean', True),
    ('0', True, 'boolean', False),
    ('300', 300, 'integer', True),
    (' 300 ', '300', 'integer', True),
    ('300.0', 300, 'integer', True),
    ('301', 300, 'integer', False),
    ('16.50', 16.5, 'decimal', True),
    ('1E+1', 10, 'decimal', True),
    ('Power.Active.Import,Energy.Active.Import.Register', ['Energy.Active.Import.Register', 'Power.Active.Import'],
     'set', True),
    ('1,0', [0, 1], 'list', False),
    ('0, 1', [0, 1], 'list', True),
    ('abc', 'abc ', 'string', False),
])
def test_normalise_compares_by_meaning(station_value, desired, kind, equal):
    assert (normalise(station_value, kind) == normalise(desired, kind)) is equal


def test_value_type_is_inferred_from_value_and_measurand_names():
    assert value_type(_item('OCPPCommCtrlr', 'HeartbeatInterval', 300)) == 'integer'
    assert value_type(_item('AuthCtrlr', 'AuthorizeRemoteStart', True)) == 'boolean'
    assert value_type(_item('SampledDataCtrlr', 'TxUpdatedMeasurands', ['a'])) == 'set'
    assert value_type(_item('OCPPCommCtrlr', 'NetworkConfigurationPriority', [1, 0])) == 'list'
    assert value_type(_item('ClockCtrlr', 'NtpServerUri', 'pool.ntp.org')) == 'string'
    assert value_type(_item('X', 'Y', '5', value_type='integer')) == 'integer'


def test_render_produces_ocpp_strings():
    assert render(True, 'boolean') == 'true'
    assert render('0', 'boolean') == 'false'
    assert render([1, 0], 'list') == '1,0'
    assert render(['b', 'a'], 'set') == 'b,a'
    assert render(30, 'integer') == '30'


def test_variable_key_names_instance_evse_connector_and_attribute():
    assert variable_key(_item('OCPPCommCtrlr', 'HeartbeatInterval')) == 'OCPPCommCtrlr.HeartbeatInterval'
    assert variable_key(_item({'name': 'NetworkInterface', 'instance': 'Wired0'}, 'Enabled')) == \
        'NetworkInterface[Wired0].Enabled'
    assert variable_key(_item({'name': 'Connector', 'evse': 1, 'connector': 2}, 'ConnectorType')) == \
        'Connector[1/2].ConnectorType'
    assert variable_key(_item({'name': 'EVSE', 'evse': 1}, {'name': 'Power'}, attribute_type='MaxSet')) == \
        'EVSE[1].Power(MaxSet)'
    assert variable_key(_item('DeviceDataCtrlr', {'name': 'ItemsPerMessage', 'instance': 'GetVariables'})) == \
        'DeviceDataCtrlr.ItemsPerMessage[GetVariables]'


def _entries(count, value='x'):
    return [{'component': {'name': 'C%d' % n}, 'variable': {'name': 'V'}, 'attributeValue': value} for n in range(count)]


def test_split_by_items_per_message():
    batches = split_batches('SetVariables', _entries(7), items_limit=3)
    assert [len(b) for b in batches] == [3, 3, 1]


def test_split_by_bytes_per_message_keeps_every_request_within_the_limit():
    entries = _entries(10, value='y' * 40)
    limit = message_size('SetVariables', entries[:3])
    batches = split_batches('SetVariables', entries, bytes_limit=limit)
    assert sum(len(b) for b in batches) == 10
    assert all(message_size('SetVariables', b) <= limit for b in batches)
    assert [len(b) for b in batches] == [3, 3, 3, 1]


def test_split_without_limits_is_one_request():
    assert len(split_batches('GetVariables', _entries(50))) == 1


def test_single_entry_above_bytes_limit_fails_with_the_names():
    with pytest.raises(ModuleFailure, match=r'C0\.V.*BytesPerMessage of 100'):
        split_batches('SetVariables', _entries(1, value='z' * 200), bytes_limit=100)


def test_differences_and_diff_hold_only_changed_pairs_and_mask_write_only():
    items = [
        _item('OCPPCommCtrlr', 'HeartbeatInterval', 300),
        _item('AuthCtrlr', 'AuthorizeRemoteStart', True),
        _item('SecurityCtrlr', 'BasicAuthPassword', 'secret-password-123', write_only=True),
    ]
    current = {'OCPPCommCtrlr.HeartbeatInterval': '60', 'AuthCtrlr.AuthorizeRemoteStart': '1'}
    assert [variable_key(i) for i in differences(items, current)] == ['OCPPCommCtrlr.HeartbeatInterval']
    changes = differences(items, current, update_write_only='always')
    diff = build_diff(changes, current)
    assert diff == {
        'before': {'OCPPCommCtrlr.HeartbeatInterval': '60', 'SecurityCtrlr.BasicAuthPassword': MASK},
        'after': {'OCPPCommCtrlr.HeartbeatInterval': '300', 'SecurityCtrlr.BasicAuthPassword': WRITE_ONLY_CHANGED},
    }
    assert 'secret-password-123' not in repr(diff)


class _RecordingBackend(object):
    """Answers GetVariables like a station with ItemsPerMessage 2 for GetVariables; records every request."""

    def __init__(self):
        self.requests = []

    def call(self, station_id, action, payload, timeout=None):
        self.requests.append((action, payload))
        results = []
        for entry in payload['getVariableData']:
            value = {'ItemsPerMessage': '2', 'BytesPerMessage': '4000'}.get(entry['variable']['name'], '7')
            results.append(dict(entry, attributeStatus='Accepted', attributeValue=value))
        return {'getVariableResult': results}


def test_session_reads_limits_first_and_splits_gets():
    backend = _RecordingBackend()
    session = StationSession(backend, 'CP1')
    items = [_item('C%d' % n, 'V') for n in range(5)]
    results = session.get(items)
    assert len(results) == 5
    sizes = [len(payload['getVariableData']) for _, payload in backend.requests]
    assert sizes == [4, 2, 2, 1]
    assert session.limits[('GetVariables', 'ItemsPerMessage')] == 2


def test_limits_are_returned_as_a_host_fact_once_and_reused_from_it():
    backend = _RecordingBackend()
    first = StationSession.for_task(backend, 'CP1', RunContext())
    first.get([_item('C1', 'V')])
    fact = first.facts()['ansible_facts'][LIMITS_FACT]
    assert fact == {'station_id': 'CP1', 'GetVariables': {'ItemsPerMessage': 2, 'BytesPerMessage': 4000},
                    'SetVariables': {'ItemsPerMessage': 2, 'BytesPerMessage': 4000}}
    backend.requests.clear()
    later = StationSession.for_task(backend, 'CP1', RunContext(task_vars={LIMITS_FACT: fact}))
    later.get([_item('C%d' % n, 'V') for n in range(3)])
    assert [len(payload['getVariableData']) for _, payload in backend.requests] == [2, 1]
    assert later.facts() == {}, 'a task that did not read the limits returns no fact'
    other = StationSession.for_task(backend, 'CP2', RunContext(task_vars={LIMITS_FACT: fact}))
    assert not other.limits_known, "another station's limits are never used"


def test_limits_without_any_accepted_value_are_read_only_once():
    class _NoLimits(_RecordingBackend):
        def call(self, station_id, action, payload, timeout=None):
            self.requests.append((action, payload))
            return {'getVariableResult': [dict(entry, attributeStatus='UnknownVariable')
                                          for entry in payload['getVariableData']]}
    backend = _NoLimits()
    session = StationSession(backend, 'CP1')
    session.get([_item('C1', 'V')])
    session.get([_item('C2', 'V')])
    assert len(backend.requests) == 3
    assert session.facts()['ansible_facts'][LIMITS_FACT]['GetVariables'] == {}


def test_current_values_reads_a_variable_listed_twice_once():
    backend = _RecordingBackend()
    session = StationSession(backend, 'CP1', limits={})
    values = current_values(session, [_item('C1', 'V', 1), _item('C1', 'V')])
    assert values == {'C1.V': '7'}
    assert [len(payload['getVariableData']) for _, payload in backend.requests] == [1]
