# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A per-station lease that every controller sees: two runs never write to one station at once.

The lease is a Vault KV v2 secret at ``<kv mount>/data/evcs/<environment>/stations/<station_id>/lease`` (under the
station's own prefix, so the environment's policy covers it), written with check-and-set on the version read. It
holds who works on the station (run id, user, controller host, purpose) and until when. A run takes it before its
first write, renews it while it works (each renewal pushes the expiry ``ttl`` seconds ahead), and releases it at the
end; a run that dies stops renewing and its lease expires. A second writer polls until ``wait_timeout`` and then fails,
naming the holder. Check mode takes no lease: a plan and verify.yml write nothing.

A lease is a record of coordination, not a change to the fleet: the task never reports ``changed``.
"""

from __future__ import annotations

import datetime
import getpass
import os
import socket
import time

from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure
from ansible_collections.evcs.provisioning.plugins.module_utils.vault import (
    VaultError, VaultKv, vault_argument_spec, vault_session,
)

#: seconds between two looks at a lease another run holds
POLL_SECONDS = 2.0
_STAMP = '%Y-%m-%dT%H:%M:%SZ'


def station_lease_argument_spec():
    spec = vault_argument_spec()
    spec.update(
        station_id=dict(type='str', required=True),
        environment=dict(type='str', required=True),
        vault_kv_mount=dict(type='str', default='secret'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        ttl=dict(type='int', default=900),
        wait_timeout=dict(type='int', default=120),
        run_id=dict(type='str'),
        purpose=dict(type='str', default=''),
        held=dict(type='dict'),
        renew_margin=dict(type='int'),
    )
    return spec


def lease_path(environment, station_id):
    """The KV v2 path (below the mount's ``data/``) of the station's lease."""
    return 'evcs/%s/stations/%s/lease' % (environment, station_id)


def run_identity(run_id=None):
    """``run_id`` (or ``EVCS_RUN_ID``, else the controller host, the ansible-playbook process and its start time),
    the user and the controller host of this run."""
    host = socket.gethostname()
    if not run_id:
        run_id = os.environ.get('EVCS_RUN_ID') or _process_run_id(host)
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - no passwd entry
        user = str(os.getuid())
    return dict(run_id=run_id, user=os.environ.get('EVCS_RUN_USER') or user, host=host)


def _process_run_id(host):
    """The ansible-playbook process is the parent of the worker that runs the task: its pid and start time name the
    run on this controller (a pid alone is reused)."""
    pid = os.getppid()
    started = ''
    try:
        with open('/proc/%d/stat' % pid) as stat:
            started = stat.read().rsplit(')', 1)[1].split()[19]
    except (OSError, IndexError):
        pass
    return '%s:%d:%s' % (host, pid, started)


def _now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def _stamp(moment):
    return moment.strftime(_STAMP)


def _parse(text):
    try:
        return datetime.datetime.strptime(text, _STAMP).replace(tzinfo=datetime.timezone.utc)
    except (TypeError, ValueError):
        return None


def _read(kv, path):
    """``(lease data, version)``; the version of a deleted secret comes from its metadata (check-and-set needs it)."""
    data, version = kv.read(path)
    if not version:
        answer = kv.session.read('%s/metadata/%s' % (kv.mount, path)) or {}
        version = int((answer.get('data') or {}).get('current_version') or 0)
    return data, version


def _held_by_other(data, me, now):
    """The holder's record when another run holds an unexpired lease, else None."""
    if not data.get('run_id') or data.get('released_at') or data.get('run_id') == me['run_id']:
        return None
    expires = _parse(data.get('expires_at'))
    if expires is None or expires <= now:
        return None
    return data


def describe(holder):
    """One line naming who holds a lease."""
    return 'run %s (user %s on %s%s, since %s, lease expires %s)' % (
        holder.get('run_id'), holder.get('user'), holder.get('host'),
        ', %s' % holder['purpose'] if holder.get('purpose') else '', holder.get('acquired_at'), holder.get('expires_at'))


def _write(kv, path, data, version):
    """Check-and-set write; False when another writer got there first."""
    try:
        kv.session.write('%s/data/%s' % (kv.mount, path), dict(data=data, options=dict(cas=version)))
    except VaultError as exc:
        if 'check-and-set' in str(exc):
            return False
        raise
    return True


def _acquire(kv, path, params, me, sleep):
    deadline = time.monotonic() + max(params['wait_timeout'], 0)
    waited = False
    while True:
        now = _now()
        data, version = _read(kv, path)
        holder = _held_by_other(data, me, now)
        if holder is None:
            renewal = data.get('run_id') == me['run_id'] and not data.get('released_at')
            record = dict(me, purpose=params.get('purpose') or '',
                          acquired_at=data.get('acquired_at') if renewal else _stamp(now),
                          renewed_at=_stamp(now), expires_at=_stamp(now + datetime.timedelta(seconds=params['ttl'])))
            if _write(kv, path, record, version):
                return dict(record, action='renewed' if renewal else 'acquired', waited=waited)
            continue
        if time.monotonic() >= deadline:
            raise ModuleFailure(
                'station %s is being worked on by %s: waited %ds for its lease (%s). Let that run finish and run again; '
                'if it died, its lease expires by itself at %s (or raise evcs_lease_wait)'
                % (params['station_id'], describe(holder), params['wait_timeout'], path, holder.get('expires_at')),
                holder=holder)
        waited = True
        sleep(min(POLL_SECONDS, max(deadline - time.monotonic(), 0.1)))


def _release(kv, path, me):
    for _attempt in range(3):
        data, version = _read(kv, path)
        if data.get('run_id') != me['run_id'] or data.get('released_at'):
            return dict(action='none', holder=data or None)
        if _write(kv, path, dict(data, released_at=_stamp(_now())), version):
            return dict(action='released')
    return dict(action='none')


def _still_held(held, me, margin, now):
    """Whether ``held`` (the lease as this run last wrote it) is this run's, not released, and lasts more than
    ``margin`` seconds from ``now``: then no other run can have taken it (a lease changes hands only once it is
    released or expired), and renewing it now would only move its expiry."""
    if not isinstance(held, dict) or held.get('run_id') != me['run_id'] or held.get('released_at'):
        return False
    expires = _parse(held.get('expires_at'))
    return expires is not None and expires - now > datetime.timedelta(seconds=margin)


def run_station_lease(params, context, sleep=time.sleep):
    """Take, renew (state=present) or release (state=absent) the station's lease; keep it without asking Vault when
    ``held`` shows this run holds it for longer than ``renew_margin`` (default half the ``ttl``)."""
    me = run_identity(params.get('run_id'))
    path = lease_path(params['environment'], params['station_id'])
    result = dict(changed=False, station_id=params['station_id'], path=path, run_id=me['run_id'])
    if context.check_mode:
        result.update(action='none', msg='check mode takes no lease: it writes nothing')
        return result
    margin = params.get('renew_margin')
    margin = params['ttl'] // 2 if margin is None else margin
    if params['state'] == 'present' and _still_held(params.get('held'), me, margin, _now()):
        result.update(action='kept', waited=False, lease=dict(params['held']), vault_requests={})
        return result
    try:
        kv = VaultKv(vault_session(params, context.warn), params.get('vault_kv_mount') or 'secret')
        if params['state'] == 'present':
            lease = _acquire(kv, path, params, me, sleep)
            result.update(action=lease.pop('action'), waited=lease.pop('waited'), lease=lease)
        else:
            result.update(_release(kv, path, me))
        # what this task asked Vault (login included), as the identity tasks report it
        result['vault_requests'] = dict(kv.session.requests)
    except VaultError as exc:
        if params['state'] == 'absent':
            # the run's work is done: a lease that cannot be released expires by itself, and the run's result stands
            context.warn('station %s: the lease %s could not be released (%s): it expires by itself'
                         % (params['station_id'], path, exc))
            result.update(action='none')
            return result
        raise ModuleFailure('station %s: the lease %s could not be taken, so nothing was changed: %s' % (
            params['station_id'], path, exc))
    return result
