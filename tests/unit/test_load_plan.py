# -*- coding: utf-8 -*-
"""The pure load planner."""

from __future__ import annotations

import pytest

from ansible_collections.evcs.provisioning.plugins.module_utils.load_plan import PlanError, plan_load


def _site(cap=100, group=None, phases=3, voltage=230):
    return {'id': 'depot', 'grid_connection': {'max_current_a': cap, 'phases': phases, 'voltage_v': voltage},
            'load_management_group': group}


def _station(sid, current, priority=1, **extra):
    return dict({'id': sid, 'max_current_a': current, 'phases': 3, 'priority': priority}, **extra)


def test_plan_within_cap_gives_each_station_its_request_with_units():
    plan = plan_load(_site(100), [_station('CP1', 32), _station('CP2', 32)])
    assert plan['stations']['CP1'] == {'max_current_a': 32.0, 'phases': 3, 'voltage_v': 230.0,
                                       'max_power_w': 22080.0, 'priority': 1}
    assert plan['requested_a'] == 64 and plan['planned_a'] == 64 and plan['cap_w'] == 69000.0
    assert plan['unit'] == 'A'


def test_sum_above_cap_without_group_is_refused_naming_site_sum_cap_and_fix():
    with pytest.raises(PlanError) as error:
        plan_load(_site(40), [_station('CP1', 32), _station('CP2', 32)])
    message = str(error.value)
    for part in ('depot', '64.0 A', '40.0 A', 'load_management_group', 'CP1 32.0 A'):
        assert part in message


def test_group_serves_priority_one_first_and_keeps_a_minimum_for_others():
    plan = plan_load(_site(40, group='depot-lm'), [_station('CP1', 32, 1), _station('CP2', 32, 2)])
    assert plan['stations']['CP1']['max_current_a'] == 32.0
    assert plan['stations']['CP2']['max_current_a'] == 8.0
    assert plan['planned_a'] <= 40


def test_group_splits_one_level_by_weight_never_above_the_request():
    stations = [_station('CP1', 32, weight=1), _station('CP2', 32, weight=3), _station('CP3', 10, weight=10)]
    plan = plan_load(_site(50, group='g'), stations)
    got = dict((sid, entry['max_current_a']) for sid, entry in plan['stations'].items())
    assert got['CP3'] == 10.0
    assert got['CP2'] > got['CP1']
    assert sum(got.values()) <= 50.0


def test_group_cannot_go_below_the_minimum_current():
    with pytest.raises(PlanError, match='minimum of 6.0 A'):
        plan_load(_site(10, group='g'), [_station('CP1', 32), _station('CP2', 32)])


@pytest.mark.parametrize('site', [{'id': 'x'}, {'id': 'x', 'grid_connection': {'max_current_a': 0}}])
def test_bad_site_cap_is_refused(site):
    with pytest.raises(PlanError, match='site x'):
        plan_load(site, [_station('CP1', 16)])


def test_single_phase_station_power():
    plan = plan_load(_site(63), [_station('CP1', 32, phases=1)])
    assert plan['stations']['CP1']['max_power_w'] == 7360.0
