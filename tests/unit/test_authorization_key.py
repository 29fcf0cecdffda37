"""The AuthorizationKey of an OCPP 1.6 station (basic_auth.run_basic_auth_password dispatching to the Security
Extension): the CSMS learns the key first (and the staging password's hexadecimal form), the station gets it by
ChangeConfiguration and reconnects by itself; lengths and stored keys outside 16..20 bytes are refused before any
write; the key never shows."""

from __future__ import annotations

import json

import pytest

from ansible_collections.evcs.provisioning.plugins.module_utils import basic_auth
from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure, RunContext
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CAPABILITIES

STATION = 'LAB-CP-0005'


class _Station16(object):
    """CSMS + 1.6 station: credentials, connection, configuration keys; reconnects after an AuthorizationKey."""
    NAME = 'fake'
    CAPABILITIES = frozenset(CAPABILITIES)

    def __init__(self, profile=1, reconnects=True):
        self.keys = {'SecurityProfile': str(profile)}
        self.accepted, self.log = [], []
        self.conn = {'online': True, 'ocpp_version': '1.6', 'connections_total': 1,
                     'connected_at': '2026-01-01T00:00:01Z', 'boot': {'at': '2026-01-01T00:00:01Z'}}
        self.reconnects = reconnects

    def has(self, capability):
        return capability in self.CAPABILITIES

    def connection(self, station_id):
        return dict(self.conn)

    def call(self, station_id, action, payload):
        self.log.append((action, payload))
        if action == 'GetConfiguration':
            return {'configurationKey': [{'key': k, 'readonly': False, 'value': self.keys[k]} for k in payload['key']
                                         if k in self.keys], 'unknownKey': [k for k in payload['key'] if k not in self.keys]}
        if action == 'ChangeConfiguration':
            assert payload['key'] == 'AuthorizationKey'
            self.keys['AuthorizationKey'] = payload['value']
            if self.reconnects:
                self.conn.update(connections_total=2, connected_at='2026-01-01T00:00:02Z')
            return {'status': 'Accepted'}
        if action == 'Reset':
            self.conn.update(connections_total=3, connected_at='2026-01-01T00:00:03Z', boot={'at': '2026-01-01T00:00:03Z'})
            return {'status': 'Accepted'}
        raise AssertionError(action)

    def set_station_password(self, station_id, password):
        self.log.append(('set', None))
        self.accepted = [password]

    def add_station_password(self, station_id, password):
        self.log.append(('add', None))
        self.accepted.append(password)

    def verify_station_password(self, station_id, password):
        return password in self.accepted


class _Kv(object):
    stored = {}
    writes = []

    def __init__(self, params, context):
        self.path = basic_auth.kv_path(params)

    def read(self):
        return dict(_Kv.stored)

    def write(self, data):
        _Kv.writes.append(dict(data))
        _Kv.stored = dict(data)


@pytest.fixture
def station(monkeypatch):
    _Kv.stored, _Kv.writes = {}, []
    station = _Station16()
    monkeypatch.setattr(basic_auth, 'task_backend', lambda params, context: station)
    monkeypatch.setattr(basic_auth, '_Kv', _Kv)
    return station


def _params(**extra):
    params = dict(station_id=STATION, ocpp_version='1.6', environment='lab', kv_mount='secret', kv_path=None,
                  kv_key='basic_auth_password', rotate=False, length=None, current_password='staging-password-1',
                  wait_timeout=4, poll_interval=0.01, retire=False, allow_plaintext_secrets=True)
    params.update(extra)
    return params


def test_the_station_gets_the_key_the_csms_learnt_first(station):
    context = RunContext()
    registered = []
    original = station.add_station_password

    def add(station_id, password):
        registered.append(list(station.accepted) + [password])
        original(station_id, password)
    station.add_station_password = add
    result = basic_auth.run_basic_auth_password(_params(), context)
    key = _Kv.stored['basic_auth_password']
    assert result['changed'] and result['action'] == 'created'
    assert len(key) == 40 and bytes.fromhex(key) and key == key.upper()
    assert station.keys['AuthorizationKey'] == key
    # the factory key stands for the staging password: the CSMS keeps its hex form beside the new key meanwhile
    assert registered == [['staging-password-1'.encode().hex().upper(), key]]
    order = [entry[0] for entry in station.log]
    assert order.index('add') < order.index('ChangeConfiguration'), 'the CSMS accepts the new key first'
    assert station.accepted == [key], 'the staging password is retired once the station reconnected'
    password = key
    assert 'Reset' not in order, 'a 1.6 station reconnects with its new key by itself (A01)'
    assert result['diff']['after']['AuthorizationKey'] == basic_auth.ROTATED
    assert result['diff']['before'] == {'AuthorizationKey': '********'}
    shown = json.dumps(result)
    assert password not in shown and password.lower() not in shown
    assert password in context.no_log_values
    again = basic_auth.run_basic_auth_password(_params(), RunContext())
    assert not again['changed']


def test_a_station_that_keeps_its_connection_is_reset(station):
    station.reconnects = False
    basic_auth.run_basic_auth_password(_params(), RunContext())
    assert [entry[0] for entry in station.log].count('Reset') == 1


@pytest.mark.parametrize('length', [15, 21, 32])
def test_a_length_outside_16_to_20_bytes_is_refused_before_anything(station, length):
    with pytest.raises(ModuleFailure, match='16 to 20 bytes'):
        basic_auth.run_basic_auth_password(_params(length=length), RunContext())
    assert station.log == [] and _Kv.writes == []


@pytest.mark.parametrize('stored, problem', [
    ('AB' * 15, '30 hexadecimal digits'), ('AB' * 21, '42 hexadecimal digits'),
    ('a-password-that-is-no-hex', 'not a hexadecimal representation'),
])
def test_a_stored_key_outside_the_allowed_length_is_refused_before_any_write(station, stored, problem):
    _Kv.stored = {'basic_auth_password': stored}
    with pytest.raises(ModuleFailure) as failure:
        basic_auth.run_basic_auth_password(_params(), RunContext())
    message = str(failure.value)
    assert problem in message and stored not in message and 'nothing was changed' in message
    assert [entry for entry in station.log if entry[0] != 'GetConfiguration'] == [] and _Kv.writes == []


def test_2_0_1_keeps_its_own_lengths():
    assert basic_auth._validate({'station_id': 'CP', 'length': None}) == 32
    assert basic_auth._validate({'station_id': 'CP', 'length': None}, '1.6') == 20
    with pytest.raises(ModuleFailure, match='16 to 40'):
        basic_auth._validate({'station_id': 'CP', 'length': 41})
