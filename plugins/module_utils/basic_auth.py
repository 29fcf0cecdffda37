# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""BasicAuthPassword rotation for security profiles 1 and 2, without a moment where the station is locked out.

The password lives in Vault KV v2 (one path per station). The CSMS learns the new password first (both old and
new are accepted), then the station gets it (SecurityCtrlr.BasicAuthPassword, WriteOnly), is reset, and only
once the CSMS has seen it reconnect is the old password retired. While a rotation runs, the old password is kept
in Vault beside the new one (``<key>_previous``), so an interrupted run is finished by the next one.

An OCPP 1.6 station with the Security Extension takes the same steps with its ``AuthorizationKey`` key: the secret is
the key itself (the hexadecimal representation of 16 to 20 random bytes, A00.FR.205), kept in Vault KV and in the CSMS,
set by ChangeConfiguration; the station reconnects with it by itself (A01), a Reset only when it does not. The staging
password a factory station uses is registered in the CSMS in its hexadecimal form too.
"""

from __future__ import annotations

import secrets
import time

from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure
from ansible_collections.evcs.provisioning.plugins.module_utils.identifiers import checked_station_id, path_segment
from ansible_collections.evcs.provisioning.plugins.module_utils.plaintext_secrets import guard_plaintext, plaintext_argument_spec
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CsmsError
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.connection import (
    lacks, task_backend, station_argument_spec,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.device_model import (
    StationSession, apply_changes, normalise_item,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.station import security16
from ansible_collections.evcs.provisioning.plugins.module_utils.station.configuration_keys import KeySession
from ansible_collections.evcs.provisioning.plugins.module_utils.station.protocol import ocpp_version_of
from ansible_collections.evcs.provisioning.plugins.module_utils.station_reset import (
    came_back, send_reset, send_reset_and_wait,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.vault import (
    VaultError, VaultKv, vault_argument_spec, vault_session,
)

ROTATED = '(rotated)'
_PASSWORD = {'component': {'name': 'SecurityCtrlr'}, 'variable': {'name': 'BasicAuthPassword'}, 'write_only': True}
#: OCPP 2.0.1 BasicAuthPassword: 16 to 40 characters (passwordString)
_LENGTHS = (16, 40)


def basic_auth_password_argument_spec():
    spec = station_argument_spec(**vault_argument_spec())
    spec.update(
        environment=dict(type='str', required=True),
        kv_mount=dict(type='str', default='secret'),
        kv_path=dict(type='str'),
        kv_key=dict(type='str', default='basic_auth_password', no_log=False),
        rotate=dict(type='bool', default=False),
        length=dict(type='int'),
        current_password=dict(type='str', no_log=True),
        wait_timeout=dict(type='int', default=120),
        poll_interval=dict(type='float', default=1.0),
        retire=dict(type='bool', default=False),
    )
    spec.update(plaintext_argument_spec())
    return spec


def kv_path(params):
    return params.get('kv_path') or 'evcs/%s/stations/%s' % (path_segment(params['environment']),
                                                             path_segment(checked_station_id(params['station_id'])))


def new_password(length):
    """A random password of ``length`` characters that fits OCPP's passwordString (URL-safe alphabet)."""
    return secrets.token_urlsafe(length)[:length]


#: the password length generated when none is given: OCPP 2.0.1 passwordString, the 1.6 AuthorizationKey
DEFAULT_LENGTHS = {'2.0.1': 32, '1.6': security16.DEFAULT_PASSWORD_BYTES}


class _Kv(object):
    """One station's secrets in Vault KV v2, written with check-and-set on the version read: a concurrent writer makes
    the task fail instead of silently losing a password."""

    def __init__(self, params, context):
        self.kv = VaultKv(_vault(vault_session, params, context.warn), params['kv_mount'])
        self.path = kv_path(params)
        self.version = 0

    def read(self):
        data, self.version = _vault(self.kv.current, self.path)
        return data

    def write(self, data):
        self.version = _vault(self.kv.replace, self.path, data, self.version)


def _vault(function, *args):
    """Call the Vault client; its failures (which name the path and what to fix) become the task's failure."""
    try:
        return function(*args)
    except VaultError as exc:
        raise ModuleFailure(str(exc))


def _csms_call(station_id, what, function, *args):
    try:
        return function(*args)
    except CsmsError as exc:
        raise ModuleFailure('station %s: %s failed in the CSMS: %s' % (station_id, what, exc))


def _validate(params, version='2.0.1'):
    """The password length to generate, checked against what the station's OCPP version allows (before anything
    is read or written)."""
    length = params.get('length') or DEFAULT_LENGTHS.get(version, DEFAULT_LENGTHS['2.0.1'])
    if security16.is_16(version):
        problem = security16.length_problem(length)
        if problem:
            raise ModuleFailure('station %s: length %s: choose 16 to 20 (bytes of the password; the AuthorizationKey is '
                                'twice as many hex digits)' % (params['station_id'], problem), field='length', value=length)
        return length
    if not _LENGTHS[0] <= length <= _LENGTHS[1]:
        raise ModuleFailure('station %s: length %d is outside what OCPP allows for BasicAuthPassword (%d to %d): choose '
                            'a length in that range' % (params['station_id'], length, _LENGTHS[0], _LENGTHS[1]))
    return length


def _check_stored16(params, stored, key, path):
    """A key kept in Vault for a 1.6 station must be a valid AuthorizationKey (32 to 40 hex digits): refused before
    anything is written, naming the secret but never its value."""
    for name in (key, key + '_previous'):
        problem = security16.authorization_key_problem(stored[name]) if stored.get(name) else None
        if problem:
            raise ModuleFailure('station %s: the AuthorizationKey in Vault KV %s (key %s) %s; nothing was changed: put '
                                'the hexadecimal form of a 16 to 20 byte password there, or delete the key so that a new '
                                'one is generated' % (params['station_id'], path, name, problem), field=name)


def _new_secret(version, length):
    """A new password (2.0.1) or AuthorizationKey (1.6)."""
    return security16.new_authorization_key(length) if security16.is_16(version) else new_password(length)


def _station_profile(session, version=None):
    if security16.is_16(version):
        found, _unknown = KeySession(session.backend, session.station_id, max_keys=0).get([security16.SECURITY_PROFILE])
        return security16.integer(found.get(security16.SECURITY_PROFILE, {}).get('value'))
    results = session.get([normalise_item({'component': {'name': 'SecurityCtrlr'}, 'variable': {'name': 'SecurityProfile'}})])
    value = list(results.values())[0].get('attributeValue') if results else None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _in_place(backend, station_id, password, previous, context):
    """The CSMS accepts the Vault password, no retired one, and the station is connected. A backend without
    ``password_check`` cannot tell: a station online with no rotation pending is then reported as not verifiable."""
    if previous and not backend.has('password_check'):
        return False
    if backend.has('password_check'):
        if not _csms_call(station_id, 'credential check', backend.verify_station_password, station_id, password):
            return False
        if previous and _csms_call(station_id, 'credential check', backend.verify_station_password, station_id, previous):
            return False
    connection = _csms_call(station_id, 'reading the connection', backend.connection, station_id) or {}
    if connection.get('online'):
        lacks(backend, 'password_check', context, 'whether the CSMS accepts the Vault password of station %s' % station_id)
    return bool(connection.get('online'))


def _register(backend, station_id, password, previous, current_password):
    """Make the CSMS accept ``password`` beside the one the station uses now (the previous Vault password, else
    ``current_password``, the factory one, which the CSMS accepts only while it stores none for the station).
    Returns False when the backend keeps one password per station: the new one is then registered once the station
    took it (:func:`_register_after`)."""
    if not backend.has('password_rotation'):
        return False
    if previous and backend.has('password_check') and _csms_call(station_id, 'credential check',
                                                                 backend.verify_station_password, station_id, previous):
        _csms_call(station_id, 'registering the new password', backend.add_station_password, station_id, password)
        return True
    # the factory password is stored beside the new one (not merely added to): a CSMS that admits it only while it
    # stores no password for the station would otherwise lock the station out until it has its new one
    if current_password:
        _csms_call(station_id, 'registering the passwords', backend.set_station_password, station_id, current_password)
    _csms_call(station_id, 'registering the new password', backend.add_station_password, station_id, password)
    return True


def _set_on_station(session, password, version=None):
    if security16.is_16(version):
        keys = KeySession(session.backend, session.station_id, max_keys=0)
        status = keys.change(security16.AUTHORIZATION_KEY, password)
        if status not in ('Accepted', 'RebootRequired'):
            raise ModuleFailure('station %s answered ChangeConfiguration AuthorizationKey with %s: it keeps its old key '
                                '(A01.FR.04) and the CSMS still accepts it' % (session.station_id, status or 'no status'))
        return
    item = normalise_item(dict(_PASSWORD, value=password))
    apply_changes(session, [dict(item, rendered=password)])


_RECONNECT_HINT = 'the CSMS accepts both passwords, reset the station on site and run again to retire the old one'


def _reconnect(session, params, version=None, before=None):
    if security16.is_16(version):
        return _reconnect16(session, params, before or {})
    return send_reset_and_wait(session, hint=_RECONNECT_HINT, wait_timeout=params['wait_timeout'],
                               poll_interval=params['poll_interval'])[1]


def _reconnect16(session, params, before, clock=None, sleep=None):
    """A 1.6 station reconnects with its new AuthorizationKey by itself (A01 step 3); one that keeps its connection
    for half the wait gets a Reset (Hard)."""
    clock, sleep = clock or time.monotonic, sleep or time.sleep
    backend, station_id = session.backend, session.station_id
    started, reset_at = clock(), None
    while True:
        now = _csms_call(station_id, 'reading the connection', backend.connection, station_id) or {}
        if security16.reconnected(before, now) and (reset_at is None or came_back(reset_at, now)):
            return now
        if reset_at is None and clock() - started >= params['wait_timeout'] / 2.0:
            reset_at = now
            send_reset(session, 'Hard', _RECONNECT_HINT)
        if clock() - started >= params['wait_timeout']:
            raise ModuleFailure('station %s took its new AuthorizationKey but did not reconnect within %ds: %s'
                                % (station_id, params['wait_timeout'], _RECONNECT_HINT))
        sleep(params['poll_interval'])


def _retire(backend, params, known, profile, context):
    """A profile-3 station uses no password: make the CSMS admit none that anyone knows. When it still admits the
    staging password or a former Vault password of the station, it gets a random password nobody keeps (never sent
    to the station, never stored); once it refuses them, nothing changes."""
    station_id = params['station_id']
    result = {'changed': False, 'station_id': station_id, 'kv_path': kv_path(params), 'action': 'none'}
    if profile != 3 and context.check_mode:
        # a plan: the security stage moves the station to profile 3 first; what the CSMS admits is checked then
        result['action'] = 'checked after the move to profile 3'
        return result
    if profile != 3:
        raise ModuleFailure('station %s runs security profile %s, not 3: it still needs its BasicAuthPassword; retire '
                            'applies to profile-3 stations only' % (station_id, profile))
    if lacks(backend, 'password_check', context, 'whether the CSMS still admits a known password of station %s'
                                                 % station_id):
        return result
    admitted = [password for password in known if password
                and _csms_call(station_id, 'credential check', backend.verify_station_password, station_id, password)]
    if not admitted:
        return result
    if not context.check_mode:
        unknown = _new_secret(params.get('ocpp_version'), params['length'])
        context.add_secret(unknown)
        _csms_call(station_id, 'retiring the known passwords', backend.set_station_password, station_id, unknown)
    result.update(changed=True, action='retired',
                  diff={'before': {'csms_admits_a_known_password': True}, 'after': {'csms_admits_a_known_password': False}})
    return result


def _version(backend, params):
    try:
        connection = backend.connection(params['station_id']) or {}
    except CsmsError:
        connection = {}
    return ocpp_version_of(connection, params.get('ocpp_version'), params['station_id']), connection


def run_basic_auth_password(params, context):
    station_id, key = params['station_id'], params['kv_key']
    context.add_secret(params.get('current_password'))
    backend = task_backend(params, context)
    version, _connection = _version(backend, params)
    params = dict(params, length=_validate(params, version), ocpp_version=version)
    if security16.is_16(version) and params.get('current_password'):
        # a factory 1.6 station's key stands for the staging password: the CSMS compares the hexadecimal form
        params['current_password'] = security16.hex_of(params['current_password'])
        context.add_secret(params['current_password'])
    previous_key = key + '_previous'
    kv = _Kv(params, context)
    stored = kv.read()
    for value in stored.values():
        context.add_secret(value)
    session = StationSession(backend, station_id)
    profile = _station_profile(session, version)
    if params['retire']:
        return _retire(backend, params, [params.get('current_password'), stored.get(key), stored.get(previous_key)],
                       profile, context)
    if profile == 3:
        raise ModuleFailure('station %s runs security profile 3 (mTLS): it does not use BasicAuthPassword, nothing to '
                            'rotate' % station_id)
    label = 'AuthorizationKey' if security16.is_16(version) else 'SecurityCtrlr.BasicAuthPassword'
    if security16.is_16(version):
        _check_stored16(params, stored, key, kv_path(params))

    password, previous = stored.get(key), stored.get(previous_key)
    if password and not params['rotate'] and _in_place(backend, station_id, password, previous, context):
        return {'changed': False, 'station_id': station_id, 'kv_path': kv_path(params), 'action': 'none'}

    action = 'rotated' if password else 'created'
    if params['rotate'] and password and not previous:
        previous, password = password, _new_secret(version, params['length'])
    elif not password:
        password = _new_secret(version, params['length'])
    context.add_secret(password)
    consent = guard_plaintext(params, context, profile, [label])
    result = {'changed': True, 'station_id': station_id, 'kv_path': kv_path(params), 'action': action,
              'diff': {'before': {label: '********'}, 'after': {label: ROTATED}}}
    if consent:
        result['diff']['after']['plaintext_secrets'] = result['plaintext_secrets'] = consent
    if context.check_mode:
        return result

    kv.write(dict(stored, **dict([(key, password)] + ([(previous_key, previous)] if previous else []))))
    both = _register(backend, station_id, password, previous, params.get('current_password'))
    before = _csms_call(station_id, 'reading the connection', backend.connection, station_id) or {}
    _set_on_station(session, password, version)
    if not both:
        context.warn('station %s: backend %s keeps one password per station, so the new one replaced the old one '
                     'before the station reconnected with it' % (station_id, backend.NAME))
        _csms_call(station_id, 'registering the new password', backend.set_station_password, station_id, password)
    now = _reconnect(session, params, version, before)
    _csms_call(station_id, 'retiring the old password', backend.set_station_password, station_id, password)
    kv.write(dict((name, value) for name, value in dict(stored, **{key: password}).items() if name != previous_key))
    result.update(connected_at=now.get('connected_at'), security_profile=now.get('security_profile'))
    return result
