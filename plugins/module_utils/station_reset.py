# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reset a station, wait until the CSMS sees it back (new connection and BootNotification), re-verify variables."""

from __future__ import annotations

import time
from datetime import datetime

from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CsmsError
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.connection import (
    csms_backend, station_argument_spec,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.device_model import (
    StationSession, current_values, differences, normalise_item, variable_key, variable_spec,
)


def station_reset_argument_spec():
    return station_argument_spec(
        type=dict(type='str', default='OnIdle', choices=['OnIdle', 'Immediate']),
        wait_timeout=dict(type='int', default=180),
        poll_interval=dict(type='float', default=1.0),
        verify_variables=dict(type='list', elements='dict', default=[], options=variable_spec()),
    )


def _moment(text):
    """A comparable datetime from an RFC 3339 timestamp (``Z`` or an offset), or None."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).replace('Z', '+00:00'))
    except ValueError:
        return None


def _connection(backend, station_id):
    try:
        return backend.connection(station_id) or {}
    except CsmsError as error:
        return {'error': str(error)}


def came_back(before, now):
    """Whether ``now`` shows a connection newer than ``before`` and a BootNotification sent on it."""
    if not now.get('online'):
        return False
    connected, booted = _moment(now.get('connected_at')), _moment((now.get('boot') or {}).get('at'))
    previous = _moment(before.get('connected_at'))
    if connected is None or booted is None:
        return False
    if before.get('connections_total') is not None and now.get('connections_total') is not None:
        new_connection = now['connections_total'] > before['connections_total']
    else:
        new_connection = previous is None or connected > previous
    return new_connection and booted >= connected


def _seen(connection):
    boot = connection.get('boot') or {}
    return 'online=%s connected_at=%s boot=%s at %s%s' % (
        connection.get('online'), connection.get('connected_at'), boot.get('status'), boot.get('at'),
        (' error=' + connection['error']) if connection.get('error') else '')


def wait_for_return(backend, station_id, before, wait_timeout, poll_interval, clock=time.monotonic, sleep=time.sleep):
    deadline = clock() + wait_timeout
    now = _connection(backend, station_id)
    while not came_back(before, now):
        if clock() >= deadline:
            raise ModuleFailure('station %s did not come back within %ds after Reset (last seen by the CSMS: %s): check '
                                'its power and network, and that the network profile it rebooted into points at this '
                                'CSMS' % (station_id, wait_timeout, _seen(now)), connection=now)
        sleep(poll_interval)
        now = _connection(backend, station_id)
    return now


def _verify(session, items):
    if not items:
        return []
    items = [normalise_item(item) for item in items]
    current = current_values(session, items)
    wrong = differences(items, current)
    if wrong:
        raise ModuleFailure('station %s came back after Reset, but %s: the station did not keep these values'
                            % (session.station_id, ', '.join('%s = %s (wanted %s)' % (
                                variable_key(item), current.get(variable_key(item)), item['rendered']) for item in wrong)))
    return [variable_key(item) for item in items]


def run_station_reset(params, context):
    station_id = params['station_id']
    backend = csms_backend(params, context.warn)
    session = StationSession(backend, station_id)
    if context.check_mode:
        return {'changed': True, 'diff': {'before': {'reset': None}, 'after': {'reset': params['type']}}}
    before = _connection(backend, station_id)
    answer = session.call('Reset', {'type': params['type']})
    if answer.get('status') not in ('Accepted', 'Scheduled'):
        info = answer.get('statusInfo') or {}
        raise ModuleFailure('station %s answered Reset (%s) with %s (%s): try type=Immediate or reset it on site' % (
            station_id, params['type'], answer.get('status'), info.get('reasonCode', 'no reason given')))
    now = wait_for_return(backend, station_id, before, params['wait_timeout'], params['poll_interval'])
    verified = _verify(session, params['verify_variables'])
    return {
        'changed': True,
        'diff': {'before': {'reset': None}, 'after': {'reset': params['type']}},
        'reset_status': answer.get('status'),
        'connected_at': now.get('connected_at'),
        'boot': now.get('boot'),
        'verified': verified,
    }
