# -*- coding: utf-8 -*-
"""evcs_station.ocpp_version in the one desired-state model: per station or per site, its model, its settings."""

from __future__ import annotations

import copy
import pathlib

import yaml

from ansible_collections.evcs.provisioning.plugins.module_utils.desired_state import load_station, public_station

GOOD = yaml.safe_load((pathlib.Path(__file__).parent / 'data' / 'good_charger.yml').read_text())


def _vars(station=None, site=None, **extra):
    host_vars = copy.deepcopy(GOOD)
    host_vars['evcs_station'].pop('station_model', None)
    # the good charger's static addressing and DNS are for a model that maps them; a 1.6 model maps none
    host_vars['evcs_station']['network'] = {'mode': 'ethernet', 'addressing': 'dhcp'}
    host_vars['evcs_network'] = {}
    host_vars['evcs_station'].update(station or {})
    host_vars['evcs_site'].update(site or {})
    host_vars.update(extra)
    return host_vars


def _16(**station):
    return dict({'ocpp_version': '1.6', 'vendor': 'EVCS Sim', 'model': 'SimCharger AC11-16'}, **station)


def test_the_default_is_201_and_nothing_changes_for_201_stations():
    station, problems = load_station('cp', _vars())
    assert problems == [] and station['ocpp_version'] == '2.0.1'
    assert public_station(station)['ocpp_version'] == '2.0.1'


def test_a_16_station_gets_its_16_model_and_unquoted_16_is_read_as_text():
    station, problems = load_station('cp', _vars(_16(ocpp_version=1.6)))
    assert problems == []
    assert station['ocpp_version'] == '1.6' and station['station_model'] == 'evcs-sim-16'
    unknown, problems = load_station('cp', _vars(_16(vendor='Other', model='X1')))
    assert problems == [] and unknown['station_model'] == 'generic-16'


def test_the_site_sets_the_default_and_a_station_overrides_it():
    station, problems = load_station('cp', _vars(dict(_16(), ocpp_version=None),
                                                 {'ocpp_version': '1.6'}))
    assert problems == [] and station['ocpp_version'] == '1.6'
    station, problems = load_station('cp', _vars({'ocpp_version': '2.0.1'}, {'ocpp_version': '1.6'}))
    assert problems == [] and station['ocpp_version'] == '2.0.1'


def test_a_bad_version_is_refused_naming_the_field_and_the_choices():
    _station, problems = load_station('cp', _vars({'ocpp_version': '1.5'}))
    assert len(problems) == 1
    assert problems[0].startswith("cp: evcs_station.ocpp_version = '1.5'") and '2.0.1' in problems[0]


def test_a_model_of_the_other_version_is_refused():
    _station, problems = load_station('cp', _vars({'station_model': 'evcs-sim-16'}))
    assert len(problems) == 1
    assert "evcs_station.ocpp_version = '2.0.1': station model evcs-sim-16 describes OCPP 1.6 stations" in problems[0]
    assert 'set evcs_station.ocpp_version: "1.6"' in problems[0]
    _station, problems = load_station('cp', _vars(_16(station_model='evcs-sim-ac22')))
    assert len(problems) == 1 and 'describes OCPP 2.0.1 stations' in problems[0]


def test_a_16_station_declaring_a_setting_without_a_16_key_is_refused():
    _station, problems = load_station('cp', _vars(_16(ocpp={'offline_threshold': 120, 'heartbeat_interval': 60})))
    assert len(problems) == 1
    assert problems[0].startswith('cp: evcs_station.ocpp.offline_threshold = 120: has no OCPP 1.6 configuration key')
    assert 'docs/OCPP16.md' in problems[0]
    # the defaults and the site's settings without a 1.6 key are not the station's declaration: not applied, no error
    station, problems = load_station('cp', _vars(_16(), evcs_ocpp={'ended_interval': 30}))
    assert problems == [] and station['ocpp']['ended_interval'] == 30


def test_variable_monitors_are_refused_for_a_16_station():
    monitors = [{'component': {'name': 'EVSE', 'evse': 1}, 'variable': {'name': 'Power'}, 'type': 'UpperThreshold',
                 'value': 23000}]
    _station, problems = load_station('cp', _vars(_16(monitoring={'monitors': monitors})))
    assert len(problems) == 1 and 'evcs_station.monitoring.monitors' in problems[0] and 'OCPP 1.6' in problems[0]
