# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reset a station, wait until the CSMS sees it back (new connection and BootNotification), re-verify variables
(OCPP 2.0.1) or configuration keys (OCPP 1.6, whose Reset types are Soft and Hard)."""

from __future__ import annotations

import time
from datetime import datetime

from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CsmsError
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.connection import (
    task_backend, station_argument_spec,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.device_model import (
    StationSession, current_values, differences, normalise_item, variable_key, variable_spec,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.station import configuration_keys
from ansible_collections.evcs.provisioning.plugins.module_utils.station.protocol import ocpp_version_of

#: the 2.0.1 Reset type -> the OCPP 1.6 one: OnIdle waits for the transactions to end like a Soft reset does (it stops
#: them gracefully), Immediate is a Hard reset
RESET_TYPES_16 = {'OnIdle': 'Soft', 'Immediate': 'Hard'}


def station_reset_argument_spec():
    return station_argument_spec(
        type=dict(type='str', default='OnIdle', choices=['OnIdle', 'Immediate']),
        wait_timeout=dict(type='int', default=180),
        poll_interval=dict(type='float', default=1.0),
        verify_variables=dict(type='list', elements='dict', default=[], options=variable_spec()),
        verify_keys=dict(type='list', elements='dict', default=[], options=configuration_keys.key_spec(), no_log=False),
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


#: what a Reset whose answer never reached the CSMS reports: the station closed its websocket to reboot (409
#: station_offline) or went down before answering (504 station_timeout); the reconnect wait confirms it
RESET_UNANSWERED = ('station_offline', 'station_timeout')


def send_reset(session, reset_type='OnIdle', hint='reset it on site'):
    """Reset; the station's answer status, or ``'Unanswered'`` when it rebooted before its answer reached the CSMS."""
    try:
        answer = session.call('Reset', {'type': reset_type})
    except ModuleFailure as failure:
        if failure.details.get('kind') in RESET_UNANSWERED:
            return 'Unanswered'
        raise
    if answer.get('status') not in ('Accepted', 'Scheduled'):
        info = answer.get('statusInfo') or {}
        raise ModuleFailure('station %s answered Reset (%s) with %s (%s): %s' % (
            session.station_id, reset_type, answer.get('status'), info.get('reasonCode', 'no reason given'), hint))
    return answer['status']


def send_reset_and_wait(session, reset_type='OnIdle', hint='reset it on site', wait_timeout=180, poll_interval=1.0,
                        confirm=None):
    """Reset the station and wait until it is back: ``(reset status, connection after the Reset)``.

    ``confirm(before)`` (``before``: the connection the session's CSMS saw before the Reset) replaces the default
    wait (a new connection and BootNotification on that CSMS, ``wait_for_return``) and returns what it found.
    """
    backend, station_id = session.backend, session.station_id
    before = _connection(backend, station_id)
    status = send_reset(session, reset_type, hint)
    if confirm is not None:
        return status, confirm(before)
    return status, wait_for_return(backend, station_id, before, wait_timeout, poll_interval)


def _verify_keys(backend, station_id, items):
    """The 1.6 keys still hold their desired values after the Reset (write-only ones cannot be read)."""
    items = [dict(configuration_keys.normalise_item(item), kind=configuration_keys.kind_of(item))
             for item in items if not item.get('write_only') and item['key'] not in configuration_keys.WRITE_ONLY_KEYS]
    if not items:
        return []
    found, _unknown = configuration_keys.KeySession(backend, station_id).get([item['key'] for item in items])
    current = dict((key, entry['value']) for key, entry in found.items())
    wrong = configuration_keys.differences(items, current)
    if wrong:
        raise ModuleFailure('station %s came back after Reset, but %s: the station did not keep these values'
                            % (station_id, ', '.join('%s = %s (wanted %s)' % (item['key'], current.get(item['key']),
                                                                              item['rendered']) for item in wrong)))
    return [item['key'] for item in items]


def run_station_reset(params, context):
    station_id = params['station_id']
    backend = task_backend(params, context)
    session = StationSession(backend, station_id)
    version = ocpp_version_of(_connection(backend, station_id), params.get('ocpp_version'), station_id)
    reset_type = RESET_TYPES_16[params['type']] if version == '1.6' else params['type']
    if context.check_mode:
        return {'changed': True, 'diff': {'before': {'reset': None}, 'after': {'reset': reset_type}}}
    status, now = send_reset_and_wait(session, reset_type, 'try type=Immediate or reset it on site',
                                      params['wait_timeout'], params['poll_interval'])
    if version == '1.6':
        verified = _verify_keys(backend, station_id, params['verify_keys'])
    else:
        verified = _verify(session, params['verify_variables'])
    return {
        'changed': True,
        'diff': {'before': {'reset': None}, 'after': {'reset': reset_type}},
        'reset_status': status,
        'connected_at': now.get('connected_at'),
        'boot': now.get('boot'),
        'verified': verified,
    }
