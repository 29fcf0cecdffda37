"""The EDA event source evcs.provisioning.station_events: inventory matching, provisioning slots, the cursor, the
events it queues (from a backend without a network) and a backend without the capability."""

from __future__ import annotations

import asyncio
import importlib.util
import pathlib

import pytest

from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CapabilityMissing, CsmsBackend

_SOURCE = pathlib.Path(__file__).resolve().parents[2] / 'extensions' / 'eda' / 'plugins' / 'event_source' / 'station_events.py'
_spec = importlib.util.spec_from_file_location('station_events', _SOURCE)
source = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(source)

LISTING = {'_meta': {'hostvars': {
    'CP-1': {'evcs_station': {'id': 'CP-1', 'serial_number': 'SN-1'}},
    'host-two': {'evcs_station': {'id': 'CP-2', 'serial_number': 'SN-2'}},
    'CP-GONE': {'evcs_station': {'id': 'CP-GONE', 'serial_number': 'SN-G', 'state': 'absent'}},
    'localhost': {},
}}}


def _inventory(listing=None):
    reads = []

    def _reader():
        reads.append(1)
        return listing or LISTING
    return source.Inventory(refresh=60, reader=_reader), reads


def test_a_declared_station_with_its_serial_matches():
    inventory, _ = _inventory()
    assert inventory.lookup('CP-2', 'SN-2', check_serial=True) == {
        'declared': True, 'host': 'host-two', 'serial_number': 'SN-2', 'serial_matches': True}


def test_another_serial_or_none_does_not_match_and_an_absent_station_is_not_declared():
    inventory, _ = _inventory()
    assert inventory.lookup('CP-1', 'SN-X', check_serial=True)['serial_matches'] is False
    assert inventory.lookup('CP-1', None, check_serial=True)['serial_matches'] is False
    assert inventory.lookup('CP-GONE', 'SN-G', check_serial=True)['declared'] is False
    assert inventory.lookup('CP-9', 'SN-9', check_serial=True) == {
        'declared': False, 'host': None, 'serial_number': None, 'serial_matches': False}
    assert inventory.lookup('CP-1')['serial_matches'] is None


def test_the_inventory_is_read_again_for_an_unknown_station_at_most_every_few_seconds():
    inventory, reads = _inventory()
    inventory.lookup('CP-1', 'SN-1', check_serial=True)
    inventory.lookup('CP-9', 'SN-9', check_serial=True)
    inventory.lookup('CP-1', 'SN-1', check_serial=True)
    assert len(reads) == 1
    inventory._read_at -= 10
    inventory.lookup('CP-9', 'SN-9', check_serial=True)
    assert len(reads) == 2
    inventory.lookup('CP-1', 'SN-1', check_serial=True)
    assert len(reads) == 2


def test_a_station_always_gets_the_same_slot_and_slots_are_bounded():
    slots = set(source.provision_lock('CP-%d' % number, 4) for number in range(200))
    assert slots == set('evcs-provision-%d' % slot for slot in range(4))
    assert source.provision_lock('CP-7', 4) == source.provision_lock('CP-7', 4)


def test_meta_hosts_only_for_a_declared_station():
    inventory, _ = _inventory()
    declared = source.enrich({'station_id': 'CP-2', 'type': 'boot', 'cursor': '3',
                              'data': {'serial_number': 'SN-2', 'status': 'Pending'}}, inventory, 4)
    assert declared['meta'] == {'hosts': 'host-two'} and declared['evcs']['inventory']['serial_matches'] is True
    stray = source.enrich({'station_id': 'CP-9', 'type': 'boot', 'cursor': '4',
                           'data': {'serial_number': 'SN-9', 'status': 'Pending'}}, inventory, 4)
    assert 'meta' not in stray and stray['evcs']['inventory']['declared'] is False


def test_the_cursor_is_kept_and_resumed(tmp_path):
    path = str(tmp_path / 'state' / 'cursor')
    assert source._load_cursor(path, 'now') == 'now'
    assert source._load_cursor(path, 'beginning') == '0'
    source._save_cursor(path, '42')
    assert source._load_cursor(path, 'now') == '42'


class _Backend(CsmsBackend):
    NAME = 'fake'
    CAPABILITIES = frozenset({'station_events'})
    REQUIRES = ()

    def __init__(self, pages):
        self.pages = list(pages)
        self.asked = []

    @classmethod
    def from_params(cls, params, options, warn=None):
        return cls([])

    def events(self, since=None, timeout=0):
        self.asked.append(since)
        if not self.pages:
            raise asyncio.CancelledError()
        return self.pages.pop(0)

    def call(self, station_id, action, payload, timeout=None):
        raise NotImplementedError

    def connection(self, station_id):
        return None

    def read_record(self, kind, record_id):
        return None

    def create_record(self, kind, record_id, data):
        raise NotImplementedError

    def update_record(self, kind, record_id, changes):
        raise NotImplementedError

    def delete_record(self, kind, record_id):
        raise NotImplementedError

    def find_records(self, kind, **filters):
        return []

    def set_station_password(self, station_id, password):
        raise NotImplementedError


def test_main_queues_each_event_and_resumes_from_the_kept_cursor(tmp_path, monkeypatch):
    boot = {'cursor': '5', 'station_id': 'CP-1', 'type': 'boot', 'at': '2026-12-07T12:00:00.000Z',
            'data': {'serial_number': 'SN-1', 'status': 'Pending'}}
    backend = _Backend([([boot], '5'), ([], '5')])
    monkeypatch.setattr(source, 'connect', lambda args: backend)
    monkeypatch.setattr(source.Inventory, '_ansible_inventory', lambda self: LISTING)
    cursor_file = tmp_path / 'cursor'
    cursor_file.write_text('4')
    queue = asyncio.Queue()
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(source.main(queue, {'cursor_file': str(cursor_file), 'poll_timeout': 0}))
    assert backend.asked[0] == '4'
    queued = queue.get_nowait()
    assert queued['evcs']['station_id'] == 'CP-1' and queued['meta'] == {'hosts': 'CP-1'}
    assert queued['evcs']['lock'].startswith('evcs-provision-')
    assert cursor_file.read_text() == '5'


def test_a_backend_without_station_events_is_refused_naming_it():
    class _Plain(_Backend):
        NAME = 'plain'
        CAPABILITIES = frozenset()
    with pytest.raises(CapabilityMissing) as refused:
        CsmsBackend.events(_Plain([]))
    assert 'backend plain cannot publish one stream of the events of all stations' in str(refused.value)
