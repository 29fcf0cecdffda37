# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The station's maximum: a ChargingStationMaxProfile on EVSE 0 (SetChargingProfile), set only when different.

The station's capability is read first (SmartChargingCtrlr.Enabled and RateUnit). GetChargingProfiles tells
whether the station holds a CSO ChargingStationMaxProfile at all; its content arrives at the CSMS in
ReportChargingProfiles, which the CSMS REST API does not expose, so the profile last applied is kept in the
CSMS station record under ``charging_limit`` and compared with the desired one.
"""

from __future__ import annotations

import random

from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CsmsError
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.connection import (
    csms_backend, station_argument_spec,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.device_model import (
    StationSession, normalise, normalise_item, variable_key,
)

RECORD_KEY = 'charging_limit'
PURPOSE = 'ChargingStationMaxProfile'
#: a fixed start keeps the profile identical from run to run (the limit applies from then on)
SCHEDULE_START = '2020-01-01T00:00:00Z'
_CAPABILITY = [
    {'component': {'name': 'SmartChargingCtrlr'}, 'variable': {'name': 'Enabled'}},
    {'component': {'name': 'SmartChargingCtrlr'}, 'variable': {'name': 'RateUnit'}},
]


def charging_limit_argument_spec():
    return station_argument_spec(
        limit=dict(type='float', required=True),
        unit=dict(type='str', default='A', choices=['A', 'W']),
        phases=dict(type='int', default=3, choices=[1, 2, 3]),
        voltage=dict(type='float', default=230.0),
        stack_level=dict(type='int', default=0),
        profile_id=dict(type='int', default=1),
    )


def convert(limit, unit, to_unit, phases, voltage):
    """A per-phase current (A) <-> a total power (W) for ``phases`` at ``voltage`` (phase to neutral)."""
    if unit == to_unit:
        return limit
    if to_unit == 'W':
        return round(limit * voltage * phases, 1)
    return round(limit / (voltage * phases), 1)


def profile_payload(params, unit, limit):
    """The SetChargingProfile request (schema spelling)."""
    return {
        'evseId': 0,
        'chargingProfile': {
            'id': params['profile_id'],
            'stackLevel': params['stack_level'],
            'chargingProfilePurpose': PURPOSE,
            'chargingProfileKind': 'Absolute',
            'chargingSchedule': [{
                'id': params['profile_id'],
                'startSchedule': SCHEDULE_START,
                'chargingRateUnit': unit,
                'chargingSchedulePeriod': [{'startPeriod': 0, 'limit': limit, 'numberPhases': params['phases']}],
            }],
        },
    }


def _capability(session):
    items = [normalise_item(item) for item in _CAPABILITY]
    results = session.get(items)
    enabled = results.get(variable_key(items[0]), {})
    units = results.get(variable_key(items[1]), {})
    if enabled.get('attributeStatus') == 'Accepted' and normalise(enabled.get('attributeValue'), 'boolean') is False:
        raise ModuleFailure('station %s has smart charging switched off (SmartChargingCtrlr.Enabled = false), so it '
                            'ignores a ChargingStationMaxProfile: enable it in the ocpp settings first' % session.station_id)
    if units.get('attributeStatus') != 'Accepted':
        return ['A', 'W']
    return normalise(units.get('attributeValue'), 'set') or ['A', 'W']


def _choose_unit(params, supported, context):
    unit, limit = params['unit'], params['limit']
    if unit in supported:
        return unit, limit
    other = supported[0]
    if not params.get('phases') or not params.get('voltage'):
        raise ModuleFailure('station %s accepts charging limits in %s only, not %s: give the limit in %s, or phases and '
                            'voltage so it can be converted' % (params['station_id'], '/'.join(supported), unit, other))
    converted = convert(limit, unit, other, params['phases'], params['voltage'])
    context.warn('station %s accepts charging limits in %s only: %s %s converted to %s %s (%d phases, %s V)' % (
        params['station_id'], other, limit, unit, converted, other, params['phases'], params['voltage']))
    return other, converted


def _has_profile(session):
    answer = session.call('GetChargingProfiles', {
        'requestId': random.randint(1, 2 ** 31 - 1),
        'evseId': 0,
        'chargingProfile': {'chargingProfilePurpose': PURPOSE, 'chargingLimitSource': ['CSO']},
    })
    return answer.get('status') == 'Accepted'


def _summary(payload):
    schedule = payload['chargingProfile']['chargingSchedule'][0]
    period = schedule['chargingSchedulePeriod'][0]
    return {'id': payload['chargingProfile']['id'], 'stack_level': payload['chargingProfile']['stackLevel'],
            'unit': schedule['chargingRateUnit'], 'limit': period['limit'], 'phases': period.get('numberPhases')}


def _send(session, payload):
    answer = session.call('SetChargingProfile', payload)
    if answer.get('status') != 'Accepted':
        info = answer.get('statusInfo') or {}
        summary = _summary(payload)
        raise ModuleFailure('station %s answered SetChargingProfile (ChargingStationMaxProfile %s %s) with %s (%s): the '
                            'station may not support a station-wide maximum or this limit; check its smart charging '
                            'capability and the load plan' % (
                                session.station_id, summary['limit'], summary['unit'], answer.get('status', 'no status'),
                                ' '.join(filter(None, (info.get('reasonCode'), info.get('additionalInfo'))))
                                or 'no reason given'))


def _record(backend, station_id):
    try:
        return backend.get_record('stations', station_id)
    except CsmsError as error:
        raise ModuleFailure('station %s: reading its CSMS record failed: %s' % (station_id, error))


def run_charging_limit(params, context):
    if params['limit'] <= 0:
        raise ModuleFailure('station %s: limit %s %s would stop all charging, and many stations reject it: give a '
                            'positive limit' % (params['station_id'], params['limit'], params['unit']))
    backend = csms_backend(params, context.warn)
    session = StationSession(backend, params['station_id'])
    unit, limit = _choose_unit(params, _capability(session), context)
    payload = profile_payload(params, unit, limit)
    desired = _summary(payload)

    record = _record(backend, params['station_id'])
    recorded = (record or {}).get(RECORD_KEY)
    present = _has_profile(session)
    changed = not present or recorded != desired
    if changed and not context.check_mode:
        _send(session, payload)
        if record is None:
            context.warn('station %s has no CSMS station record, so the applied limit is not recorded and the next run '
                         'sends it again: register the station (backend role) first' % params['station_id'])
        else:
            try:
                backend.patch_record('stations', params['station_id'], {RECORD_KEY: desired})
            except CsmsError as error:
                raise ModuleFailure('station %s accepted the limit, but recording it in the CSMS failed: %s'
                                    % (params['station_id'], error))
    return {
        'changed': changed,
        'diff': {'before': {PURPOSE: recorded if present else None}, 'after': {PURPOSE: desired}} if changed else
                {'before': {}, 'after': {}},
        'profile': desired,
        'requests': session.calls,
    }
