# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The maximum of an OCPP 1.6 station: a ChargePointMaxProfile on connector 0 (SetChargingProfile), set only when
different.

OCPP 1.6 has no GetChargingProfiles: what the station enforces is read back with GetCompositeSchedule on connector 0
(the schedule of the whole charge point, which the ChargePointMaxProfile limits). The units the station accepts are
its ``ChargingScheduleAllowedChargingRateUnit`` configuration key (``Current``, ``Power``); Smart Charging must be one
of its ``SupportedFeatureProfiles``.
"""

from __future__ import annotations

from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure
from ansible_collections.evcs.provisioning.plugins.module_utils.device_model import normalise
from ansible_collections.evcs.provisioning.plugins.module_utils.station.configuration_keys import KeySession

PURPOSE = 'ChargePointMaxProfile'
SCHEDULE_START = '2020-01-01T00:00:00Z'
#: ChargingScheduleAllowedChargingRateUnit values -> the ChargingRateUnitType of a schedule
RATE_UNITS = {'Current': 'A', 'Power': 'W'}
#: the seconds of composite schedule asked for: enough to see the limit that applies now
_COMPOSITE_DURATION = 60


def wire_limit(limit):
    """A limit as the 1.6 schema takes it (a decimal, multipleOf 0.1): one decimal, an integral one as an integer."""
    rounded = round(float(limit), 1)
    return int(rounded) if rounded == int(rounded) else rounded


def profile_payload(params, unit, limit):
    """The OCPP 1.6 SetChargingProfile request (schema spelling)."""
    return {
        'connectorId': 0,
        'csChargingProfiles': {
            'chargingProfileId': params['profile_id'],
            'stackLevel': params['stack_level'],
            'chargingProfilePurpose': PURPOSE,
            'chargingProfileKind': 'Absolute',
            'chargingSchedule': {
                'startSchedule': SCHEDULE_START,
                'chargingRateUnit': unit,
                'chargingSchedulePeriod': [{'startPeriod': 0, 'limit': wire_limit(limit),
                                            'numberPhases': params['phases']}],
            },
        },
    }


def capability(session):
    """The units the station accepts for a ChargePointMaxProfile, in its order of preference; fails without Smart
    Charging."""
    found, _unknown = session.get(['SupportedFeatureProfiles', 'ChargingScheduleAllowedChargingRateUnit'])
    profiles = normalise((found.get('SupportedFeatureProfiles') or {}).get('value'), 'set')
    if profiles is not None and 'SmartCharging' not in profiles:
        raise ModuleFailure('station %s does not support the Smart Charging feature profile (SupportedFeatureProfiles = '
                            '%s), so it cannot hold a ChargePointMaxProfile: enforce its share of the site limit in the '
                            'CSMS, or remove load_management for it' % (session.station_id, ','.join(profiles)))
    units = normalise((found.get('ChargingScheduleAllowedChargingRateUnit') or {}).get('value'), 'list') or []
    units = [RATE_UNITS[unit] for unit in units if unit in RATE_UNITS]
    return units or ['A', 'W']


def enforced(session, unit):
    """``(limit, unit)`` of the composite schedule of connector 0 now, None when the station reports none."""
    answer = session.call('GetCompositeSchedule', {'connectorId': 0, 'duration': _COMPOSITE_DURATION,
                                                   'chargingRateUnit': unit})
    if answer.get('status') != 'Accepted':
        return None
    schedule = answer.get('chargingSchedule') or {}
    periods = schedule.get('chargingSchedulePeriod') or []
    if not periods:
        return None
    first = sorted(periods, key=lambda period: period.get('startPeriod', 0))[0]
    return {'unit': schedule.get('chargingRateUnit') or unit, 'limit': float(first['limit']),
            'phases': first.get('numberPhases')}


def run(params, context, backend, choose_unit):
    """Read the capability and the enforced limit, then SetChargingProfile when it differs. ``choose_unit(params,
    supported, context)`` is the 2.0.1 module's unit choice (conversion with a warning)."""
    session = KeySession.for_task(backend, params['station_id'], context)
    unit, limit = choose_unit(params, capability(session), context)
    payload = profile_payload(params, unit, limit)
    desired = {'unit': unit, 'limit': float(wire_limit(limit)), 'phases': params['phases']}
    current = enforced(session, unit)
    compared = dict(current, phases=params['phases']) if current and current.get('phases') is None else current
    changed = compared != desired
    if changed and not context.check_mode:
        answer = session.call('SetChargingProfile', payload)
        if answer.get('status') != 'Accepted':
            raise ModuleFailure(
                'station %s answered SetChargingProfile (ChargePointMaxProfile %s %s on connector 0) with %s: the station '
                'may not support a charge-point maximum or this limit; check its smart charging capability and the load '
                'plan' % (params['station_id'], limit, unit, answer.get('status', 'no status')))
    outcome = {
        'changed': changed,
        'diff': ({'before': {PURPOSE: current}, 'after': {PURPOSE: desired}} if changed
                 else {'before': {}, 'after': {}}),
        'profile': {'id': params['profile_id'], 'stack_level': params['stack_level'], 'unit': unit, 'limit': limit,
                    'phases': params['phases'], 'purpose': PURPOSE},
        'requests': session.calls,
    }
    outcome.update(session.facts())
    return outcome
