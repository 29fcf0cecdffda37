"""Provisioning, commissioning, drift detection and the audit trail against the lab (inventories/lab).

Full provisioning of the lab's stations passes the checklist and writes the reports; a second run changes nothing;
a technician's local change of a managed variable makes verify.yml exit non-zero naming the station and the field;
the audit trail holds every change of the run and none of the lab's secrets.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from module_task import csms_arguments, run_module  # noqa: E402

pytestmark = pytest.mark.integration

DRIFTED = {'component': 'OCPPCommCtrlr', 'variable': 'HeartbeatInterval'}


def _env(directory):
    return {'EVCS_REPORT_DIR': str(directory / 'reports'), 'ANSIBLE_CALLBACKS_ENABLED': 'evcs.provisioning.audit',
            'EVCS_AUDIT_FILE': str(directory / 'audit.jsonl')}


def _stations(recap):
    return dict((host, counts) for host, counts in recap.items() if host != 'localhost')


def _secrets(lab):
    return [lab['csms']['api_token'], lab['csms']['staging_password'], lab['vault']['secret_id'], lab['vault']['token'],
            lab['vault']['role_id'], 'lab-wifi-passphrase']


@pytest.fixture(scope='module')
def provisioned(run_playbook, tmp_path_factory):
    """Two provisioning runs of the whole lab inventory, with the audit trail on."""
    directory = tmp_path_factory.mktemp('commission')
    first = run_playbook('playbooks/provision.yml', diff=True, env=_env(directory))
    second = run_playbook('playbooks/provision.yml', env=_env(directory))
    return directory, first, second


def test_fresh_stations_pass_the_checklist(provisioned, lab):
    directory, (rc, output, recap) = provisioned[0], provisioned[1]
    assert rc == 0, output[-6000:]
    assert all(counts['failed'] == 0 for counts in _stations(recap).values()), recap
    (report_file,) = sorted((directory / 'reports').glob('commissioning-*.json'))[-1:]
    report = json.loads(report_file.read_text())
    assert sorted(station['station_id'] for station in report) == sorted(_stations(recap))
    for station in report:
        assert station['passed'], station
        items = dict((item['name'], item['status']) for item in station['checklist'])
        assert items['station_online'] == items['device_model'] == items['csms_tcp'] == 'pass', station
    for site in set(station['site_id'] for station in report):
        table = (directory / 'reports' / ('commissioning-%s.md' % site)).read_text()
        assert '| Station | Result |' in table and '| **FAIL** |' not in table


def test_second_run_changes_nothing(provisioned):
    rc, output, recap = provisioned[2]
    assert rc == 0, output[-6000:]
    changed = dict((host, counts['changed']) for host, counts in _stations(recap).items() if counts['changed'])
    assert changed == {}, output[-6000:]


def test_audit_trail_holds_every_change_and_no_secret(provisioned, lab):
    directory, recap = provisioned[0], provisioned[1][2]
    text = (directory / 'audit.jsonl').read_text()
    for secret in _secrets(lab):
        assert secret not in text
    lines = [json.loads(line) for line in text.splitlines()]
    first_run = lines[0]['run_id']
    run = [line for line in lines if line['run_id'] == first_run]
    assert run[0]['event'] == 'run_start' and run[-1]['event'] == 'run_end'
    for host, counts in _stations(recap).items():
        changes = [line for line in run if line['event'] == 'task' and line['host'] == host and line['changed']]
        assert len(changes) == counts['changed'], (host, [line['task'] for line in changes])
        assert all(line['environment'] == 'lab' for line in changes)
    assert any('diff' in line for line in run if line.get('changed'))


def test_verify_names_the_drifted_station_and_field(provisioned, run_playbook, lab):
    directory = provisioned[0]
    station = sorted(lab['simulator']['stations'])[0]
    original = _variable_value(lab, station)
    lab.sim.local_change(station, [dict(DRIFTED, value=str(int(original) + 7))])
    try:
        rc, output = run_playbook('playbooks/verify.yml', env=_env(directory))[:2]
    finally:
        lab.sim.local_change(station, [dict(DRIFTED, value=original)])
    assert rc != 0
    drift = output[output.index('PLAY [Report the drift]'):]
    assert '%s:' % station in drift and 'OCPPCommCtrlr.HeartbeatInterval' in drift, drift
    assert '1 drifted or failed' in drift, drift


def test_verify_passes_on_an_unchanged_fleet(provisioned, run_playbook):
    rc, output, recap = run_playbook('playbooks/verify.yml', env=_env(provisioned[0]))
    assert rc == 0, output[-6000:]
    assert all(counts['changed'] == 0 for counts in _stations(recap).values())


def test_load_management_cap_is_read_back_from_the_station(provisioned, lab):
    """The cap in force is the station's own ChargingStationMaxProfile (GetChargingProfiles read-back): a higher stack
    level set behind the collection's back fails the item, naming the limit the station really applies."""
    report = json.loads(sorted((provisioned[0] / 'reports').glob('commissioning-*.json'))[-1].read_text())
    station = sorted(report, key=lambda entry: entry['station_id'])[0]
    cap = dict((item['name'], item) for item in station['checklist'])['load_management_cap']
    assert cap['status'] == 'pass' and cap['evidence']['in_force']['limit'] == cap['evidence']['expected']['limit'], cap
    others = [item['name'] for item in station['checklist'] if item['name'] != 'load_management_cap']
    arguments = dict(csms_arguments(lab, station['station_id']), optional_checks=others,
                     csms_endpoint='%s/%s' % (lab['csms']['ws_urls']['1'], station['station_id']),
                     charging_limit=dict(cap['evidence']['expected'], phases=3))
    assert run_module(lab, 'commissioning_check', arguments)[0] == 0
    lab.csms.call(station['station_id'], 'SetChargingProfile', {'evseId': 0, 'chargingProfile': {
        'id': 99, 'stackLevel': 5, 'chargingProfilePurpose': 'ChargingStationMaxProfile', 'chargingProfileKind': 'Absolute',
        'chargingSchedule': [{'id': 99, 'startSchedule': '2020-01-01T00:00:00Z', 'chargingRateUnit': 'A',
                              'chargingSchedulePeriod': [{'startPeriod': 0, 'limit': 6.0}]}]}})
    try:
        rc, output = run_module(lab, 'commissioning_check', arguments)
    finally:
        lab.csms.call(station['station_id'], 'ClearChargingProfile', {'chargingProfileId': 99})
    assert rc != 0 and 'load_management_cap' in output and '6.0 A at stack level 5' in output, output[-3000:]


def _variable_value(lab, station_id):
    """The station's Actual value of the drifted variable, as the simulator's control API reports it."""
    for entry in lab.sim.station(station_id)['device_model']:
        if (entry['component']['name'], entry['variable']['name']) == (DRIFTED['component'], DRIFTED['variable']):
            return entry['attributes']['value']
    raise AssertionError('%s has no %s.%s' % (station_id, DRIFTED['component'], DRIFTED['variable']))
