"""Backend plane against the lab: a 50-charger CSV fleet registers in one run, sites once, idempotent second run,
deregistration, strict CSV errors, and the station's local list version matching the CSMS record."""

from __future__ import annotations

import json
import re

import pytest
import yaml

SITES = ['fleet-site-%d' % number for number in range(1, 6)]
ENABLED = 'evcs.provisioning.chargers_csv,ansible.builtin.yaml,ansible.builtin.host_list'
PLAYBOOK = """---
- name: Backend records
  hosts: all
  gather_facts: false
  roles:
    - role: evcs.provisioning.backend
"""


def _fleet_rows(online_station):
    header = 'station_id,serial_number,site,vendor,model,connectors,phases,max_current_a,state'
    rows = [header]
    for number in range(1, 51):
        station_id = online_station if number == 1 else 'FLEET-CP-%04d' % number
        # the online lab station with the serial number it reports in BootNotification (the backend stage compares them)
        serial = 'SIM-%04d' % number if number == 1 else 'SN-%04d' % number
        rows.append('%s,%s,%s,EVCS Sim,SimCharger AC22,1:cType2:Socket:32;2:cType2:Socket:32,3,32,present'
                    % (station_id, serial, SITES[number % 5]))
    return rows


def _write_inventory(directory, lab, rows):
    (directory / 'group_vars').mkdir(parents=True, exist_ok=True)
    (directory / 'chargers.csv').write_text('\n'.join(rows) + '\n')
    (directory / 'chargers.yml').write_text('plugin: evcs.provisioning.chargers_csv\npath: chargers.csv\n'
                                            'environment: lab\n')
    csms = {'url': lab['csms']['api_url'], 'token': lab['csms']['api_token'], 'ca_path': lab['csms']['ca_cert']}
    (directory / 'group_vars' / 'all.yml').write_text(yaml.safe_dump({'evcs_csms': csms, 'ansible_connection': 'local'}))
    for index, site in enumerate(SITES):
        group_vars = {'evcs_site': {
            'id': site, 'name': 'Fleet site %d' % (index + 1), 'timezone': 'Europe/Berlin',
            'address': {'street': 'Hauptstr. %d' % (index + 1), 'city': 'Berlin', 'postal_code': '10115', 'country': 'DE'},
            'operator': {'name': 'EVCS Lab Operator'},
            'grid_connection': {'max_current_a': 400, 'phases': 3, 'voltage_v': 230},
            'tariff': {'id': 'tariff-%s' % site, 'currency': 'EUR', 'price_per_kwh': 0.39},
            'id_tokens': [{'id_token': '04A2B3C4D5E6%02X' % index, 'type': 'ISO14443', 'status': 'Accepted'},
                          {'id_token': 'APP-%d' % index, 'type': 'Central', 'status': 'Accepted'}],
        }}
        (directory / 'group_vars' / ('%s.yml' % site.replace('-', '_'))).write_text(yaml.safe_dump(group_vars))
    (directory / 'backend.yml').write_text(PLAYBOOK)
    return directory


def _run(run_playbook, directory, **options):
    return run_playbook(str(directory / 'backend.yml'), inventory=str(directory / 'chargers.yml'),
                        env={'ANSIBLE_INVENTORY_ENABLED': ENABLED, 'ANSIBLE_INVENTORY_UNPARSED_FAILED': '1'}, **options)


def _failure(output):
    """The part of a playbook's output from its first failure on."""
    start = min([index for index in (output.find('fatal:'), output.find('ERROR')) if index >= 0] or [0])
    return output[start:start + 3000]


def _changed_items(output, task):
    """``(item=...)`` labels reported changed by ``task``."""
    section = output.split('TASK [evcs.provisioning.backend : %s]' % task, 1)[1].split('TASK [', 1)[0]
    return re.findall(r'^changed: \[[^\]]+\] => \(item=([^)]+)\)', section, re.MULTILINE)


@pytest.fixture(scope='module')
def fleet(lab, run_playbook, tmp_path_factory):
    online = lab['simulator']['stations'][0]
    directory = _write_inventory(tmp_path_factory.mktemp('fleet'), lab, _fleet_rows(online))
    rc, output, recap = _run(run_playbook, directory)
    assert rc == 0, _failure(output)
    return dict(directory=directory, online=online, first=(output, recap))


def test_fleet_registers_in_one_run_with_each_site_once(lab, fleet):
    output, recap = fleet['first']
    assert len(recap) == 50 and all(counts['failed'] == 0 for counts in recap.values())
    assert sorted(_changed_items(output, 'Write the location record of each site')) == SITES
    assert sorted(_changed_items(output, 'Write the tariff of each site')) == sorted(
        '%s: tariff-%s' % (site, site) for site in SITES)
    locations = [record for record in lab.csms.records('locations') if record['id'] in SITES]
    assert len(locations) == 5
    stations = [record for record in lab.csms.records('stations')
                if record['id'].startswith('FLEET-') or record['id'] == fleet['online']]
    assert len(stations) == 50
    sample = lab.csms.record('stations', 'FLEET-CP-0002')
    assert sample['location_id'] == SITES[2] and sample['tariff_id'] == 'tariff-%s' % SITES[2]
    assert sample['evses'][0]['connectors'][0] == {'id': 1, 'type': 'cType2', 'format': 'Socket',
                                                  'power_type': 'AC_3_PHASE', 'max_amperage': 32}


def test_second_run_changes_nothing(run_playbook, fleet):
    rc, output, recap = _run(run_playbook, fleet['directory'])
    assert rc == 0, _failure(output)
    assert {host: counts['changed'] for host, counts in recap.items() if counts['changed']} == {}


def test_local_list_version_on_station_matches_csms(lab, fleet):
    online = fleet['online']
    record = lab.csms.record('stations', online)
    version = lab.csms.call(online, 'GetLocalListVersion', {})['versionNumber']
    assert record['local_list']['version'] == version >= 1
    site = lab.csms.record('stations', online)['location_id']
    tokens = {record['id_token'] for record in lab.csms.records('id-tokens', group=site)}
    assert {key.split(':', 1)[1] for key in record['local_list']['entries']} == tokens
    simulated = lab.sim.station(online)['local_list']
    assert simulated['version'] == version


def test_absent_deregisters_and_removes_tokens(lab, run_playbook, fleet, tmp_path):
    victim = 'FLEET-CP-0007'
    lab.csms.put_record('id-tokens', '%s.STAFF-1' % victim,
                        {'group': victim, 'id_token': 'STAFF-1', 'type': 'Central', 'status': 'Accepted'})
    rows = [row if not row.startswith(victim + ',') else row.rsplit(',', 1)[0] + ',absent'
            for row in _fleet_rows(fleet['online'])]
    directory = _write_inventory(tmp_path, lab, rows)
    rc, output, recap = _run(run_playbook, directory)
    assert rc == 0, _failure(output)
    assert recap[victim]['changed'] == 2
    assert lab.csms.record('stations', victim) is None
    assert lab.csms.records('id-tokens', group=victim) == []
    assert lab.csms.record('stations', 'FLEET-CP-0008') is not None


@pytest.mark.parametrize('row, fault', [
    ('FLEET-CP-0002,SN-X,fleet-site-1,EVCS Sim,SimCharger AC22,1:cType2:Socket:32,3,32,present',
     'row 4, column station_id: station id FLEET-CP-0002 repeats row 3'),
    ('FLEET-CP-0099,SN-X,fleet-site-1,EVCS Sim,SimCharger AC22,1:cTypeX:Socket:32,3,32,present',
     "row 4, column connectors: 'cTypeX'"),
])
def test_bad_csv_fails_naming_rows(lab, run_playbook, tmp_path, row, fault):
    rows = _fleet_rows(lab['simulator']['stations'][0])[:3] + [row]
    directory = _write_inventory(tmp_path, lab, rows)
    before = json.dumps(sorted(record['id'] for record in lab.csms.records('stations')))
    rc, output, dummy = _run(run_playbook, directory)
    assert rc != 0
    assert 'chargers.csv: ' + fault in output
    assert json.dumps(sorted(record['id'] for record in lab.csms.records('stations'))) == before
