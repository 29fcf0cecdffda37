"""Local authorization list planning, splitting and versioning (OCPP 2.0.1 D01/D02) and id-token records."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

from ansible_collections.evcs.provisioning.plugins.module_utils import local_list
from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure, RunContext

_SPEC = importlib.util.spec_from_file_location('_records_tests', pathlib.Path(__file__).with_name('test_records.py'))
_RECORDS_TESTS = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_RECORDS_TESTS)


class StationCsms(_RECORDS_TESTS.MemoryCsms):
    """Records in memory plus one station that keeps a local list the way OCPP 2.0.1 says."""

    def __init__(self, items=100, size=16384):
        super().__init__()
        self.version = 0
        self.entries = {}
        self.limits = {'ItemsPerMessage': str(items), 'BytesPerMessage': str(size)}
        self.sent = []
        self.answer = None

    def call(self, station_id, action, payload, timeout=None):
        if action == 'GetLocalListVersion':
            return {'versionNumber': self.version}
        if action == 'GetVariables':
            return {'getVariableResult': [
                {'attributeStatus': 'Accepted', 'attributeValue': self.limits[item['variable']['name']],
                 'component': item['component'], 'variable': item['variable']} for item in payload['getVariableData']]}
        assert action == 'SendLocalList'
        self.sent.append(payload)
        if self.answer:
            answer, self.answer = self.answer, None
            return {'status': answer}
        if payload['updateType'] == 'Full':
            self.entries = {}
        elif payload['versionNumber'] <= self.version:
            return {'status': 'VersionMismatch'}
        for item in payload.get('localAuthorizationList', []):
            key = '%s:%s' % (item['idToken']['type'], item['idToken']['idToken'])
            if 'idTokenInfo' in item:
                self.entries[key] = item['idTokenInfo']['status']
            else:
                self.entries.pop(key, None)
        self.version = payload['versionNumber']
        return {'status': 'Accepted'}


def _tokens(*ids, status='Accepted'):
    return [{'id_token': token, 'type': 'ISO14443', 'status': status} for token in ids]


@pytest.fixture
def station():
    backend = StationCsms()
    backend.collections['station']['CP-1'] = {'id': 'CP-1', 'serial_number': 'SN-1'}
    return backend


def test_plan_full_first_then_differential_then_nothing():
    entries = local_list.token_entries(_tokens('A1', 'B2'))
    assert local_list.plan_local_list(0, {}, {}) is None
    assert local_list.plan_local_list(0, {}, entries) == ('Full', entries)
    remembered = {'version': 1, 'entries': entries}
    assert local_list.plan_local_list(1, remembered, entries) is None
    changed = dict(entries, **{'ISO14443:B2': 'Blocked', 'ISO14443:C3': 'Accepted'})
    del changed['ISO14443:A1']
    assert local_list.plan_local_list(1, remembered, changed) == (
        'Differential', {'ISO14443:A1': None, 'ISO14443:B2': 'Blocked', 'ISO14443:C3': 'Accepted'})
    assert local_list.plan_local_list(7, remembered, entries) == ('Full', entries)


def test_split_respects_items_and_bytes():
    changes = local_list.token_entries(_tokens(*['%014X' % n for n in range(10)]))
    assert [len(chunk) for chunk in local_list.split_entries(changes, 4, 100000)] == [4, 4, 2]
    by_bytes = local_list.split_entries(changes, 100, 400)
    assert len(by_bytes) > 1 and sum(len(chunk) for chunk in by_bytes) == 10
    removal = local_list.authorization_data('ISO14443:A1', None)
    assert removal == {'idToken': {'idToken': 'A1', 'type': 'ISO14443'}}


def test_full_then_differential_versions_and_memory(station):
    first = local_list.sync_local_list(station, 'CP-1', local_list.token_entries(_tokens('A1', 'B2')), RunContext())
    assert (first['update_type'], first['version'], station.version) == ('Full', 1, 1)
    assert station.sent[0]['versionNumber'] == 1
    remembered = station.local_lists['CP-1']
    assert remembered['version'] == 1 and set(remembered['entries']) == {'ISO14443:A1', 'ISO14443:B2'}
    second = local_list.sync_local_list(station, 'CP-1', local_list.token_entries(_tokens('A1')), RunContext())
    assert (second['update_type'], second['version']) == ('Differential', 2)
    assert station.sent[-1]['localAuthorizationList'] == [{'idToken': {'idToken': 'B2', 'type': 'ISO14443'}}]
    assert second['diff']['before']['local_list']['entries'] == {'ISO14443:B2': 'Accepted'}
    again = local_list.sync_local_list(station, 'CP-1', local_list.token_entries(_tokens('A1')), RunContext())
    assert not again['changed'] and len(station.sent) == 2


def test_split_full_list_advances_version_per_accepted_message():
    backend = StationCsms(items=3)
    backend.collections['station']['CP-1'] = {'id': 'CP-1'}
    entries = local_list.token_entries(_tokens(*['T%02d' % n for n in range(7)]))
    result = local_list.sync_local_list(backend, 'CP-1', entries, RunContext())
    assert [(msg['updateType'], msg['versionNumber']) for msg in backend.sent] == [
        ('Full', 1), ('Differential', 2), ('Differential', 3)]
    assert result['version'] == backend.version == 3 and backend.entries == entries


def test_version_mismatch_falls_back_to_full(station):
    local_list.sync_local_list(station, 'CP-1', local_list.token_entries(_tokens('A1')), RunContext())
    station.answer = 'VersionMismatch'
    result = local_list.sync_local_list(station, 'CP-1', local_list.token_entries(_tokens('A1', 'B2')), RunContext())
    assert result['update_type'] == 'Full' and result['version'] == 2
    assert station.entries == local_list.token_entries(_tokens('A1', 'B2'))


def test_station_drift_triggers_full_and_refusal_keeps_version(station):
    local_list.sync_local_list(station, 'CP-1', local_list.token_entries(_tokens('A1')), RunContext())
    station.version = 0
    station.entries = {}
    assert local_list.sync_local_list(station, 'CP-1', local_list.token_entries(_tokens('A1')),
                                      RunContext())['update_type'] == 'Full'
    station.answer = 'Failed'
    with pytest.raises(ModuleFailure, match='station CP-1 answered SendLocalList Differential version 2 with Failed'):
        local_list.sync_local_list(station, 'CP-1', local_list.token_entries(_tokens('A1', 'B2')), RunContext())
    assert station.local_lists['CP-1']['version'] == 1


def test_check_mode_sends_nothing(station):
    result = local_list.sync_local_list(station, 'CP-1', local_list.token_entries(_tokens('A1')),
                                        RunContext(check_mode=True))
    assert result['changed'] and result['version'] == 1 and station.sent == []
    assert 'CP-1' not in station.local_lists


def test_token_records_exact_and_absent(station):
    first = local_list.sync_token_records(station, 'depot', _tokens('A1', 'B2'), 'exact', False)
    assert first['create'] == 2 and set(station.collections['id_token']) == {'depot.A1', 'depot.B2'}
    station.collections['id_token']['other.Z9'] = {'id': 'other.Z9', 'group': 'other', 'id_token': 'Z9'}
    second = local_list.sync_token_records(station, 'depot', _tokens('A1', status='Blocked'), 'exact', False)
    assert (second['update'], second['delete']) == (1, 1)
    assert second['diff']['after'] == {'id_tokens': {'A1': {'status': 'Blocked'}, 'B2': {}}}
    assert 'other.Z9' in station.collections['id_token']
    assert not local_list.sync_token_records(station, 'depot', _tokens('A1', status='Blocked'), 'exact', False)['changed']
    gone = local_list.sync_token_records(station, 'depot', [], 'absent', False)
    assert gone['delete'] == 1 and set(station.collections['id_token']) == {'other.Z9'}
