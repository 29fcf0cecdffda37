# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The station's maximum: a ChargingStationMaxProfile on EVSE 0 (SetChargingProfile), set only when different (an
OCPP 1.6 station gets a ChargePointMaxProfile on connector 0: ``station/charging_limit16.py``).

The station's capability is read first (SmartChargingCtrlr.Enabled and RateUnit). Then the station's real
ChargingStationMaxProfile is read back as OCPP intends: GetChargingProfiles(requestId, purpose
ChargingStationMaxProfile, EVSE 0) is answered NoProfiles (none) or Accepted, and the profiles follow in
ReportChargingProfiles messages the station sends for that requestId (``CsmsBackend.wait_for_message``).
The profile at the desired stack level is compared with the desired one; a profile changed on the station
behind the collection's back is found and set again.
"""

from __future__ import annotations

import random
from datetime import datetime

from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CsmsError, StationTimeout
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.connection import (
    lacks, task_backend, station_argument_spec,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.device_model import (
    StationSession, normalise, normalise_item, variable_key,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.station import charging_limit16
from ansible_collections.evcs.provisioning.plugins.module_utils.station.protocol import ocpp_version_of

PURPOSE = 'ChargingStationMaxProfile'
#: how long the ReportChargingProfiles of an Accepted GetChargingProfiles may take to reach the CSMS
REPORT_WAIT = 10.0
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


def _wait_for_report(backend, station_id, request_id, wait):
    """The ReportChargingProfiles parts of ``request_id`` (a fresh random id, so no time bound is needed)."""
    try:
        messages = backend.wait_for_message(station_id, 'ReportChargingProfiles', None, wait, request_id=request_id)
    except StationTimeout:
        raise ModuleFailure('station %s answered GetChargingProfiles with Accepted, but its ReportChargingProfiles '
                            '(requestId %d) did not reach the CSMS within %s s: check the station\'s connection and '
                            'run again' % (station_id, request_id, wait))
    except CsmsError as error:
        raise ModuleFailure('station %s: reading its ReportChargingProfiles from the CSMS failed: %s'
                            % (station_id, error), error=error.kind)
    return {'complete': True, 'reports': [message['payload'] for message in messages]}


def station_max_profiles(session, backend, wait=REPORT_WAIT, context=None):
    """The ChargingStationMaxProfiles the station holds (EVSE 0), as it reports them: a list of chargingProfile dicts.

    None when the station holds some but the backend cannot show its reports (no ``station_messages``): reported
    through ``context`` as not verifiable (without a context, CapabilityMissing is raised)."""
    request_id = random.randint(1, 2 ** 31 - 1)
    answer = session.call('GetChargingProfiles', {
        'requestId': request_id, 'evseId': 0, 'chargingProfile': {'chargingProfilePurpose': PURPOSE}})
    if answer.get('status') != 'Accepted':
        return []
    what = 'the ChargingStationMaxProfile station %s holds' % session.station_id
    if context is not None and lacks(backend, 'station_messages', context, what):
        return None
    backend.require('station_messages', what)
    report = _wait_for_report(backend, session.station_id, request_id, wait)
    return [profile for part in report.get('reports', []) if part.get('evseId', 0) == 0
            for profile in part.get('chargingProfile') or [] if profile.get('chargingProfilePurpose') == PURPOSE]


def _instant(value):
    """An RFC 3339 time in one canonical form (stations may add fractions or write +00:00 for Z)."""
    if not value:
        return value
    try:
        moment = datetime.fromisoformat(str(value).replace('Z', '+00:00'))
    except ValueError:
        return value
    return moment.isoformat().replace('+00:00', 'Z') if moment.tzinfo else value


def profile_view(profile):
    """What this module manages in a ChargingStationMaxProfile, comparable whatever the station's formatting."""
    if not profile:
        return None
    schedules = profile.get('chargingSchedule') or [{}]
    schedule = schedules[0]
    return {
        'id': profile.get('id'),
        'stack_level': profile.get('stackLevel'),
        'kind': profile.get('chargingProfileKind'),
        'recurrency_kind': profile.get('recurrencyKind'),
        'valid_from': _instant(profile.get('validFrom')),
        'valid_to': _instant(profile.get('validTo')),
        'schedules': len(schedules),
        'start': _instant(schedule.get('startSchedule')),
        'duration': schedule.get('duration'),
        'unit': schedule.get('chargingRateUnit'),
        'periods': [{'start': period.get('startPeriod'), 'limit': float(period['limit']),
                     'phases': period.get('numberPhases')} for period in schedule.get('chargingSchedulePeriod') or []],
    }


def _at_stack_level(profiles, stack_level):
    """The profile the desired one would replace: same purpose, same EVSE and stack level (K01.FR.05)."""
    for profile in profiles:
        if profile.get('stackLevel') == stack_level:
            return profile
    return None


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


def run_charging_limit(params, context):
    if params['limit'] <= 0:
        raise ModuleFailure('station %s: limit %s %s would stop all charging, and many stations reject it: give a '
                            'positive limit' % (params['station_id'], params['limit'], params['unit']))
    backend = task_backend(params, context)
    if _version(backend, params) == '1.6':
        return charging_limit16.run(params, context, backend, _choose_unit)
    session = StationSession.for_task(backend, params['station_id'], context)
    unit, limit = _choose_unit(params, _capability(session), context)
    payload = profile_payload(params, unit, limit)
    desired = profile_view(payload['chargingProfile'])

    held = station_max_profiles(session, backend, context=context)
    current = profile_view(_at_stack_level(held, params['stack_level'])) if held is not None else None
    changed = held is not None and current != desired
    if changed and not context.check_mode:
        _send(session, payload)
    outcome = {
        'changed': changed,
        'diff': _diff(current, desired) if changed else {'before': {}, 'after': {}},
        'profile': _summary(payload),
        'requests': session.calls,
    }
    outcome.update(session.facts())
    return outcome


def _version(backend, params):
    """The OCPP version of the station (its CSMS connection's, checked against the inventory's)."""
    try:
        connection = backend.connection(params['station_id'])
    except CsmsError:
        connection = None
    return ocpp_version_of(connection, params.get('ocpp_version'), params['station_id'])


def _diff(current, desired):
    """Only the managed keys that differ (the whole profile when the station holds none)."""
    if current is None:
        return {'before': {PURPOSE: None}, 'after': {PURPOSE: desired}}
    keys = [key for key in desired if current.get(key) != desired[key]]
    return {'before': {PURPOSE: dict((key, current.get(key)) for key in keys)},
            'after': {PURPOSE: dict((key, desired[key]) for key in keys)}}
