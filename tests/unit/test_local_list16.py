# -*- coding: utf-8 -*-
"""The local authorization list of an OCPP 1.6 station: listVersion, idTag entries, SendLocalListMaxLength."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

from ansible_collections.evcs.provisioning.plugins.module_utils import local_list
from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure, RunContext

_SPEC = importlib.util.spec_from_file_location('_records_tests16', pathlib.Path(__file__).with_name('test_records.py'))
_RECORDS_TESTS = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_RECORDS_TESTS)


class Station16Csms(_RECORDS_TESTS.MemoryCsms):
    """Records in memory plus one 1.6 station that keeps a local list the way OCPP 1.6 says."""

    def __init__(self, max_length=2, version=0):
        super().__init__()
        self.collections['station']['CP16'] = {'id': 'CP16'}
        self.version, self.max_length, self.entries, self.sent = version, max_length, {}, []

    def connection(self, station_id):
        return {'online': True, 'ocpp_version': '1.6'}

    def call(self, station_id, action, payload, timeout=None):
        if action == 'GetLocalListVersion':
            return {'listVersion': self.version}
        if action == 'GetConfiguration':
            assert payload == {'key': ['SendLocalListMaxLength']}
            return {'configurationKey': [{'key': 'SendLocalListMaxLength', 'readonly': True,
                                          'value': str(self.max_length)}]}
        assert action == 'SendLocalList', action
        assert 'versionNumber' not in payload and len(payload.get('localAuthorizationList', [])) <= self.max_length
        self.sent.append(payload)
        if payload['updateType'] == 'Full':
            self.entries = {}
        for item in payload.get('localAuthorizationList', []):
            assert set(item) <= {'idTag', 'idTagInfo'}
            if 'idTagInfo' in item:
                self.entries[item['idTag']] = item['idTagInfo']['status']
            else:
                self.entries.pop(item['idTag'], None)
        self.version = payload['listVersion']
        return {'status': 'Accepted'}


def _tokens(*ids, status='Accepted'):
    return [{'id_token': token, 'type': 'ISO14443', 'status': status} for token in ids]


def test_full_then_differential_with_16_fields_split_at_send_local_list_max_length():
    station = Station16Csms(max_length=2)
    entries = local_list.token_entries(_tokens('A1', 'B2', 'C3'))
    first = local_list.sync_local_list(station, 'CP16', entries, RunContext())
    assert [(m['updateType'], m['listVersion']) for m in station.sent] == [('Full', 1), ('Differential', 2)]
    assert station.entries == {'A1': 'Accepted', 'B2': 'Accepted', 'C3': 'Accepted'} and first['version'] == 2
    changed = dict(local_list.token_entries(_tokens('A1')), **local_list.token_entries(_tokens('B2', status='NoCredit')))
    second = local_list.sync_local_list(station, 'CP16', changed, RunContext())
    assert second['update_type'] == 'Differential'
    # a 2.0.1-only status is sent as Invalid; a removed entry has no idTagInfo
    assert station.entries == {'A1': 'Accepted', 'B2': 'Invalid'}
    assert {'idTag': 'C3'} in station.sent[-1]['localAuthorizationList']
    assert not local_list.sync_local_list(station, 'CP16', changed, RunContext())['changed']


def test_a_16_station_without_a_local_list_or_a_too_long_id_tag_is_refused_before_sending():
    with pytest.raises(ModuleFailure, match='does not support a local authorization list'):
        local_list.sync_local_list(Station16Csms(version=-1), 'CP16', local_list.token_entries(_tokens('A1')),
                                   RunContext())
    station = Station16Csms()
    with pytest.raises(ModuleFailure, match='idTag has at most 20 characters: id token\\(s\\) 04A2B3C4D5E6F7A8B9C0D1'):
        local_list.sync_local_list(station, 'CP16', local_list.token_entries(_tokens('04A2B3C4D5E6F7A8B9C0D1', 'OK')),
                                   RunContext())
    assert station.sent == []


@pytest.mark.parametrize('version', [0, 3], ids=['empty', 'holding-a-list'])
def test_a_station_without_a_csms_record_has_its_list_cleared_without_memory(version):
    """decommission.yml with decommission_record=delete, run again: the record is gone, the list is still checked and
    (when the station holds one) cleared with a Full update; nothing is remembered for a station without a record."""
    station = Station16Csms(version=version)
    del station.collections['station']['CP16']
    outcome = local_list.sync_local_list(station, 'CP16', {}, RunContext())
    assert outcome['changed'] == bool(version)
    assert [(m['updateType'], m['listVersion']) for m in station.sent] == ([('Full', 4)] if version else [])
    assert 'CP16' not in station.local_lists
    # a list with entries still needs the record, to remember what was sent
    with pytest.raises(ModuleFailure, match='has no CSMS record'):
        local_list.sync_local_list(station, 'CP16', local_list.token_entries(_tokens('A1')), RunContext())
