"""Security profile of an OCPP 1.6 station (security_profile.run_security_profile_16): the URL key and the
SecurityProfile key, a Reset, the reconnect confirmed; a station that cannot connect falls back and is reported; a
downgrade is never sent; prerequisites before anything is written."""

from __future__ import annotations

import pytest

from ansible_collections.evcs.provisioning.plugins.module_utils import security_profile as sp
from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure, RunContext

STATION = 'LAB-CP-0005'
WS, WSS = 'ws://127.0.0.1:9001/ocpp', 'wss://localhost:9002/ocpp'


class _Station16(object):
    """A 1.6 station and the CSMS view of it. ``reachable``: the endpoints it can connect to. ``self_reconnect``: after
    an Accepted SecurityProfile it disconnects and reconnects by itself (A05.FR.06/07), offline for that many looks;
    otherwise it takes the new profile only at a Reset. ``profile_status``: its answer to an allowed SecurityProfile."""

    def __init__(self, profile=1, url=WS, reachable=(WS, WSS), keeps_url_on_fallback=False, self_reconnect=False,
                 profile_status='Accepted'):
        self.keys = {'SecurityProfile': str(profile), 'CentralSystemUrl': url}
        self.conn = {'online': True, 'security_profile': profile, 'endpoint': url + '/' + STATION,
                     'connections_total': 1, 'connected_at': '2026-01-01T00:00:01Z',
                     'boot': {'at': '2026-01-01T00:00:01Z'}, 'ocpp_version': '1.6'}
        self.reachable, self.keeps_url_on_fallback = reachable, keeps_url_on_fallback
        self.self_reconnect, self.profile_status = self_reconnect, profile_status
        self.offline_looks = None
        self.calls = []

    def connection(self, station_id):
        if self.offline_looks is not None:
            self.offline_looks -= 1
            if self.offline_looks > 0:
                return dict(self.conn, online=False)
            self.offline_looks = None
            self._connect(boot=False)
        return dict(self.conn)

    @staticmethod
    def has(capability):
        return capability != 'client_certificate'

    def call(self, station_id, action, payload):
        self.calls.append((action, payload))
        if action == 'GetConfiguration':
            return {'configurationKey': [{'key': k, 'readonly': False, 'value': self.keys[k]} for k in payload['key']
                                         if k in self.keys], 'unknownKey': [k for k in payload['key'] if k not in self.keys]}
        if action == 'ChangeConfiguration':
            if payload['key'] == 'SecurityProfile' and int(payload['value']) <= int(self.keys['SecurityProfile']):
                return {'status': 'Rejected'}
            self.keys[payload['key']] = payload['value']
            if payload['key'] == 'SecurityProfile':
                if self.self_reconnect:
                    self.offline_looks = int(self.self_reconnect)
                return {'status': self.profile_status}
            return {'status': 'RebootRequired'}
        if action == 'Reset':
            assert payload == {'type': 'Hard'}, payload
            self._connect(boot=True)
            return {'status': 'Accepted'}
        raise AssertionError(action)

    def _connect(self, boot):
        count = self.conn['connections_total'] + 1
        moment = '2026-01-01T00:00:%02dZ' % (count + 10)
        profile, url = int(self.keys['SecurityProfile']), self.keys['CentralSystemUrl']
        if url not in self.reachable:   # A05.FR.08: back to the previous profile settings
            profile = self.conn['security_profile']
            self.keys['SecurityProfile'] = str(profile)
            if not self.keeps_url_on_fallback:
                url = self.keys['CentralSystemUrl'] = self.conn['endpoint'].rsplit('/', 1)[0]
            else:
                url = self.conn['endpoint'].rsplit('/', 1)[0]
        self.conn.update(security_profile=profile, endpoint=url + '/' + STATION, connections_total=count,
                         connected_at=moment, boot={'at': moment} if boot else self.conn['boot'])


def _params(**extra):
    params = dict(station_id=STATION, ocpp_version='1.6', security_profile=2, ocpp_csms_url=WSS, url_key='CentralSystemUrl',
                  serial_number='SIM-0005', allowed_hosts=None, allow_downgrade=False, renew_before=30, timeout=5,
                  poll_interval=0.01, csms_root_ca_path=None)
    params.update(extra)
    return params


@pytest.fixture
def no_tls(monkeypatch):
    """The root and the endpoint's TLS are checked elsewhere (integration); here they hold."""
    monkeypatch.setattr(sp, '_root_certificate', lambda params: 'root')
    monkeypatch.setattr(sp, '_check_root_installed16', lambda session, root: None)
    monkeypatch.setattr(sp, '_check_endpoint', lambda params, root: None)


def _run(station, monkeypatch, check_mode=False, **extra):
    monkeypatch.setattr(sp, 'task_backend', lambda params, context: station)
    monkeypatch.setattr(sp, 'add_connection_secrets', lambda params, context: None)
    return sp.run_security_profile(_params(**extra), RunContext(check_mode=check_mode))


def _changes(station):
    return [(p['key'], p['value']) for action, p in station.calls if action == 'ChangeConfiguration']


@pytest.fixture(autouse=True)
def short_grace(monkeypatch):
    from ansible_collections.evcs.provisioning.plugins.module_utils.station import security16
    monkeypatch.setattr(security16, 'SELF_RECONNECT_SECONDS', 0.2, raising=False)


def _resets(station):
    return [p for a, p in station.calls if a == 'Reset']


def test_a_station_that_reconnects_by_itself_gets_no_reset(no_tls, monkeypatch):
    # A05.FR.06/07: it disconnects (offline for a few looks, longer than the grace) and reconnects on the new profile
    station = _Station16(self_reconnect=60)
    result = _run(station, monkeypatch)
    assert result['changed'] and result['reconnect'] == 'by itself' and _resets(station) == []
    assert station.conn['security_profile'] == 2 and station.conn['endpoint'] == WSS + '/' + STATION
    assert not _run(station, monkeypatch)['changed']


def test_a_station_that_reconnects_by_itself_and_falls_back_is_reported_without_a_reset(no_tls, monkeypatch):
    station = _Station16(reachable=(WS,), self_reconnect=3)
    with pytest.raises(ModuleFailure) as failure:
        _run(station, monkeypatch)
    assert failure.value.details['kind'] == 'fell_back' and 'A05.FR.08' in str(failure.value)
    assert _resets(station) == [] and station.conn['security_profile'] == 1


def test_a_station_that_answers_reboot_required_is_reset_at_once(no_tls, monkeypatch):
    monkeypatch.setattr(sp.security16, 'SELF_RECONNECT_SECONDS', 60, raising=False)
    station = _Station16(profile_status='RebootRequired')
    result = _run(station, monkeypatch)
    assert result['reconnect'] == 'after Reset (Hard)' and _resets(station) == [{'type': 'Hard'}]
    assert station.conn['security_profile'] == 2


def test_upgrade_sets_url_then_profile_then_resets(no_tls, monkeypatch):
    # a station that keeps its connection after the Accepted takes the profile at a reboot: one Reset (Hard), TC_083
    station = _Station16()
    result = _run(station, monkeypatch)
    assert result['changed'] and result['from_profile'] == 1 and result['to_profile'] == 2
    assert _changes(station) == [('CentralSystemUrl', WSS), ('SecurityProfile', '2')]
    assert _resets(station) == [{'type': 'Hard'}] and result['reconnect'] == 'after Reset (Hard)'
    assert station.conn['security_profile'] == 2 and station.conn['endpoint'] == WSS + '/' + STATION
    again = _run(station, monkeypatch)
    assert not again['changed'] and _changes(station) == [('CentralSystemUrl', WSS), ('SecurityProfile', '2')]


def test_check_mode_plans_and_sends_nothing(no_tls, monkeypatch):
    station = _Station16()
    result = _run(station, monkeypatch, check_mode=True)
    assert result['changed'] and 'ChangeConfiguration SecurityProfile = 2' in ' '.join(result['plan'])
    assert _changes(station) == [] and result['diff']['after'] == {'security_profile': 2, 'CentralSystemUrl': WSS}


def test_unreachable_endpoint_leaves_the_station_connected_and_reported(no_tls, monkeypatch):
    station = _Station16(reachable=(WS,))
    with pytest.raises(ModuleFailure) as failure:
        _run(station, monkeypatch)
    message = str(failure.value)
    assert 'fell back' in message and 'A05.FR.08' in message and 'previous security profile 1' in message
    assert failure.value.details['kind'] == 'fell_back'
    assert station.conn['online'] and station.conn['security_profile'] == 1 and station.conn['endpoint'].startswith(WS)


def test_a_fallback_that_kept_the_new_url_gets_its_url_back(no_tls, monkeypatch):
    station = _Station16(reachable=(WS,), keeps_url_on_fallback=True)
    with pytest.raises(ModuleFailure, match='CentralSystemUrl set back to %s' % WS):
        _run(station, monkeypatch)
    assert station.keys['CentralSystemUrl'] == WS


@pytest.mark.parametrize('allow', [False, True])
def test_downgrade_is_never_sent(no_tls, monkeypatch, allow):
    station = _Station16(profile=2, url=WSS)
    with pytest.raises(ModuleFailure, match='A00.FR.005') as failure:
        _run(station, monkeypatch, security_profile=1, ocpp_csms_url=WS, allow_downgrade=allow)
    assert failure.value.details['refused'] == 'downgrade' and _changes(station) == []


def test_rejected_profile_sets_the_url_back(no_tls, monkeypatch):
    station = _Station16()
    original = station.call

    def refusing(station_id, action, payload):
        if action == 'ChangeConfiguration' and payload['key'] == 'SecurityProfile':
            station.calls.append((action, payload))
            return {'status': 'Rejected'}
        return original(station_id, action, payload)
    station.call = refusing
    with pytest.raises(ModuleFailure, match='A05.FR.02-04.*CentralSystemUrl was set back'):
        _run(station, monkeypatch)
    assert station.keys['CentralSystemUrl'] == WS and 'Reset' not in [a for a, _p in station.calls]


def test_missing_prerequisite_refuses_before_any_write(monkeypatch):
    station = _Station16()
    with pytest.raises(ModuleFailure, match='refused before anything was sent.*csms_root_ca_path is not set'):
        _run(station, monkeypatch)
    assert _changes(station) == []


def test_a_model_without_url_key_is_refused(no_tls, monkeypatch):
    station = _Station16()
    with pytest.raises(ModuleFailure, match='central_system_url'):
        _run(station, monkeypatch, url_key=None)
    assert _changes(station) == []
