"""The per-station lease: check-and-set on a KV v2 secret, waiting for another run, expiry and release."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.evcs.provisioning.plugins.module_utils import lease
from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure, RunContext
from ansible_collections.evcs.provisioning.plugins.module_utils.vault import VaultError

PARAMS = dict(station_id='CP-1', environment='pilot', vault_kv_mount='secret', state='present', ttl=60,
              wait_timeout=5, purpose='provision.yml')


class FakeSession(object):
    """KV v2 as Vault answers it: versions, and check-and-set refused on a stale version."""

    def __init__(self):
        self.secrets = {}
        self.writes = 0
        self.requests = dict(login=0, list=0, read=0, write=0)   # as vault.VaultSession counts them

    def read(self, path):
        mount, kind, rest = path.split('/', 2)
        versions = self.secrets.get(rest)
        if not versions:
            return None
        if kind == 'metadata':
            return dict(data=dict(current_version=len(versions)))
        return dict(data=dict(data=versions[-1], metadata=dict(version=len(versions))))

    def write(self, path, data):
        mount, kind, rest = path.split('/', 2)
        versions = self.secrets.setdefault(rest, [])
        if data['options']['cas'] != len(versions):
            raise VaultError('Vault write on %s failed: check-and-set parameter did not match the current version' % path)
        versions.append(dict(data['data']))
        self.writes += 1
        return {}


@pytest.fixture
def session(monkeypatch):
    fake = FakeSession()
    monkeypatch.setattr(lease, 'vault_session', lambda params, warn=None: fake)
    return fake


def _run(run_id, **params):
    return lease.run_station_lease(dict(PARAMS, run_id=run_id, **params), RunContext(), sleep=lambda s: None)


def test_lease_is_taken_under_the_station_prefix_with_who_and_until_when(session):
    result = _run('run-a')
    assert result['action'] == 'acquired' and result['changed'] is False
    record = session.secrets['evcs/pilot/stations/CP-1/lease'][-1]
    assert record['run_id'] == 'run-a' and record['purpose'] == 'provision.yml' and record['user'] and record['host']
    expires = datetime.datetime.strptime(record['expires_at'], '%Y-%m-%dT%H:%M:%SZ')
    assert 50 <= (expires - datetime.datetime.utcnow()).total_seconds() <= 61


def test_the_same_run_renews_and_another_run_waits_then_fails_naming_the_holder(session, monkeypatch):
    _run('run-a')
    assert _run('run-a')['action'] == 'renewed'
    clock = iter(range(0, 1000, 2))
    monkeypatch.setattr(lease.time, 'monotonic', lambda: next(clock))
    with pytest.raises(ModuleFailure) as refused:
        _run('run-b')
    message = str(refused.value)
    assert 'station CP-1 is being worked on by run run-a' in message and 'provision.yml' in message, message
    assert session.secrets['evcs/pilot/stations/CP-1/lease'][-1]['run_id'] == 'run-a'


def test_a_released_lease_is_taken_by_the_next_run(session):
    _run('run-a')
    assert _run('run-a', state='absent')['action'] == 'released'
    assert _run('run-b')['action'] == 'acquired'
    # a release by a run that does not hold it changes nothing
    assert _run('run-a', state='absent')['action'] == 'none'
    assert session.secrets['evcs/pilot/stations/CP-1/lease'][-1]['run_id'] == 'run-b'


def test_a_lease_that_was_not_renewed_expires(session):
    _run('run-a', ttl=-1)
    assert _run('run-b')['action'] == 'acquired'


def test_a_concurrent_writer_loses_the_check_and_set_and_waits(session, monkeypatch):
    """Both runs read version 0; run-b's write goes first, so run-a's check-and-set fails and it sees run-b's lease."""
    real_read = lease._read

    def racing_read(kv, path):
        answer = real_read(kv, path)
        if not session.secrets.get(path):
            session.write('secret/data/' + path, dict(data=dict(run_id='run-b', user='ci', host='runner',
                                                                  acquired_at='x', expires_at='2999-01-01T00:00:00Z'),
                                                     options=dict(cas=0)))
        return answer
    monkeypatch.setattr(lease, '_read', racing_read)
    clock = iter(range(0, 1000, 3))
    monkeypatch.setattr(lease.time, 'monotonic', lambda: next(clock))
    with pytest.raises(ModuleFailure, match='being worked on by run run-b'):
        _run('run-a')
    assert [v['run_id'] for v in session.secrets['evcs/pilot/stations/CP-1/lease']] == ['run-b']


def test_check_mode_takes_no_lease(session):
    result = lease.run_station_lease(dict(PARAMS, run_id='run-a'), RunContext(check_mode=True))
    assert result['action'] == 'none' and session.writes == 0


def test_run_id_defaults_to_the_playbook_process(monkeypatch):
    monkeypatch.delenv('EVCS_RUN_ID', raising=False)
    first, second = lease.run_identity(), lease.run_identity()
    assert first['run_id'] == second['run_id'] and first['host'] in first['run_id']
    monkeypatch.setenv('EVCS_RUN_ID', 'gha-123')
    assert lease.run_identity()['run_id'] == 'gha-123'


def test_a_release_that_vault_refuses_only_warns(monkeypatch):
    def down(params, warn=None):
        raise VaultError('Vault read on secret/data/x failed after 4 attempts: check vault_url')
    monkeypatch.setattr(lease, 'vault_session', down)
    context = RunContext()
    result = lease.run_station_lease(dict(PARAMS, run_id='run-a', state='absent'), context)
    assert result['action'] == 'none' and 'expires by itself' in context.warnings[0]
    with pytest.raises(ModuleFailure, match='could not be taken, so nothing was changed'):
        lease.run_station_lease(dict(PARAMS, run_id='run-a'), context)


def test_a_renewal_keeps_a_lease_this_run_holds_for_long_enough_without_asking_vault(session):
    """Issue 22: provision.yml renewed every station's lease twice per run (a read and a write each, 500 stations:
    2,000 Vault requests); a lease this run holds for more than the margin is kept, so nothing changes hands."""
    taken = _run('run-a', ttl=900)
    before = dict(session.requests, writes=session.writes)
    kept = _run('run-a', ttl=900, held=taken['lease'])
    assert kept['action'] == 'kept' and kept['lease'] == taken['lease'] and kept['vault_requests'] == {}
    assert dict(session.requests, writes=session.writes) == before
    # another run's record, a released one, or one that expires within the margin is renewed through Vault as before
    soon = dict(taken['lease'], expires_at=lease._stamp(lease._now() + datetime.timedelta(seconds=100)))
    assert _run('run-a', ttl=900, held=soon)['action'] == 'renewed'
    assert _run('run-a', ttl=900, held=soon, renew_margin=50)['action'] == 'kept'
    assert _run('run-a', ttl=900, held=dict(taken['lease'], released_at='x'))['action'] == 'renewed'
    assert session.writes == before['writes'] + 2


def test_another_runs_lease_record_is_never_kept(session, monkeypatch):
    clock = iter(range(0, 10000, 3))
    monkeypatch.setattr(lease.time, 'monotonic', lambda: next(clock))
    taken = _run('run-a', ttl=900)
    with pytest.raises(ModuleFailure, match='being worked on by run run-a'):
        _run('run-b', ttl=900, held=taken['lease'])
