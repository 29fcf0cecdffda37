# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""BasicAuthPassword rotation for security profiles 1 and 2, without a moment where the station is locked out.

The password lives in Vault KV v2 (one path per station). The CSMS learns the new password first (both old and
new are accepted), then the station gets it (SecurityCtrlr.BasicAuthPassword, WriteOnly), is reset, and only
once the CSMS has seen it reconnect is the old password retired. While a rotation runs, the old password is kept
in Vault beside the new one (``<key>_previous``), so an interrupted run is finished by the next one.
"""

from __future__ import annotations

import secrets

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
from ansible_collections.evcs.provisioning.plugins.module_utils.station_reset import send_reset_and_wait
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
        length=dict(type='int', default=32),
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


def _validate(params):
    if not _LENGTHS[0] <= params['length'] <= _LENGTHS[1]:
        raise ModuleFailure('station %s: length %d is outside what OCPP allows for BasicAuthPassword (%d to %d): choose '
                            'a length in that range' % (params['station_id'], params['length'], _LENGTHS[0], _LENGTHS[1]))


def _station_profile(session):
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


def _set_on_station(session, password):
    item = normalise_item(dict(_PASSWORD, value=password))
    apply_changes(session, [dict(item, rendered=password)])


_RECONNECT_HINT = 'the CSMS accepts both passwords, reset the station on site and run again to retire the old one'


def _reconnect(session, params):
    return send_reset_and_wait(session, hint=_RECONNECT_HINT, wait_timeout=params['wait_timeout'],
                               poll_interval=params['poll_interval'])[1]


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
        unknown = new_password(params['length'])
        context.add_secret(unknown)
        _csms_call(station_id, 'retiring the known passwords', backend.set_station_password, station_id, unknown)
    result.update(changed=True, action='retired',
                  diff={'before': {'csms_admits_a_known_password': True}, 'after': {'csms_admits_a_known_password': False}})
    return result


def run_basic_auth_password(params, context):
    _validate(params)
    station_id, key = params['station_id'], params['kv_key']
    previous_key = key + '_previous'
    context.add_secret(params.get('current_password'))
    kv = _Kv(params, context)
    stored = kv.read()
    for value in stored.values():
        context.add_secret(value)
    backend = task_backend(params, context)
    session = StationSession(backend, station_id)
    profile = _station_profile(session)
    if params['retire']:
        return _retire(backend, params, [params.get('current_password'), stored.get(key), stored.get(previous_key)],
                       profile, context)
    if profile == 3:
        raise ModuleFailure('station %s runs security profile 3 (mTLS): it does not use BasicAuthPassword, nothing to '
                            'rotate' % station_id)

    password, previous = stored.get(key), stored.get(previous_key)
    if password and not params['rotate'] and _in_place(backend, station_id, password, previous, context):
        return {'changed': False, 'station_id': station_id, 'kv_path': kv_path(params), 'action': 'none'}

    action = 'rotated' if password else 'created'
    if params['rotate'] and password and not previous:
        previous, password = password, new_password(params['length'])
    elif not password:
        password = new_password(params['length'])
    context.add_secret(password)
    consent = guard_plaintext(params, context, profile, ['SecurityCtrlr.BasicAuthPassword'])
    result = {'changed': True, 'station_id': station_id, 'kv_path': kv_path(params), 'action': action,
              'diff': {'before': {'SecurityCtrlr.BasicAuthPassword': '********'},
                       'after': {'SecurityCtrlr.BasicAuthPassword': ROTATED}}}
    if consent:
        result['diff']['after']['plaintext_secrets'] = result['plaintext_secrets'] = consent
    if context.check_mode:
        return result

    kv.write(dict(stored, **dict([(key, password)] + ([(previous_key, previous)] if previous else []))))
    both = _register(backend, station_id, password, previous, params.get('current_password'))
    _set_on_station(session, password)
    if not both:
        context.warn('station %s: backend %s keeps one password per station, so the new one replaced the old one '
                     'before the station reconnected with it' % (station_id, backend.NAME))
        _csms_call(station_id, 'registering the new password', backend.set_station_password, station_id, password)
    now = _reconnect(session, params)
    _csms_call(station_id, 'retiring the old password', backend.set_station_password, station_id, password)
    kv.write(dict((name, value) for name, value in dict(stored, **{key: password}).items() if name != previous_key))
    result.update(connected_at=now.get('connected_at'), security_profile=now.get('security_profile'))
    return result
