# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One read-compare-write for CSMS records (stations, locations, tariffs, id tokens).

The inventory is the source of truth for the top-level fields a module names; every other field of a record
(server-managed timestamps, fields another tool owns, the remembered local list) is left alone. A new record is
written with one PUT, an existing one with one PATCH of only the fields that differ, ``state: absent`` is a DELETE.
"""

from __future__ import annotations

import datetime
import json

from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CsmsError
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.connection import csms_backend

#: keys the CSMS manages itself: never compared, never written
SERVER_KEYS = frozenset(('id', 'created_at', 'updated_at'))


def normalise(value, unordered=False):
    """A comparable form of ``value``: integral floats become ints, dates ISO strings, None-valued keys vanish,
    and lists are sorted when ``unordered`` (their order carries no meaning)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, datetime.datetime):
        return _iso_datetime(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, dict):
        return dict((str(key), normalise(item)) for key, item in value.items() if item is not None)
    if isinstance(value, (list, tuple)):
        items = [normalise(item) for item in value]
        return sorted(items, key=_sort_key) if unordered else items
    return value


def _iso_datetime(value):
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.astimezone(datetime.timezone.utc).isoformat().replace('+00:00', 'Z')


def _sort_key(item):
    return json.dumps(item, sort_keys=True, default=str)


def desired_fields(fields, unordered=()):
    """The managed fields: those given (not None), normalised. ``unordered`` names list fields without order."""
    return dict((key, normalise(value, key in unordered)) for key, value in fields.items()
                if value is not None and key not in SERVER_KEYS)


def changed_fields(current, desired, unordered=()):
    """Top-level keys of ``desired`` whose value differs from ``current`` (None: no record)."""
    current = current or {}
    return dict((key, value) for key, value in desired.items()
                if normalise(current.get(key), key in unordered) != value)


def record_diff(current, changes):
    """before/after holding only the changed keys."""
    current = current or {}
    return {'before': dict((key, current[key]) for key in changes if key in current), 'after': dict(changes)}


def sync_record(backend, collection, record_id, fields, state='present', check_mode=False, unordered=()):
    """Bring one record to ``fields`` (present) or remove it (absent).

    Returns ``{'changed', 'diff', 'record', 'operation'}``; ``operation`` is create, update, delete or none.
    """
    current = _read(backend, collection, record_id)
    if state == 'absent':
        return _remove(backend, collection, record_id, current, check_mode)
    desired = desired_fields(fields, unordered)
    changes = changed_fields(current, desired, unordered)
    if current is not None and not changes:
        return dict(changed=False, diff={'before': {}, 'after': {}}, record=current, operation='none')
    operation = 'create' if current is None else 'update'
    record = dict(current or {}, **changes)
    if not check_mode:
        record = _write(backend, collection, record_id, operation, dict(desired, id=record_id), changes)
    return dict(changed=True, diff=record_diff(current, changes), record=record, operation=operation)


def _remove(backend, collection, record_id, current, check_mode):
    if current is None:
        return dict(changed=False, diff={'before': {}, 'after': {}}, record={}, operation='none')
    if not check_mode:
        _call(backend.delete_record, collection, record_id)
    before = dict((key, value) for key, value in current.items() if key not in SERVER_KEYS)
    return dict(changed=True, diff={'before': before, 'after': {}}, record={}, operation='delete')


def _read(backend, collection, record_id):
    return _call(backend.get_record, collection, record_id)


def _write(backend, collection, record_id, operation, record, changes):
    if operation == 'create':
        return _call(backend.put_record, collection, record_id, record) or record
    return _call(backend.patch_record, collection, record_id, changes) or changes


def _call(method, collection, record_id, *args):
    try:
        return method(collection, record_id, *args)
    except CsmsError as exc:
        raise ModuleFailure('CSMS record %s/%s: %s' % (collection, record_id, exc), error=exc.kind)


def backend_from(params, context):
    """The CSMS backend the connection options name; configuration errors become task failures."""
    try:
        return csms_backend(params, warn=context.warn)
    except CsmsError as exc:
        raise ModuleFailure(str(exc), error=exc.kind)


def record_result(outcome, name):
    """The module result of one ``sync_record``: ``changed``, ``diff``, ``operation`` and the record as ``name``."""
    return dict(changed=outcome['changed'], diff=outcome['diff'], operation=outcome['operation'],
                **{name: outcome['record']})
