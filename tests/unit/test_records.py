"""Record read-compare-write: only managed, changed top-level fields are written."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.evcs.provisioning.plugins.module_utils import records
from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure, RunContext
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import (
    CAPABILITIES, RECORD_FIELDS, CsmsBackend, CsmsError,
)


class MemoryCsms(CsmsBackend):
    """An in-memory registry that counts writes (the record logic under test never sees HTTP)."""

    NAME = 'memory'
    CAPABILITIES = frozenset(CAPABILITIES)

    def __init__(self, capabilities=None):
        self.collections = dict((kind, {}) for kind in RECORD_FIELDS)
        self.writes = []
        self.local_lists = {}
        if capabilities is not None:
            self.CAPABILITIES = frozenset(capabilities)

    def read_record(self, kind, record_id):
        record = self.collections[kind].get(record_id)
        return dict(record) if record else None

    def create_record(self, kind, record_id, data):
        self.writes.append(('create', kind, record_id, dict(data)))
        self.collections[kind][record_id] = dict(data, id=record_id, updated_at='t')
        return dict(self.collections[kind][record_id])

    def update_record(self, kind, record_id, changes):
        self.writes.append(('update', kind, record_id, dict(changes)))
        self.collections[kind][record_id].update(changes)
        return dict(self.collections[kind][record_id])

    def delete_record(self, kind, record_id):
        self.writes.append(('delete', kind, record_id, None))
        return self.collections[kind].pop(record_id, None) is not None

    def find_records(self, kind, **filters):
        return [dict(record) for record in self.collections[kind].values()
                if all(record.get(key) == value for key, value in filters.items())]

    def local_list_memory(self, station_id):
        self.require('local_list')
        if station_id not in self.collections['station']:
            raise CsmsError('no station %s' % station_id, kind='not_found')
        return self.local_lists.get(station_id)

    def remember_local_list(self, station_id, memory):
        self.require('local_list')
        self.local_lists[station_id] = memory

    def call(self, station_id, action, payload, timeout=None):
        raise AssertionError('no OCPP here')

    def connection(self, station_id):
        return None

    def set_station_password(self, station_id, password):
        return None


def test_normalise_numbers_dates_and_unordered_lists():
    assert records.normalise(32.0) == 32
    assert records.normalise(datetime.date(2026, 1, 15)) == '2026-01-15'
    when = datetime.datetime(2026, 1, 15, 8, 0, tzinfo=datetime.timezone.utc)
    assert records.normalise(when) == '2026-01-15T08:00:00Z'
    assert records.normalise({'a': None, 'b': 1.0}) == {'b': 1}
    assert records.normalise([{'id': 2}, {'id': 1}], unordered=True) == [{'id': 1}, {'id': 2}]
    assert records.normalise([2, 1]) == [2, 1]


def test_changed_fields_ignores_unmanaged_and_equal_values():
    current = {'id': 'x', 'name': 'Depot', 'capacity': 100.0, 'other': 'kept', 'updated_at': 'yesterday'}
    desired = records.desired_fields({'name': 'Depot', 'capacity': 100, 'timezone': 'Europe/Berlin', 'id': 'x'})
    assert records.changed_fields(current, desired) == {'timezone': 'Europe/Berlin'}


def test_sync_creates_then_patches_only_the_difference_then_nothing():
    backend = MemoryCsms()
    first = records.sync_record(backend, 'site', 'depot', {'name': 'Depot', 'timezone': 'UTC'})
    assert first['changed'] and first['operation'] == 'create'
    assert first['diff'] == {'before': {}, 'after': {'name': 'Depot', 'timezone': 'UTC'}}
    backend.collections['site']['depot']['owned_elsewhere'] = 1
    second = records.sync_record(backend, 'site', 'depot', {'name': 'Depot', 'timezone': 'Europe/Berlin'})
    assert second['diff'] == {'before': {'timezone': 'UTC'}, 'after': {'timezone': 'Europe/Berlin'}}
    assert backend.writes[-1] == ('update', 'site', 'depot', {'timezone': 'Europe/Berlin'})
    assert backend.collections['site']['depot']['owned_elsewhere'] == 1
    third = records.sync_record(backend, 'site', 'depot', {'name': 'Depot', 'timezone': 'Europe/Berlin'})
    assert not third['changed'] and len(backend.writes) == 2


def test_check_mode_writes_nothing_and_absent_deletes():
    backend = MemoryCsms()
    planned = records.sync_record(backend, 'tariff', 't1', {'currency': 'EUR'}, check_mode=True)
    assert planned['changed'] and backend.writes == []
    records.sync_record(backend, 'tariff', 't1', {'currency': 'EUR'})
    gone = records.sync_record(backend, 'tariff', 't1', {}, state='absent')
    assert gone['operation'] == 'delete' and gone['diff']['before'] == {'currency': 'EUR'}
    assert not records.sync_record(backend, 'tariff', 't1', {}, state='absent')['changed']


def _station_params(**overrides):
    params = dict((key, None) for key in records.station_record_argument_spec())
    params.update(station_id='CP-1', serial_number='SN-1', status='active', state='present', evses=[
        {'id': 2, 'phases': 3, 'voltage_v': 230, 'max_current_a': 32, 'connectors': [
            {'id': 1, 'type': 'cType2', 'format': 'Socket', 'max_current_a': None, 'power_type': None,
             'max_voltage': None, 'max_amperage': None, 'max_electric_power': None}]},
        {'id': 1, 'phases': None, 'voltage_v': None, 'max_current_a': None, 'connectors': [
            {'id': 1, 'type': 'cCCS2', 'format': 'Cable', 'max_current_a': 125, 'power_type': 'DC',
             'max_voltage': 920, 'max_amperage': None, 'max_electric_power': 50000}]}])
    params.update(overrides)
    return params


def test_station_evses_are_ordered_and_filled_from_inventory_values(monkeypatch):
    backend = MemoryCsms()
    monkeypatch.setattr(records, 'task_backend', lambda params, context: backend)
    result = records.run_station(_station_params(), RunContext())
    evses = result['station']['evses']
    assert [evse['id'] for evse in evses] == [1, 2]
    assert evses[1]['connectors'][0] == {'id': 1, 'type': 'cType2', 'format': 'Socket', 'power_type': 'AC_3_PHASE',
                                         'max_voltage': 230, 'max_amperage': 32, 'max_electric_power': 22080}
    assert evses[0]['connectors'][0]['max_amperage'] == 125
    assert not records.run_station(_station_params(), RunContext())['changed']


def test_station_refusals_name_station_and_field(monkeypatch):
    monkeypatch.setattr(records, 'task_backend', lambda params, context: MemoryCsms())
    with pytest.raises(ModuleFailure, match='station CP-1: serial_number is missing'):
        records.run_station(_station_params(serial_number=None), RunContext())
    doubled = _station_params()
    doubled['evses'][1]['id'] = 2
    with pytest.raises(ModuleFailure, match=r'station CP-1: evses names id 2 more than once'):
        records.run_station(doubled, RunContext())


def test_a_kind_the_backend_does_not_keep_is_reported_and_nothing_is_read_or_written():
    backend = MemoryCsms(capabilities=set(CAPABILITIES) - {'tariffs'})
    context = RunContext()
    outcome = records.sync_record(backend, 'tariff', 't1', {'currency': 'EUR'}, context=context)
    assert not outcome['changed'] and outcome['operation'] == 'none' and backend.writes == []
    assert context.unverifiable == ['not verifiable with backend memory: tariff t1: backend memory cannot keep tariff '
                                    'records']
