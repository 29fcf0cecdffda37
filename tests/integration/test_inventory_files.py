# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inventories as operators write them, mistakes included: each is refused before anything runs, naming the file and
line (Ansible's own parsing) or the host, field, value and fix (the validate role). No lab needs to run: the lab
inventory reads a fake-but-complete state file (test_validate.py)."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from test_validate import _SITES, _state  # noqa: E402  the lab's site groups, the fake lab state of the validate tests

pytestmark = pytest.mark.integration

ROOT = pathlib.Path(__file__).resolve().parents[2]
LAB_INVENTORY = ROOT / 'inventories' / 'lab'


@pytest.fixture()
def lab_home(tmp_path):
    import json
    home = tmp_path / 'lab'
    home.mkdir()
    (home / 'state.json').write_text(json.dumps(_state(home)))
    (home / 'state.json').chmod(0o600)
    return home


@pytest.fixture()
def inventory(tmp_path):
    """A copy of inventories/lab to break."""
    target = tmp_path / 'inventory'
    shutil.copytree(LAB_INVENTORY, target)
    return target


def _validate(inventory, lab_home, *extra):
    env = dict(os.environ, EVCS_LAB_HOME=str(lab_home), ANSIBLE_CONFIG=str(ROOT / 'ansible.cfg'), ANSIBLE_NOCOLOR='1')
    run = subprocess.run([str(ROOT / '.venv/bin/ansible-playbook'), '-i', str(inventory), str(ROOT / 'playbooks/validate.yml'),
                          *extra], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    return run.returncode, run.stdout + run.stderr


def _edit(path, old, new):
    text = path.read_text()
    assert old in text, (old, text)
    path.write_text(text.replace(old, new, 1))


def test_the_unbroken_copy_validates(inventory, lab_home):
    rc, output = _validate(inventory, lab_home)
    assert rc == 0, output
    chargers = sum(len(stations) for stations in _SITES.values())
    assert f'inventory ok: {chargers} charger(s) in {len(_SITES)} site(s)' in output, output[-3000:]


def test_a_duplicate_key_fails_with_file_and_line(inventory, lab_home):
    host_vars = inventory / 'host_vars' / 'LAB-CP-0001.yml'
    _edit(host_vars, '  security_profile: 3\n', '  security_profile: 3\n  security_profile: 1\n')
    line = host_vars.read_text().splitlines().index('  security_profile: 1') + 1
    rc, output = _validate(inventory, lab_home)
    assert rc != 0
    assert "%s:%d:3: the key 'security_profile' is given twice (first on line %d)" % (host_vars, line, line - 1) in output
    assert 'inventory ok' not in output


def test_a_duplicate_key_in_a_site_group_fails_with_file_and_line(inventory, lab_home):
    group_vars = inventory / 'group_vars' / 'lab_depot.yml'
    text = group_vars.read_text()
    group_vars.write_text(text + 'evcs_network:\n  dns: [192.168.10.1]\n')
    rc, output = _validate(inventory, lab_home)
    assert rc != 0
    assert "%s:" % group_vars in output and "the key 'evcs_network' is given twice" in output


def test_a_tab_fails_with_file_and_line(inventory, lab_home):
    host_vars = inventory / 'host_vars' / 'LAB-CP-0002.yml'
    lines = host_vars.read_text().splitlines()
    index = next(number for number, line in enumerate(lines) if line.startswith('  serial_number:'))
    lines[index] = '\t' + lines[index].lstrip()
    host_vars.write_text('\n'.join(lines) + '\n')
    rc, output = _validate(inventory, lab_home)
    assert rc != 0
    assert '%s:%d:1:' % (host_vars, index + 1) in output and 'indent with spaces, never tabs' in output


def test_a_host_in_two_site_groups_is_refused(inventory, lab_home):
    _edit(inventory / 'hosts.yml', '        LAB-CP-0003:\n', '        LAB-CP-0003:\n        LAB-CP-0001:\n')
    rc, output = _validate(inventory, lab_home)
    assert rc != 0
    assert ('LAB-CP-0001: evcs_site = <groups lab_depot, lab_office>: the charger is in 2 site groups, each defining '
            'evcs_site' in output), output
    assert 'LAB-CP-0002: evcs_site' not in output


def test_a_misspelt_variable_is_an_error_not_a_warning(inventory, lab_home):
    group_vars = inventory / 'group_vars' / 'lab_office.yml'
    _edit(group_vars, 'evcs_network:', 'evcs_netwrok:')
    rc, output = _validate(inventory, lab_home)
    assert rc != 0
    assert ('LAB-CP-0003: evcs_netwrok = \'<evcs_netwrok>\': is not an inventory variable, so its settings would be '
            'silently ignored; did you mean evcs_network?') in output, output


def test_a_malformed_csv_fails_the_run_with_row_and_column(tmp_path):
    fleet = tmp_path / 'fleet.csv'
    shutil.copy(ROOT / 'tests/unit/data/chargers_bad.csv', fleet)
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / 'ansible.cfg'), ANSIBLE_NOCOLOR='1')
    run = subprocess.run([str(ROOT / '.venv/bin/ansible-inventory'), '-i', str(fleet), '--list'], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    assert '%s: row 3, column connectors' % fleet in run.stdout + run.stderr
    assert '"CSV-CP-001"' not in run.stdout        # no hosts made of a broken file, by this plugin or another


def test_a_csv_with_only_a_header_line_of_garbage_is_not_taken_for_an_ini_file(tmp_path):
    fleet = tmp_path / 'fleet.csv'
    fleet.write_text('this,is;not a chargers file\nat all\n')
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / 'ansible.cfg'), ANSIBLE_NOCOLOR='1')
    run = subprocess.run([str(ROOT / '.venv/bin/ansible-inventory'), '-i', str(fleet), '--list'], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0, run.stdout
    assert str(fleet) in run.stdout + run.stderr


def test_jinja_in_a_production_inventory_is_reported_and_unsafe_values_are_not(tmp_path):
    """YAML inventories are code: validate lists the Jinja expressions of a production inventory (a value marked
    !unsafe is data, never rendered, and so never listed)."""
    target = tmp_path / 'production'
    shutil.copytree(ROOT / 'inventories' / 'production', target)
    site = target / 'group_vars' / 'prod_berlin_depot.yml'
    site.write_text(site.read_text() + '\nevcs_ocpp:\n  heartbeat_interval: "{{ 200 + 100 }}"\n')
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / 'ansible.cfg'), ANSIBLE_NOCOLOR='1',
               EVCS_VAULT_ROLE_ID='r', EVCS_VAULT_SECRET_ID='s-S3CRET', EVCS_CSMS_TOKEN='tok-S3CRET')
    secrets = '{"vault_apn_password_munich": "apn-S3CRET"}'
    run = subprocess.run([str(ROOT / '.venv/bin/ansible-playbook'), '-i', str(target), str(ROOT / 'playbooks/validate.yml'),
                          '-e', secrets, '-e', 'evcs_production_confirmed=true'], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=180)
    output = run.stdout + run.stderr
    assert "evcs_ocpp.heartbeat_interval = '{{ 200 + 100 }}'" in output, output[-3000:]
    assert 'mark the value !unsafe' in output
    assert "evcs_vault.role_id = \"{{ lookup('ansible.builtin.env', 'EVCS_VAULT_ROLE_ID') }}\"" in output
    assert 'evcs_site' not in output.split('inventory ok')[0]     # no template there, nothing listed
    assert 'S3CRET' not in output


def test_a_template_in_a_csv_cell_stays_data_and_is_refused(tmp_path):
    """CSV rows are untrusted: a lookup in a cell is never run (the file it would create does not appear); validate
    refuses the value as text."""
    marker = tmp_path / 'pwned'
    fleet = tmp_path / 'fleet.csv'
    fleet.write_text('station_id,serial_number,site,vendor,model,connectors,installer\n'
                     'CSV-CP-001,SN-001,depot-north,EVCS Sim,SimCharger AC22,1:cType2:Socket:32,'
                     '"{{ lookup(\'pipe\', \'touch %s\') }}"\n' % marker)
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / 'ansible.cfg'), ANSIBLE_NOCOLOR='1')
    run = subprocess.run([str(ROOT / '.venv/bin/ansible-playbook'), '-i', str(fleet), str(ROOT / 'playbooks/validate.yml')],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    output = run.stdout + run.stderr
    assert not marker.exists(), 'a lookup from a CSV cell ran on the controller'
    assert run.returncode != 0
    assert "CSV-CP-001: evcs_station.asset.installer = \"{{ lookup('pipe'" in output, output[-2000:]
    assert "contains '{{' (template or shell syntax)" in output
