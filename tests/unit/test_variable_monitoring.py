# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning of variable monitors: what each state sets and clears, and a monitor the station keeps for itself."""

from __future__ import annotations

from ansible_collections.evcs.provisioning.plugins.module_utils.station import monitoring

POWER = {'component': {'name': 'EVSE', 'evse': 1}, 'variable': {'name': 'Power'}, 'type': 'UpperThreshold',
         'value': 23000, 'severity': 4, 'transaction': False}
REPORT = [{'payload': {'monitor': [
    {'component': {'name': 'EVSE', 'evse': {'id': 1}}, 'variable': {'name': 'Power'},
     'variableMonitoring': [{'id': 7, 'type': 'UpperThreshold', 'value': 22000, 'severity': 4, 'transaction': False}]},
    {'component': {'name': 'ChargingStation'}, 'variable': {'name': 'Problem'},
     'variableMonitoring': [{'id': 1, 'type': 'Delta', 'value': 1, 'severity': 0, 'transaction': False}]}]}}]


def _wanted(*monitors):
    return dict(monitoring._declared(monitor) for monitor in monitors)


def test_a_changed_value_replaces_the_monitor_by_its_id():
    current = monitoring.reported_monitors(REPORT)
    to_set, to_clear = monitoring.plan(current, _wanted(POWER), 'merged')
    assert [(entry['id'], entry['value']) for entry in to_set] == [(7, 23000.0)] and to_clear == []


def test_overridden_clears_what_is_not_declared_and_deleted_only_what_is():
    current = monitoring.reported_monitors(REPORT)
    _set, to_clear = monitoring.plan(current, _wanted(dict(POWER, value=22000)), 'overridden')
    assert _set == [] and [entry['id'] for entry in to_clear] == [1]
    _set, to_clear = monitoring.plan(current, _wanted(POWER), 'deleted')
    assert _set == [] and [entry['id'] for entry in to_clear] == [7]


def test_the_same_monitor_twice_changes_nothing():
    current = monitoring.reported_monitors(REPORT)
    assert monitoring.plan(current, _wanted(dict(POWER, value=22000)), 'merged') == ([], [])


class _Station(object):
    def call(self, station_id, action, payload):
        return {'clearMonitoringResult': [{'id': 1, 'status': 'Rejected'}, {'id': 7, 'status': 'Accepted'}]}


def test_a_monitor_the_station_refuses_to_clear_is_kept_not_cleared():
    current = monitoring.reported_monitors(REPORT)
    cleared, kept = monitoring._clear(_Station(), 'CP-1', sorted(current.values(), key=lambda entry: entry['id']))
    assert [entry['id'] for entry in cleared] == [7] and [entry['id'] for entry in kept] == [1]
