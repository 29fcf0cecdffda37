# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Id-token allow lists: the CSMS's id-token records of a site or group, and a station's local authorization list.

The local list follows OCPP 2.0.1 D01/D02: GetLocalListVersion first; a Full update (SendLocalList) when the
station has no list (version 0) or its version is not the one the CSMS remembers, a Differential update of only
the added, changed and removed entries otherwise. The version advances only when the station answers Accepted; on
VersionMismatch the station's version is read again and a Full update sent. Requests are split to the station's
``LocalAuthListCtrlr.ItemsPerMessage``/``BytesPerMessage``. The applied list is remembered in the station's CSMS
memory (``version``, ``hash``, ``entries``; ``CsmsBackend.remember_local_list``).

An OCPP 1.6 station (its CSMS connection says so) gets the same plan with 1.6 semantics: ``listVersion`` (-1: the
station has no local list), ``idTag``/``idTagInfo`` entries (the id token without its type; at most 20 characters),
requests split at its ``SendLocalListMaxLength`` configuration key, and the 2.0.1-only statuses sent as ``Invalid``
(the token is not authorized; 1.6 knows only Accepted, Blocked, Expired, Invalid and ConcurrentTx).
"""

from __future__ import annotations

import hashlib
import json

from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CsmsError, StationOffline
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.connection import (
    csms_argument_spec, lacks, task_backend,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.records import apply_record, remove_record
from ansible_collections.evcs.provisioning.plugins.module_utils.station.protocol import ocpp_version_of

_ID_TOKEN_TYPES = ['Central', 'eMAID', 'ISO14443', 'ISO15693', 'KeyCode', 'Local', 'MacAddress', 'NoAuthorization']
_STATUSES = ['Accepted', 'Blocked', 'ConcurrentTx', 'Expired', 'Invalid', 'NoCredit', 'NotAllowedTypeOutlet',
             'NotAtThisLocation', 'NotAtThisTime', 'Unknown']
#: request overhead of a SendLocalListRequest besides its entries (versionNumber, updateType, brackets)
_REQUEST_OVERHEAD = 96
#: OCPP 1.6 AuthorizationStatus; a 2.0.1-only status is sent to a 1.6 station as Invalid (not authorized)
STATUSES_16 = ('Accepted', 'Blocked', 'Expired', 'Invalid', 'ConcurrentTx')
#: OCPP 1.6 IdToken is a CiString20
ID_TAG_MAX_16 = 20


def id_tokens_argument_spec():
    token = dict(id_token=dict(type='str', required=True, no_log=False),
                 type=dict(type='str', default='ISO14443', choices=_ID_TOKEN_TYPES),
                 status=dict(type='str', default='Accepted', choices=_STATUSES))
    spec = csms_argument_spec()
    spec.update(
        group=dict(type='str', required=True),
        tokens=dict(type='list', elements='dict', options=token, default=[], no_log=False),
        state=dict(type='str', default='present', choices=['present', 'exact', 'absent']),
        records=dict(type='bool', default=True),
        station_id=dict(type='str'),
        local_list=dict(type='bool', default=False),
        local_list_tokens=dict(type='list', elements='dict', options=token, default=[], no_log=False),
        station_offline=dict(type='str', default='fail', choices=['fail', 'warn']),
    )
    return spec


ID_TOKENS_REQUIRED_IF = [('local_list', True, ('station_id',))]


def run_id_tokens(params, context):
    """Synchronise the group's id-token records, then (``local_list``) the station's local list."""
    backend = task_backend(params, context)
    result = dict(changed=False, diff={'before': {}, 'after': {}})
    if params['records'] and not lacks(backend, 'id_tokens', context, 'id-token records of group %s' % params['group']):
        _merge(result, 'id_tokens', sync_token_records(backend, params['group'], params['tokens'], params['state'],
                                                       context.check_mode))
    if params['local_list'] and not lacks(backend, 'local_list', context,
                                          'local list of station %s' % params['station_id']):
        entries = token_entries(params['tokens'] + params['local_list_tokens']) if params['state'] != 'absent' else {}
        _merge(result, 'local_list', sync_local_list(backend, params['station_id'], entries, context,
                                                     params['station_offline']))
    return result


def _merge(result, name, outcome):
    result['changed'] = result['changed'] or outcome.pop('changed')
    diff = outcome.pop('diff')
    result['diff']['before'].update(diff['before'])
    result['diff']['after'].update(diff['after'])
    result[name] = outcome


# -- the CSMS's id-token records ------------------------------------------------------------------------------

def token_record_id(group, id_token):
    return '%s.%s' % (group, id_token)


def sync_token_records(backend, group, tokens, state, check_mode):
    """Write the group's tokens; ``exact`` also deletes the group's tokens ``tokens`` does not name, ``absent``
    deletes the named tokens (all of the group's when none are named)."""
    current = dict((record['id'], record) for record in _group_records(backend, group))
    desired = dict((token_record_id(group, token['id_token']), dict(token, group=group)) for token in tokens)
    outcomes = []
    if state == 'absent':
        doomed = [record_id for record_id in current if not desired or record_id in desired]
    else:
        outcomes = [apply_record(backend, 'id_token', record_id, current.get(record_id), fields, check_mode)
                    for record_id, fields in sorted(desired.items())]
        doomed = [record_id for record_id in current if record_id not in desired] if state == 'exact' else []
    outcomes.extend(remove_record(backend, 'id_token', record_id, current[record_id], check_mode)
                    for record_id in sorted(doomed))
    return _token_summary(group, outcomes)


def _group_records(backend, group):
    try:
        return backend.find_records('id_token', group=group)
    except CsmsError as exc:
        raise ModuleFailure('CSMS id-token records of group %s: %s' % (group, exc), error=exc.kind)


def _token_summary(group, outcomes):
    changed = [outcome for outcome in outcomes if outcome['changed']]
    before = dict((_token_name(outcome), outcome['diff']['before']) for outcome in changed)
    after = dict((_token_name(outcome), outcome['diff']['after']) for outcome in changed)
    counts = dict((operation, sum(1 for outcome in changed if outcome['operation'] == operation))
                  for operation in ('create', 'update', 'delete'))
    return dict(changed=bool(changed), group=group, diff={'before': _nonempty(before), 'after': _nonempty(after)},
                **counts)


def _token_name(outcome):
    return (outcome['diff']['before'] or outcome['diff']['after'] or {}).get('id_token') or outcome['record'].get('id_token')


def _nonempty(tokens):
    return {'id_tokens': tokens} if tokens else {}


# -- the station's local authorization list -------------------------------------------------------------------

def token_entries(tokens):
    """``{'<type>:<id_token>': status}``: the form a local list is compared and remembered in."""
    return dict(('%s:%s' % (token['type'], token['id_token']), token['status']) for token in tokens)


def entries_hash(entries):
    return hashlib.sha256(json.dumps(entries, sort_keys=True).encode('utf-8')).hexdigest()


def plan_local_list(station_version, remembered, entries):
    """What to send: ``None`` (nothing), ``('Full', entries)`` or ``('Differential', changes)``.

    ``changes`` maps each added or changed entry to its status and each removed entry to None.
    """
    remembered = remembered or {}
    if station_version == 0 and not entries:
        return None
    if station_version == 0 or remembered.get('version') != station_version:
        return ('Full', dict(entries))
    known = remembered.get('entries') or {}
    changes = dict((key, status) for key, status in entries.items() if known.get(key) != status)
    changes.update((key, None) for key in known if key not in entries)
    return ('Differential', changes) if changes else None


def authorization_data(key, status, ocpp_version='2.0.1'):
    """One ``AuthorizationData`` of SendLocalList; without ``idTokenInfo`` (status None) it removes the entry."""
    token_type, id_token = key.split(':', 1)
    if ocpp_version == '1.6':
        item = {'idTag': id_token}
        if status is not None:
            item['idTagInfo'] = {'status': status if status in STATUSES_16 else 'Invalid'}
        return item
    item = {'idToken': {'idToken': id_token, 'type': token_type}}
    if status is not None:
        item['idTokenInfo'] = {'status': status}
    return item


def split_entries(changes, items_per_message, bytes_per_message, ocpp_version='2.0.1'):
    """``AuthorizationData`` lists, each within the station's item and byte limits."""
    chunks, chunk, size = [], [], _REQUEST_OVERHEAD
    for key in sorted(changes):
        item = authorization_data(key, changes[key], ocpp_version)
        item_size = len(json.dumps(item, separators=(',', ':'))) + 1
        if chunk and (len(chunk) >= items_per_message or size + item_size > bytes_per_message):
            chunks.append(chunk)
            chunk, size = [], _REQUEST_OVERHEAD
        chunk.append(item)
        size += item_size
    if chunk:
        chunks.append(chunk)
    return chunks


def sync_local_list(backend, station_id, entries, context, station_offline='fail'):
    """Bring the station's local list to ``entries``; returns changed, diff, version, update_type, messages."""
    remembered, recorded = _memory(backend, station_id, context.check_mode, clearing=not entries)
    session = _LocalListSession(backend, station_id, _version(backend, station_id))
    if session.ocpp_version == '1.6':
        _check_16(station_id, entries)
    try:
        station_version = session.version()
    except StationOffline as exc:
        if station_offline == 'fail':
            raise ModuleFailure(str(exc), error='station_offline')
        context.warn('%s; its local list was not checked' % exc)
        return dict(changed=False, diff={'before': {}, 'after': {}}, skipped=True, version=remembered.get('version'))
    plan = plan_local_list(station_version, remembered, entries)
    if plan is None:
        return dict(changed=False, diff={'before': {}, 'after': {}}, version=station_version, update_type=None,
                    messages=0)
    update_type, version, messages = plan[0], station_version + 1, 0
    if not context.check_mode:
        update_type, version, messages = session.send(plan, station_version, entries)
        if recorded:
            _remember(backend, station_id, version, entries)
    return dict(changed=True, diff=_list_diff(station_version, remembered, plan, version), version=version,
                update_type=update_type, messages=messages)


def _memory(backend, station_id, check_mode, clearing=False):
    """``(memory, recorded)``: what the CSMS remembers of the station's local list, and whether it has a record of
    the station. Without a record only check mode or a list being cleared goes on: an empty list needs no memory (a
    Full update empties it), so a station whose record is gone (decommission.yml with decommission_record=delete, run
    again) still has its list checked and cleared."""
    try:
        return backend.local_list_memory(station_id) or {}, True
    except CsmsError as exc:
        if exc.kind == 'not_found' and (check_mode or clearing):
            return {}, False
        if exc.kind == 'not_found':
            raise ModuleFailure('station %s has no CSMS record, so its local list cannot be remembered: register it '
                                'first (evcs.provisioning.station)' % station_id, error=exc.kind)
        raise ModuleFailure('station %s: reading the local list the CSMS remembers failed: %s' % (station_id, exc),
                            error=exc.kind)


def _remember(backend, station_id, version, entries):
    try:
        backend.remember_local_list(station_id, {'version': version, 'hash': entries_hash(entries), 'entries': entries})
    except CsmsError as exc:
        raise ModuleFailure('station %s: the station applied local list version %d but the CSMS could not remember it '
                            '(%s): register the station first (evcs.provisioning.station), then run again'
                            % (station_id, version, exc), error=exc.kind)


def _list_diff(station_version, remembered, plan, version):
    update_type, changes = plan
    known = (remembered.get('entries') or {}) if update_type == 'Differential' else {}
    before = dict((key, known[key]) for key in changes if key in known)
    after = dict((key, status) for key, status in changes.items() if status is not None)
    return {'before': {'local_list': {'version': station_version, 'entries': before}},
            'after': {'local_list': {'version': version, 'update_type': update_type, 'entries': after}}}


def _version(backend, station_id):
    try:
        connection = backend.connection(station_id)
    except CsmsError:
        connection = None
    return ocpp_version_of(connection, None, station_id)


def _check_16(station_id, entries):
    """An OCPP 1.6 idTag has at most 20 characters: refused before anything is sent."""
    long_tags = sorted(key.split(':', 1)[1] for key in entries if len(key.split(':', 1)[1]) > ID_TAG_MAX_16)
    if long_tags:
        raise ModuleFailure('station %s speaks OCPP 1.6, whose idTag has at most %d characters: id token(s) %s are '
                            'longer; shorten them in evcs_site.id_tokens (or the station\'s id_tokens), or keep them off '
                            'this station\'s local list' % (station_id, ID_TAG_MAX_16, ', '.join(long_tags)),
                            field='id_tokens')


class _LocalListSession(object):
    """The OCPP exchanges with one station."""

    def __init__(self, backend, station_id, ocpp_version='2.0.1'):
        self.backend = backend
        self.station_id = station_id
        self.ocpp_version = ocpp_version

    def _call(self, action, payload):
        try:
            return self.backend.call(self.station_id, action, payload)
        except StationOffline:
            raise
        except CsmsError as exc:
            raise ModuleFailure('station %s: %s failed: %s' % (self.station_id, action, exc), error=exc.kind)

    def version(self):
        if self.ocpp_version != '1.6':
            return int(self._call('GetLocalListVersion', {}).get('versionNumber', 0))
        version = int(self._call('GetLocalListVersion', {}).get('listVersion', 0))
        if version < 0:
            raise ModuleFailure('station %s answered GetLocalListVersion with -1: it does not support a local '
                                'authorization list (OCPP 1.6); set backend_local_list: false for it' % self.station_id)
        return version

    def limits(self):
        """``(ItemsPerMessage, BytesPerMessage)`` of LocalAuthListCtrlr (1.6: SendLocalListMaxLength, no byte limit)."""
        if self.ocpp_version == '1.6':
            answer = self._call('GetConfiguration', {'key': ['SendLocalListMaxLength']})
            values = dict((entry.get('key'), entry.get('value')) for entry in answer.get('configurationKey') or [])
            items = str(values.get('SendLocalListMaxLength') or '').strip()
            if not items.isdigit() or int(items) < 1:
                raise ModuleFailure('station %s does not report SendLocalListMaxLength, so a local list cannot be split '
                                    'to its limit: check that the station supports the Local Auth List Management '
                                    'feature profile' % self.station_id)
            return int(items), 10 ** 9
        names = ('ItemsPerMessage', 'BytesPerMessage')
        answer = self._call('GetVariables', {'getVariableData': [
            {'component': {'name': 'LocalAuthListCtrlr'}, 'variable': {'name': name}} for name in names]})
        values = dict((result['variable']['name'], result.get('attributeValue'))
                      for result in answer.get('getVariableResult', []) if result.get('attributeStatus') == 'Accepted')
        missing = [name for name in names if not str(values.get(name) or '').isdigit()]
        if missing:
            raise ModuleFailure('station %s does not report LocalAuthListCtrlr.%s, so a local list cannot be split to '
                                'its limits: check that the station supports the local authorization list'
                                % (self.station_id, '/'.join(missing)))
        return int(values['ItemsPerMessage']), int(values['BytesPerMessage'])

    def send(self, plan, station_version, entries):
        """Send the plan; a VersionMismatch on a Differential update falls back to a Full one."""
        items, size = self.limits()
        update_type, changes = plan
        status, version, messages = self._send_chunks(update_type, changes, station_version + 1, items, size)
        if status == 'VersionMismatch' and update_type == 'Differential':
            update_type = 'Full'
            status, version, sent = self._send_chunks('Full', entries, self.version() + 1, items, size)
            messages += sent
        if status != 'Accepted':
            raise ModuleFailure('station %s answered SendLocalList %s version %d with %s: the list was not applied; '
                                'check LocalAuthListCtrlr.Enabled and the station log' % (
                                    self.station_id, update_type, version, status))
        return update_type, version, messages

    def _send_chunks(self, update_type, changes, version, items, size):
        """Each chunk after the first of a Full update is a Differential update with the next version."""
        chunks = split_entries(changes, items, size, self.ocpp_version) or [[]]
        status, messages = 'Accepted', 0
        field = 'listVersion' if self.ocpp_version == '1.6' else 'versionNumber'
        for index, chunk in enumerate(chunks):
            payload = {field: version + index, 'updateType': update_type if index == 0 else 'Differential'}
            if chunk:
                payload['localAuthorizationList'] = chunk
            status = self._call('SendLocalList', payload).get('status')
            messages += 1
            if status != 'Accepted':
                return status, version + index, messages
        return status, version + len(chunks) - 1, messages
