# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet mode of verify.yml: the stage calls per station, the batching and the per-host report."""

from __future__ import annotations

import threading
import time

import pytest

from ansible_collections.evcs.provisioning.plugins.filter.result_changes import result_changes
from ansible_collections.evcs.provisioning.plugins.module_utils.csms import connection
from ansible_collections.evcs.provisioning.plugins.plugin_utils import fleet_verify
from ansible_collections.evcs.provisioning.plugins.plugin_utils.fleet_verify import (
    Step, StationFailure, host_outcome, run_fleet, run_station, station_report, station_steps,
)

NAMES = ['network_variables', 'ocpp_result', 'ocpp_keys_result', 'load_management_limit', 'commission_result']
SITE = {'id': 'depot', 'operator': {'name': 'Op', 'organization': 'Op'},
        'grid_connection': {'max_current_a': 100, 'phases': 3, 'voltage_v': 230}}
STATION = {'id': 'CP-1', 'serial_number': 'SN-1', 'vendor': 'EVCS Sim', 'model': 'SimCharger AC22',
           'security_profile': 1,
           'evses': [{'id': 1, 'max_current_a': 16, 'phases': 3,
                      'connectors': [{'id': 1, 'type': 'cType2', 'format': 'Socket', 'max_current_a': 16}]}]}
CSMS = {'url': 'https://csms.example:8443', 'token': 'api-SEKRET', 'ws_urls': {'1': 'ws://csms.example:9001/ocpp'},
        'staging_password': 'staging-SEKRET'}
PLANS = {'depot': {'stations': {'CP-1': {'max_current_a': 16, 'max_power_w': 11040, 'phases': 3, 'voltage_v': 230}}}}


def _host_vars(**station):
    return {'evcs_station': dict(STATION, **station), 'evcs_site': SITE, 'evcs_csms': CSMS,
            'evcs_ocpp': {'heartbeat_interval': 300}, 'evcs_network': {'ntp': ['pool.ntp.org']}}


def _by_module(steps):
    return dict((step.module if step.register != 'network_variables' else 'network', step) for step in steps)


def test_the_steps_are_verify_yml_stages_in_order_with_the_roles_arguments():
    steps = station_steps('CP-1', _host_vars(), PLANS)
    assert [step.module for step in steps] == ['station_capabilities', 'station', 'device_model', 'device_model',
                                               'charging_limit', 'commissioning_check']
    assert [step.register for step in steps] == [None, None, 'network_variables', 'ocpp_result', 'load_management_limit',
                                                 'commission_result']
    by = _by_module(steps)
    # the capability fact from the cache and the model only: the station is never asked for its report
    assert by['station_capabilities'].args['discover'] == 'never'
    assert by['station'].args['serial_number'] == 'SN-1' and by['station'].args['heartbeat_interval'] == 300
    assert by['station'].args['location_id'] == 'depot' and by['station'].args['status'] == 'active'
    ocpp = by['device_model'].args
    assert {'component': {'name': 'OCPPCommCtrlr'}, 'variable': {'name': 'HeartbeatInterval'}, 'value': 300,
            'value_type': 'integer'} in ocpp['variables']
    assert ocpp['gather'] and all('value' not in item for item in ocpp['gather'])  # the EVSE/connector reads
    limit = by['charging_limit'].args
    assert (limit['limit'], limit['unit'], limit['phases'], limit['stack_level'], limit['profile_id']) == (16, 'A', 3, 0, 1)
    commission = by['commissioning_check'].args
    assert commission['csms_endpoint'] == 'ws://csms.example:9001/ocpp/CP-1'
    assert commission['charging_limit'] == {'limit': 16.0, 'unit': 'A', 'phases': 3, 'voltage': 230.0}
    assert commission['staging_password'] == 'staging-SEKRET' and commission['pending_apply'] is False
    assert commission['connectors'] == [{'evse_id': 1, 'connector_id': 1}]


def test_an_ocpp16_station_gets_configuration_keys_and_no_network_variables():
    steps = station_steps('CP-1', _host_vars(ocpp_version='1.6', model='SimCharger AC11-16', station_model='evcs-sim-16'),
                          PLANS)
    modules = [step.module for step in steps]
    assert 'configuration_keys' in modules and 'device_model' not in modules
    keys = next(step for step in steps if step.module == 'configuration_keys')
    assert keys.register == 'ocpp_keys_result' and keys.args['gather'] == ['NumberOfConnectors']
    commission = steps[-1].args
    assert commission['device_model'] == [] and commission['configuration_keys']


def test_role_variables_of_the_inventory_are_taken():
    host_vars = dict(_host_vars(), ocpp_verify_hardware=False, commission_optional_checks=['connectors_available'],
                     load_management_stack_level=2)
    by = _by_module(station_steps('CP-1', host_vars, PLANS))
    assert by['device_model'].args['gather'] == []
    assert by['commissioning_check'].args['optional_checks'] == ['connectors_available']
    assert by['charging_limit'].args['stack_level'] == 2


def test_an_impossible_site_plan_stops_the_station_with_the_roles_message():
    with pytest.raises(StationFailure) as failure:
        station_steps('CP-1', _host_vars(), {'depot': {'error': 'site depot: too much'}})
    assert failure.value.args == ("Stop when the site's stations cannot fit its grid connection", 'site depot: too much')


def _runner(answers):
    """A stand-in for run_step: the answer per module, recording the calls."""
    calls = []

    def _run(step, arguments, task_vars):
        calls.append((step.module, dict(task_vars)))
        answer = answers[step.module]
        return answer(step) if callable(answer) else dict(answer)
    return _run, calls


DRIFT = {'changed': True, 'diff': {'before': {'OCPPCommCtrlr.HeartbeatInterval': '77'},
                                   'after': {'OCPPCommCtrlr.HeartbeatInterval': '300'}}}
PASSED = {'changed': False, 'passed': True, 'failed_items': [], 'checklist': []}


def _steps():
    return [(Step('Write the station record', 'station', {}), {}),
            (Step('Set heartbeat', 'device_model', {}, 'ocpp_result'), {}),
            (Step('Run the commissioning checklist', 'commissioning_check', {}, 'commission_result'), {'station_id': 'CP-1'})]


def test_a_failed_stage_stops_the_station_and_names_the_task():
    run, calls = _runner({'station': {'failed': True, 'msg': 'CSMS said no'}, 'device_model': DRIFT,
                          'commissioning_check': PASSED})
    outcome = run_station('CP-1', _steps(), {}, run=run)
    assert outcome == {'results': {}, 'failure': 'Write the station record: CSMS said no'}
    assert [module for module, _ in calls] == ['station']


def test_facts_of_a_stage_reach_the_later_stages_of_the_same_station():
    limits = {'ansible_facts': {'evcs_device_data_limits': {'station_id': 'CP-1'}}, 'changed': False}
    run, calls = _runner({'station': limits, 'device_model': DRIFT, 'commissioning_check': PASSED})
    run_station('CP-1', _steps(), {'evcs_csms': CSMS}, run=run)
    assert 'evcs_device_data_limits' not in calls[0][1] and calls[1][1]['evcs_device_data_limits'] == {'station_id': 'CP-1'}
    assert calls[2][1]['inventory_hostname'] == 'CP-1'


def test_failed_commissioning_items_are_drift_not_a_stopped_check():
    checklist = [{'name': 'device_model', 'status': 'fail', 'required': True,
                  'evidence': {'mismatches': [{'variable': 'OCPPCommCtrlr.HeartbeatInterval', 'actual': '77',
                                               'expected': '300'}]}}]
    failed = {'failed': True, 'msg': 'station CP-1 failed commissioning', 'passed': False,
              'failed_items': ['device_model'], 'checklist': checklist}
    run, _ = _runner({'station': {}, 'device_model': DRIFT, 'commissioning_check': failed})
    outcome = run_station('CP-1', _steps(), {}, run=run)
    assert outcome['failure'] is None and outcome['results']['commission_result']['failed'] is False
    report = station_report('CP-1', outcome, NAMES)
    # the same entries verify.yml's result_changes makes of the same registered results
    assert report['evcs_drift'] == result_changes(outcome['results'], NAMES)
    assert [entry['field'] for entry in report['evcs_drift']] == [
        'OCPPCommCtrlr.HeartbeatInterval', 'device_model: OCPPCommCtrlr.HeartbeatInterval']
    assert 'evcs_verify_failure' not in report and report['diff'] == [DRIFT['diff']]


def test_commissioning_that_could_not_run_is_a_stopped_check():
    run, _ = _runner({'station': {}, 'device_model': {'changed': False},
                      'commissioning_check': {'failed': True, 'msg': 'station CP-1: CSMS unreachable', 'passed': False}})
    outcome = run_station('CP-1', _steps(), {}, run=run)
    assert outcome['failure'] == 'Fail the station when a required item failed: station CP-1: CSMS unreachable'


def test_a_role_assert_after_a_stage_stops_the_station():
    step = Step('Set heartbeat', 'device_model', {}, 'ocpp_result',
                after=lambda result: ('Compare the EVSEs and connectors with the inventory', 'station CP-1 reports x'))
    run, _ = _runner({'device_model': {'changed': False, 'gathered': []}})
    outcome = run_station('CP-1', [(step, {})], {}, run=run)
    assert outcome['failure'] == 'Compare the EVSEs and connectors with the inventory: station CP-1 reports x'
    assert 'ocpp_result' in outcome['results']


def test_a_crash_in_one_station_does_not_stop_the_fleet():
    def _boom(step):
        raise RuntimeError('socket closed')
    run, _ = _runner({'station': _boom, 'device_model': DRIFT, 'commissioning_check': PASSED})
    reports = run_fleet({'A': {'calls': _steps()}, 'B': {'failure': 'Station model: unknown'}}, NAMES, run=run)
    assert reports['A']['evcs_verify_failure'] == 'Write the station record: socket closed'
    assert reports['B']['evcs_verify_failure'] == 'Station model: unknown' and reports['B']['evcs_drift'] == []


def test_stations_run_concurrently_and_each_keeps_its_own_results():
    running, peak, lock = [0], [0], threading.Lock()

    def _slow(step):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return dict(DRIFT) if step.module == 'device_model' else dict(PASSED)
    run, _ = _runner({'station': _slow, 'device_model': _slow, 'commissioning_check': _slow})
    hosts = ['CP-%d' % number for number in range(12)]
    reports = run_fleet(dict((host, {'calls': _steps()}) for host in hosts), NAMES, workers=6, run=run)
    assert list(reports) == hosts and peak[0] == 6
    assert all(reports[host]['inventory_hostname'] == host and len(reports[host]['evcs_drift']) == 1 for host in hosts)


def test_host_outcome_sets_the_report_facts_and_the_diff_for_the_audit_trail():
    report = station_report('CP-1', {'results': {'ocpp_result': dict(DRIFT)}, 'failure': None}, NAMES)
    outcome = host_outcome(report, 'CP-1')
    assert outcome['changed'] is True and outcome['diff'] == [DRIFT['diff']]
    assert set(outcome['ansible_facts']) == {'evcs_drift', 'evcs_unverifiable'}
    missing = host_outcome({}, 'CP-9')
    assert missing['changed'] is False and 'not in the checked batch' in missing['ansible_facts']['evcs_verify_failure']


def test_with_fail_on_drift_the_one_per_host_task_fails_a_drifted_or_unchecked_station():
    drifted = host_outcome(station_report('CP-1', {'results': {'ocpp_result': dict(DRIFT)}, 'failure': None}, NAMES),
                           'CP-1', fail_on_drift=True)
    fields = ', '.join(sorted(set(entry['field'] for entry in result_changes({'ocpp_result': DRIFT}, NAMES))))
    assert drifted['failed'] is True and drifted['msg'] == 'drift on CP-1: %s: see the list above' % fields
    assert drifted['ansible_facts']['evcs_drift'] and drifted['diff'] == [DRIFT['diff']]
    stopped = host_outcome(station_report('CP-2', {'results': {}, 'failure': 'Write the station record: refused'},
                                          NAMES), 'CP-2', fail_on_drift=True)
    assert stopped['failed'] is True and '(Write the station record: refused)' in stopped['msg']
    assert host_outcome({}, 'CP-9', fail_on_drift=True)['failed'] is True
    clean = host_outcome(station_report('CP-3', {'results': {}, 'failure': None}, NAMES), 'CP-3', fail_on_drift=True)
    assert 'failed' not in clean and clean['msg'] == 'no drift on CP-3'


def test_the_report_carries_what_the_html_report_shows_and_no_inventory_becomes_a_fact():
    report = station_report('CP-1', {'results': {}, 'failure': None}, NAMES,
                            dict(_host_vars(), evcs_environment='lab'))
    assert report['evcs_station'] == {'id': 'CP-1', 'security_profile': 1}
    assert report['evcs_site'] == {'id': 'depot'} and report['evcs_environment'] == 'lab'
    assert set(host_outcome(report, 'CP-1')['ansible_facts']) == {'evcs_drift', 'evcs_unverifiable'}


def test_a_station_s_calls_share_its_snapshot():
    """Every stage call of a station gets the station's own id and the snapshot plan of its inventory, as a role task
    does, so the first call's snapshot answers the later calls' reads (the fact run_station hands on)."""
    step = Step('Set', 'device_model', {'station_id': 'CP-1'})
    context = fleet_verify.step_context(step, {'station_id': 'CP-1'}, dict(_host_vars(), inventory_hostname='cp1'))
    assert context.station_id == 'CP-1' and context.check_mode and context.diff
    planned = context.snapshot_plan()
    assert planned and all('component' in entry and 'variable' in entry for entry in planned)
    assert not fleet_verify.step_context(step, {'station_id': 'CP-1'}, {}, check_mode=False).check_mode


def test_kept_backends_are_one_client_per_connection_per_thread(monkeypatch):
    built = []
    monkeypatch.setattr(connection, '_new_backend', lambda params, warn=None, secret=None: built.append(1) or object())
    params = {'csms_backend': 'reference', 'csms_url': 'https://a', 'csms_token': 't'}
    assert connection.csms_backend(params) is not connection.csms_backend(params)  # no keeping outside a fleet run
    with connection.keep_backends():
        first = connection.csms_backend(params)
        assert connection.csms_backend(dict(params, station_id='other')) is first
        assert connection.csms_backend(dict(params, csms_url='https://b')) is not first
    assert connection.csms_backend(params) is not first
    assert len(built) == 5


def test_every_stage_action_exists_with_its_run():
    for module, action in fleet_verify.ACTIONS.items():
        assert action.ARGUMENT_SPEC and callable(action.RUN), module
