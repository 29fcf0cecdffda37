# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A pure load planner: a site's grid cap split into per-station maximums. No I/O.

Units are explicit: currents in A per phase, power in W, voltage phase to neutral. Without phase rotation
data every station is assumed to be able to load the same phase, so the per-phase currents add up against
the site's per-phase cap (the safe assumption).

- Without a load-management group the sum of the stations' requested maximums must fit the cap, or the
  plan is refused ("one config fits all" overloads the grid connection as soon as every car charges).
- With a group the cap is shared: every station first gets ``min_current_a`` (IEC 61851 minimum, 6 A),
  then the rest goes to priority 1 first, then 2, ..., each level split in proportion to ``weight``
  (default: the station's requested maximum), never above what a station asked for.
"""

from __future__ import annotations

import math

MIN_CURRENT_A = 6.0


class PlanError(ValueError):
    """A plan that cannot be made; the message names the site, the figures and the fix."""


def _site_cap(site):
    grid = site.get('grid_connection') or {}
    try:
        cap, phases, voltage = float(grid['max_current_a']), int(grid.get('phases', 3)), float(grid.get('voltage_v', 230))
    except (KeyError, TypeError, ValueError):
        raise PlanError('site %s has no usable grid_connection (max_current_a, phases, voltage_v): give '
                        'evcs_site.grid_connection.max_current_a in A per phase' % site.get('id', '?'))
    if cap <= 0 or phases not in (1, 3) or voltage <= 0:
        raise PlanError('site %s: grid_connection %s A, %s phases, %s V is not a valid cap: use a positive current, '
                        '1 or 3 phases and a positive voltage' % (site.get('id', '?'), cap, phases, voltage))
    return cap, phases, voltage


def _request(station):
    try:
        current = float(station['max_current_a'])
    except (KeyError, TypeError, ValueError):
        raise PlanError('station %s has no load_management.max_current_a: give its maximum in A per phase'
                        % station.get('id', '?'))
    if current <= 0:
        raise PlanError('station %s: load_management.max_current_a %s A is not positive' % (station.get('id', '?'), current))
    return current


def _entry(station, current_a, voltage):
    phases = int(station.get('phases', 3))
    current_a = math.floor(current_a * 10 + 1e-6) / 10
    return {'max_current_a': current_a, 'phases': phases, 'voltage_v': voltage,
            'max_power_w': round(current_a * voltage * phases, 1), 'priority': int(station.get('priority', 1))}


def _share(stations, available, granted):
    """Give ``available`` A to ``stations`` (one priority level) in proportion to weight, capped at their request."""
    open_stations = list(stations)
    while available > 1e-9 and open_stations:
        total_weight = sum(float(s.get('weight') or _request(s)) for s in open_stations)
        satisfied = []
        for station in open_stations:
            want = _request(station) - granted[station['id']]
            offer = available * float(station.get('weight') or _request(station)) / total_weight
            if offer >= want:
                satisfied.append((station, want))
        if not satisfied:
            for station in open_stations:
                granted[station['id']] += available * float(station.get('weight') or _request(station)) / total_weight
            return 0.0
        for station, want in satisfied:
            granted[station['id']] += want
            available -= want
            open_stations.remove(station)
    return available


def _arbitrate(site_id, stations, cap, min_current):
    floor_total = min_current * len(stations)
    if floor_total > cap:
        raise PlanError('site %s: %d stations at the minimum of %s A each need %s A, above the cap of %s A per phase: '
                        'raise the grid connection or move stations to another site' % (
                            site_id, len(stations), min_current, floor_total, cap))
    granted = dict((s['id'], min(min_current, _request(s))) for s in stations)
    available = cap - sum(granted.values())
    for level in sorted(set(int(s.get('priority', 1)) for s in stations)):
        available = _share([s for s in stations if int(s.get('priority', 1)) == level], available, granted)
    return granted


def plan_load(site, stations, min_current_a=MIN_CURRENT_A):
    """Per-station maximums for ``site`` ({id, grid_connection, load_management_group}) and ``stations``.

    ``stations``: [{id, max_current_a, phases, priority, weight}] (currents in A per phase).
    Returns {site, group, cap_a, cap_w, requested_a, planned_a, stations: {id: {max_current_a, max_power_w, ...}}}.
    """
    site_id = site.get('id', '?')
    cap, phases, voltage = _site_cap(site)
    group = site.get('load_management_group')
    requested = sum(_request(s) for s in stations)
    if not group and requested > cap:
        raise PlanError('site %s: the stations ask for %s A per phase in sum (%s), above the site cap of %s A per '
                        'phase, and the site has no load_management_group to arbitrate: lower the stations\' '
                        'load_management.max_current_a so they sum to at most %s A, or set '
                        'evcs_site.load_management_group' % (
                            site_id, requested, ', '.join('%s %s A' % (s['id'], _request(s)) for s in stations), cap, cap))
    if group and requested > cap:
        granted = _arbitrate(site_id, stations, cap, min_current_a)
    else:
        granted = dict((s['id'], _request(s)) for s in stations)
    planned = dict((s['id'], _entry(s, granted[s['id']], voltage)) for s in stations)
    return {
        'site': site_id, 'group': group, 'unit': 'A',
        'cap_a': cap, 'cap_w': round(cap * voltage * phases, 1), 'phases': phases, 'voltage_v': voltage,
        'requested_a': requested, 'planned_a': round(sum(p['max_current_a'] for p in planned.values()), 1),
        'stations': planned,
    }
