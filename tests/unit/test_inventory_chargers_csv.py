"""The chargers CSV inventory: parsing, groups, and errors that name file, row and column."""

from __future__ import annotations

import io
import json
import os
import pathlib
import subprocess

import pytest

from ansible_collections.evcs.provisioning.plugins.inventory import chargers_csv

DATA = pathlib.Path(__file__).with_name('data')
REPO = pathlib.Path(__file__).resolve().parents[2]
HEADER = 'station_id,serial_number,site,vendor,model,connectors\n'


def _read(text):
    return chargers_csv.read_chargers(io.StringIO(text))


def _errors(text):
    with pytest.raises(chargers_csv.CsvErrors) as caught:
        _read(text)
    return [(error.row, error.column, str(error)) for error in caught.value.errors]


def test_connectors_become_evses():
    assert chargers_csv.parse_connectors('1:cType2:Socket:32;2:cCCS2:Cable:125.5') == [
        {'id': 1, 'connectors': [{'id': 1, 'type': 'cType2', 'format': 'Socket', 'max_current_a': 32}]},
        {'id': 2, 'connectors': [{'id': 1, 'type': 'cCCS2', 'format': 'Cable', 'max_current_a': 125.5}]}]


def test_good_file_builds_stations():
    with open(DATA / 'chargers_good.csv', newline='') as handle:
        rows = chargers_csv.read_chargers(handle)
    assert [(row, station['id'], site, env) for row, station, site, env in rows] == [
        (2, 'CSV-CP-001', 'depot-north', 'lab'), (3, 'CSV-CP-002', 'depot-south', 'lab')]
    first, second = rows[0][1], rows[1][1]
    assert first['evses'][1] == {'id': 2, 'phases': 3, 'max_current_a': 32, 'connectors': [
        {'id': 1, 'type': 'cType2', 'format': 'Socket', 'max_current_a': 32}]}
    assert first['asset'] == {'installer': 'ACME', 'installation_date': '2026-01-15'}
    assert second['network'] == {'mode': 'cellular', 'cellular': {'apn': 'iot.example', 'iccid': '8949000000000000018'}}
    assert second['evses'][0]['max_current_a'] == 125


def test_header_errors_name_the_columns():
    errors = _errors('station_id,serial_number,site,vendor,model,colour\n')
    assert (1, 'colour', "unknown column 'colour': known columns are " + ', '.join(
        chargers_csv.REQUIRED_COLUMNS + chargers_csv.OPTIONAL_COLUMNS)) in errors
    assert (1, 'connectors', 'required column connectors is missing') in errors


def test_duplicate_and_bad_connector_rows_are_all_reported():
    errors = _errors(HEADER + 'CP-1,S1,depot,V,M,1:cType2:Socket:32\n'
                              'CP-2,S2,depot,V,M,1:cTypo2:Socket:32\n'
                              'CP-1,S3,depot,V,M,1:cType2:Socket:32\n'
                              'CP-4,,depot,V,M,1:cType2:Plug:32\n')
    assert [(row, column) for row, column, dummy in errors] == [
        (3, 'connectors'), (4, 'station_id'), (5, 'serial_number')]
    assert "'cTypo2' in '1:cTypo2:Socket:32' is not an OCPP connector type" in errors[0][2]
    assert errors[1][2] == 'station id CP-1 repeats row 2: station ids must be unique'


@pytest.mark.parametrize('extra_header, extra_cell, column, message', [
    ('phases', '2', 'phases', "'2' is not one of 1, 3"),
    ('network_mode', 'cellular', 'apn', 'network_mode is cellular, so an apn is required'),
    ('installation_date', '15.01.2026', 'installation_date', 'is not an ISO date'),
    ('max_current_a', 'lots', 'max_current_a', "max_current_a is 'lots', not a number"),
])
def test_cell_validation(extra_header, extra_cell, column, message):
    errors = _errors(HEADER.strip() + ',' + extra_header + '\nCP-1,S1,depot,V,M,1:cType2:Socket:32,' + extra_cell + '\n')
    assert errors[0][:2] == (2, column) and message in errors[0][2]


def _inventory(source):
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / 'ansible.cfg'),
               ANSIBLE_INVENTORY_ENABLED='evcs.provisioning.chargers_csv', ANSIBLE_INVENTORY_UNPARSED_FAILED='1')
    return subprocess.run([str(REPO / '.venv/bin/ansible-inventory'), '-i', str(source), '--list'], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def test_yaml_config_groups_and_keyed_groups(tmp_path):
    (tmp_path / 'chargers.csv').write_text((DATA / 'chargers_good.csv').read_text())
    (tmp_path / 'fleet.yml').write_text('plugin: evcs.provisioning.chargers_csv\npath: chargers.csv\nenvironment: test\n'
                                        'keyed_groups:\n  - key: evcs_station.model\n    prefix: model\n')
    done = _inventory(tmp_path / 'fleet.yml')
    assert done.returncode == 0, done.stderr
    inventory = json.loads(done.stdout)
    assert inventory['depot_north']['hosts'] == ['CSV-CP-001']
    assert sorted(inventory['env_test']['hosts']) == ['CSV-CP-001', 'CSV-CP-002']
    assert inventory['model_SimCharger_DC50']['hosts'] == ['CSV-CP-002']
    assert inventory['_meta']['hostvars']['CSV-CP-002']['evcs_site']['id'] == {'__ansible_unsafe': 'depot-south'}


def test_bad_file_fails_naming_file_rows_and_columns():
    done = _inventory(DATA / 'chargers_bad.csv')
    assert done.returncode != 0
    assert 'chargers_bad.csv: row 3, column connectors:' in done.stderr
    assert 'chargers_bad.csv: row 4, column station_id: station id CSV-CP-001 repeats row 2' in done.stderr
