# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One read-compare-write for CSMS records (stations, sites, tariffs, id tokens) through the backend's registry.

The inventory is the source of truth for the top-level fields a module names; every other field of a record
(server-managed timestamps, fields another tool owns, the remembered local list) is left alone. A new record is
created with one write, an existing one updated with only the fields that differ, ``state: absent`` deletes it. Field
names are the collection's own (``csms.base.RECORD_FIELDS``); each backend translates them to its product.
"""

from __future__ import annotations

import datetime
import json

from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import (
    RECORD_FIELDS, CapabilityMissing, CsmsError,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.desired.ocpp_settings import OCPP_DEFAULTS
from ansible_collections.evcs.provisioning.plugins.module_utils.desired.connector_types import (
    CONNECTOR_TYPES, DC_CONNECTOR_TYPES,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.connection import (
    csms_argument_spec, lacks, task_backend, station_argument_spec, unverifiable,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.station.boot import reported_station
from ansible_collections.evcs.provisioning.plugins.module_utils.station.protocol import ocpp_version_of

#: the record's id: never compared, never written as a field (anything else a backend returns beyond the kind's
#: fields, such as a product's timestamps, is never compared either: only the fields a module names are)
SERVER_KEYS = frozenset(('id',))


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


def sync_record(backend, kind, record_id, fields, state='present', check_mode=False, unordered=(), context=None):
    """Bring one record of ``kind`` (station, site, tariff, id_token) to ``fields`` (present) or remove it (absent).

    Fields the backend does not keep are reported through ``context`` as not verifiable and left out.
    Returns ``{'changed', 'diff', 'record', 'operation'}``; ``operation`` is create, update, delete or none.
    """
    if context is not None:
        fields = kept_fields(backend, kind, record_id, fields, context)
        if fields is None:
            return dict(changed=False, diff={'before': {}, 'after': {}}, record={}, operation='none')
    current = call_records(backend.read_record, kind, record_id)
    if state == 'absent':
        return remove_record(backend, kind, record_id, current, check_mode)
    return apply_record(backend, kind, record_id, current, fields, check_mode, unordered)


def kept_fields(backend, kind, record_id, fields, context):
    """``fields`` without those the backend does not keep, each one given reported as not verifiable; None (reported)
    when the backend keeps no records of ``kind``."""
    try:
        kept = backend.record_fields(kind)
    except CapabilityMissing as missing:
        unverifiable(context, missing, '%s %s' % (kind, record_id))
        return None
    left_out = sorted(key for key, value in fields.items() if value is not None and key not in kept)
    if left_out:
        unverifiable(context, CapabilityMissing(backend.NAME, 'record_fields', reason='it keeps no %s' % ', '.join(left_out)),
                     '%s %s' % (kind, record_id))
    return dict((key, value) for key, value in fields.items() if key in kept)


def apply_record(backend, kind, record_id, current, fields, check_mode=False, unordered=()):
    """Write the difference between ``current`` (already read; None: no record) and ``fields``."""
    desired = desired_fields(fields, unordered)
    changes = changed_fields(current, desired, unordered)
    if current is not None and not changes:
        return dict(changed=False, diff={'before': {}, 'after': {}}, record=current, operation='none')
    operation = 'create' if current is None else 'update'
    record = dict(current or {}, **changes)
    if not check_mode:
        record = _write(backend, kind, record_id, operation, desired, changes) or record
    return dict(changed=True, diff=record_diff(current, changes), record=record, operation=operation)


def remove_record(backend, kind, record_id, current, check_mode=False):
    """Delete the record ``current`` (already read; None: nothing to do)."""
    if current is None:
        return dict(changed=False, diff={'before': {}, 'after': {}}, record={}, operation='none')
    if not check_mode:
        call_records(backend.delete_record, kind, record_id)
    before = dict((key, value) for key, value in current.items() if key in RECORD_FIELDS.get(kind, ()))
    return dict(changed=True, diff={'before': before, 'after': {}}, record={}, operation='delete')


def _write(backend, kind, record_id, operation, record, changes):
    if operation == 'create':
        return call_records(backend.create_record, kind, record_id, record)
    return call_records(backend.update_record, kind, record_id, changes)


def call_records(method, kind, record_id, *args):
    """``method(kind, record_id, *args)`` of the backend, its errors as task failures."""
    try:
        return method(kind, record_id, *args)
    except CsmsError as exc:
        raise ModuleFailure('CSMS %s record %s: %s' % (kind, record_id, exc), error=exc.kind)


def _ask(method, what, *args, **filters):
    """A read from the backend, its errors as task failures naming ``what`` was read."""
    try:
        return method(*args, **filters)
    except CsmsError as exc:
        raise ModuleFailure('CSMS: cannot read %s: %s' % (what, exc), error=exc.kind)


def record_result(outcome, name):
    """The module result of one ``sync_record``: ``changed``, ``diff``, ``operation`` and the record as ``name``."""
    return dict(changed=outcome['changed'], diff=outcome['diff'], operation=outcome['operation'],
                **{name: outcome['record']})


# -- the record kinds -----------------------------------------------------------------------------------------

_STATE = dict(type='str', default='present', choices=['present', 'absent'])
_COORDINATES = dict(type='dict', options=dict(latitude=dict(type='float', required=True),
                                              longitude=dict(type='float', required=True)))
_OPERATOR = dict(type='dict', options=dict(name=dict(type='str', required=True), organization=dict(type='str')))


class RecordKind(object):
    """One record kind of the CSMS registry as a module sees it: the id option, the managed fields, the result key."""

    def __init__(self, kind, id_option, result_name, fields, unordered=()):
        self.kind = kind
        self.id_option = id_option
        self.result_name = result_name
        self.fields = fields
        self.unordered = unordered

    def run(self, params, context, fields=None, backend=None):
        backend = backend or task_backend(params, context)
        if fields is None:
            fields = dict((key, params.get(key)) for key in self.fields)
        outcome = sync_record(backend, self.kind, params[self.id_option], fields, params['state'],
                              context.check_mode, self.unordered, context)
        return record_result(outcome, self.result_name)


SITE = RecordKind('site', 'site_id', 'location', RECORD_FIELDS['site'])
TARIFF = RecordKind('tariff', 'tariff_id', 'tariff', RECORD_FIELDS['tariff'])
STATION = RecordKind('station', 'station_id', 'station', RECORD_FIELDS['station'], unordered=('evses',))


def site_argument_spec():
    spec = csms_argument_spec()
    spec.update(
        site_id=dict(type='str', required=True),
        name=dict(type='str'),
        address=dict(type='dict', options=dict(street=dict(type='str'), city=dict(type='str'),
                                               postal_code=dict(type='str'), state=dict(type='str'),
                                               country=dict(type='str'))),
        coordinates=_COORDINATES,
        timezone=dict(type='str'),
        operator=_OPERATOR,
        grid_connection=dict(type='dict', options=dict(max_current_a=dict(type='float', required=True),
                                                       phases=dict(type='int', default=3, choices=[1, 3]),
                                                       voltage_v=dict(type='int', default=230))),
        access=dict(type='str', choices=['public', 'private', 'free']),
        state=_STATE,
    )
    return spec


def run_site(params, context):
    """The location record of one site."""
    return SITE.run(params, context)


def tariff_argument_spec():
    spec = csms_argument_spec()
    spec.update(
        tariff_id=dict(type='str', required=True),
        name=dict(type='str'),
        currency=dict(type='str'),
        price_per_kwh=dict(type='float'),
        price_per_minute=dict(type='float'),
        session_fee=dict(type='float'),
        valid_from=dict(type='str'),
        state=_STATE,
    )
    return spec


def run_tariff(params, context):
    """One tariff record."""
    if params['state'] == 'present' and params.get('currency') and len(params['currency']) != 3:
        raise ModuleFailure('tariff %s: currency %r is not an ISO 4217 code: give three letters such as EUR'
                            % (params['tariff_id'], params['currency']))
    return TARIFF.run(params, context)


_CONNECTOR_TYPES = list(CONNECTOR_TYPES)


def station_record_argument_spec():
    connector = dict(
        id=dict(type='int', required=True),
        type=dict(type='str', required=True, choices=_CONNECTOR_TYPES),
        format=dict(type='str', default='Socket', choices=['Socket', 'Cable']),
        power_type=dict(type='str', choices=['AC_1_PHASE', 'AC_3_PHASE', 'DC']),
        max_voltage=dict(type='int'),
        max_amperage=dict(type='float'),
        max_electric_power=dict(type='float'),
        max_current_a=dict(type='float'),
    )
    evse = dict(id=dict(type='int', required=True),
                phases=dict(type='int', choices=[1, 3]),
                voltage_v=dict(type='int'),
                max_current_a=dict(type='float'),
                connectors=dict(type='list', elements='dict', required=True, options=connector))
    address = dict(type='dict', options=dict(street=dict(type='str'), city=dict(type='str'),
                                             postal_code=dict(type='str'), state=dict(type='str'),
                                             country=dict(type='str')))
    asset = dict(
        installation_address=address,
        installation_coordinates=_COORDINATES,
        installer=dict(type='str'),
        installation_date=dict(type='str'),
        warranty_start=dict(type='str'),
    )
    return station_argument_spec(
        serial_number=dict(type='str'),
        vendor=dict(type='str'),
        model=dict(type='str'),
        firmware_version=dict(type='str'),
        location_id=dict(type='str'),
        operator=_OPERATOR,
        evses=dict(type='list', elements='dict', options=evse),
        tariff_id=dict(type='str'),
        access=dict(type='str', choices=['public', 'private', 'free']),
        monitoring=dict(type='dict', options=dict(alerts=dict(type='bool', default=True),
                                                  offline_alert_after_s=dict(type='int'))),
        firmware_channel=dict(type='str'),
        # the CSMS gives it in every BootNotification answer and the station takes it: the ocpp role's default
        heartbeat_interval=dict(type='int', default=OCPP_DEFAULTS['heartbeat_interval']),
        asset=dict(type='dict', options=asset),
        status=dict(type='str', default='active', choices=['active', 'retired']),
        state=_STATE,
    )


def run_station(params, context):
    """The station's CSMS record: registration (possible before its first connection) and its metadata."""
    station_id = params['station_id']
    fields = dict((key, params.get(key)) for key in STATION.fields)
    backend = task_backend(params, context)
    if params['state'] == 'present':
        if not params.get('serial_number'):
            raise ModuleFailure('station %s: serial_number is missing: the CSMS registers a station by id and serial '
                                'number; set evcs_station.serial_number' % station_id)
        fields['evses'] = _ordered_evses(station_id, params.get('evses'))
        _check_ocpp_version(backend, station_id, params.get('ocpp_version'), context)
        _check_reported_serial(backend, station_id, params['serial_number'], context)
        _check_serial_is_free(backend, station_id, params['serial_number'])
    return STATION.run(params, context, fields, backend=backend)


def _check_ocpp_version(backend, station_id, declared, context):
    """The OCPP version the station connected with must be the inventory's (``ocpp_version_of`` fails naming the
    station, the field, the value and the fix); a station that never connected is not checked."""
    if lacks(backend, 'station_status', context, 'the OCPP version station %s speaks' % station_id):
        return
    ocpp_version_of(_ask(backend.connection, 'the connection of station %s' % station_id, station_id), declared,
                    station_id)


def _check_reported_serial(backend, station_id, serial_number, context):
    """The serial number the station reported in its last BootNotification must be the inventory's: another one means
    the wrong box was installed (or the inventory is wrong), and it must not get this station's identity."""
    if lacks(backend, 'station_status', context, 'the serial number station %s reports' % station_id):
        return
    boot = _ask(backend.last_boot, 'the last boot of station %s' % station_id, station_id) or {}
    reported = reported_station(boot).get('serialNumber')
    if reported and reported != serial_number:
        raise ModuleFailure(
            'station %s reported serial number %r in its BootNotification of %s, the inventory says %r: the wrong '
            'charger is installed under this identity, or evcs_station.serial_number is wrong; check the type plate, '
            'then install the right charger or correct the inventory (nothing was changed)'
            % (station_id, reported, boot.get('at') or 'its last boot', serial_number),
            kind='serial_mismatch', reported_serial_number=reported, serial_number=serial_number)


def _check_serial_is_free(backend, station_id, serial_number):
    """One charger, one station record: a serial number registered to another active station is refused."""
    found = _ask(backend.find_records, 'the stations with serial number %r' % serial_number, 'station',
                 serial_number=serial_number)
    others = sorted(record['id'] for record in found if record.get('id') != station_id and record.get('status') != 'retired')
    if others:
        raise ModuleFailure(
            'station %s: serial number %r is already registered in the CSMS to station %s: one charger cannot be two '
            'stations; correct evcs_station.serial_number from the type plate, or decommission %s first '
            '(playbooks/decommission.yml) if this charger replaced it (nothing was changed)'
            % (station_id, serial_number, ', '.join(others), others[0]),
            kind='serial_in_use', registered_to=others)


def _ordered_evses(station_id, evses):
    if evses is None:
        return None
    _require_unique(station_id, 'evses', [evse['id'] for evse in evses])
    ordered = []
    for evse in sorted(evses, key=lambda item: item['id']):
        _require_unique(station_id, 'evses[id=%d].connectors' % evse['id'],
                        [connector['id'] for connector in evse['connectors']])
        connectors = [_connector_record(evse, connector) for connector in evse['connectors']]
        ordered.append({'id': evse['id'], 'connectors': sorted(connectors, key=lambda item: item['id'])})
    return ordered


def _connector_record(evse, connector):
    """The record form of a connector; inventory-style values (the EVSE's phases, voltage_v, max_current_a and
    the connector's max_current_a) fill in power_type, max_voltage, max_amperage and max_electric_power."""
    phases = evse.get('phases')
    record = dict((key, value) for key, value in connector.items() if key != 'max_current_a' and value is not None)
    if not record.get('power_type') and phases:
        record['power_type'] = 'DC' if connector['type'] in DC_CONNECTOR_TYPES else 'AC_%d_PHASE' % phases
    record.setdefault('max_voltage', evse.get('voltage_v'))
    record.setdefault('max_amperage', connector.get('max_current_a') or evse.get('max_current_a'))
    if record.get('power_type', 'DC') != 'DC' and record['max_voltage'] and record['max_amperage']:
        record.setdefault('max_electric_power', phases * record['max_voltage'] * record['max_amperage'])
    return dict((key, value) for key, value in record.items() if value is not None)


def _require_unique(station_id, field, ids):
    duplicates = sorted(set(item for item in ids if ids.count(item) > 1))
    if duplicates:
        raise ModuleFailure('station %s: %s names id %s more than once: give every entry its own id'
                            % (station_id, field, ', '.join(str(item) for item in duplicates)))
