# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The validate role against inventories/lab with a fake-but-complete lab state file (no lab needs to run)."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess

import pytest
import yaml

pytestmark = pytest.mark.integration

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLAYBOOK = """---
- name: Validate, then prove every host got its desired state
  hosts: all
  gather_facts: false
  roles:
    - role: evcs.provisioning.validate
  tasks:
    - name: Every host sees its own validated station
      ansible.builtin.assert:
        that: validate_result.stations[inventory_hostname].station_id == inventory_hostname
    - name: Marker that runs only after validation
      ansible.builtin.debug:
        msg: AFTER-VALIDATE
"""


#: the site groups of inventories/lab and their stations (its hosts.yml: a mixed fleet of 2.0.1 and 1.6 stations)
_SITES = {group: list(members.get('hosts') or {})
          for group, members in yaml.safe_load((ROOT / 'inventories/lab/hosts.yml').read_text())['all']['children'].items()}


def _state(home):
    return {
        'environment': 'lab', 'home': str(home),
        'vault': {'addr': 'https://127.0.0.1:18200', 'ca_cert': str(home / 'tls/bootstrap-ca.pem'), 'pki_mount': 'pki_lab',
                  'pki_root_mount': 'pki_lab_root', 'station_role': 'charging-station', 'csms_role': 'csms-server',
                  'station_roles': {'EVCS Lab Operator': 'charging-station',
                                    'EVCS Partner Operator': 'charging-station-partner'},
                  'kv_mount': 'secret', 'approle_mount': 'approle', 'role_id': 'fake-role-id-S3CRET',
                  'secret_id': 'fake-secret-id-S3CRET', 'token': 'fake-token-S3CRET', 'organization': 'EVCS Lab Operator'},
        'csms': {'api_url': 'https://127.0.0.1:18443', 'api_token': 'fake-api-token-S3CRET', 'ca_cert': str(home / 'pki/root-ca.pem'),
                 'root_ca_pem': str(home / 'pki/root-ca.pem'),
                 'ws_urls': {'1': 'ws://127.0.0.1:19001/ocpp', '2': 'wss://127.0.0.1:19002/ocpp', '3': 'wss://127.0.0.1:19003/ocpp'},
                 'staging_password': 'fake-staging-S3CRET'},
        'simulator': {'control_url': 'http://127.0.0.1:19100', 'stations': sorted(host for hosts in _SITES.values() for host in hosts)},
        'processes': {},
    }


@pytest.fixture()
def lab_home(tmp_path):
    home = tmp_path / 'lab'
    home.mkdir()
    (home / 'state.json').write_text(json.dumps(_state(home)))
    (home / 'state.json').chmod(0o600)
    return home


def _playbook(tmp_path, lab_home, *extra):
    playbook = tmp_path / 'validate.yml'
    playbook.write_text(PLAYBOOK)
    env = dict(os.environ, EVCS_LAB_HOME=str(lab_home), ANSIBLE_CONFIG=str(ROOT / 'ansible.cfg'), ANSIBLE_NOCOLOR='1')
    return subprocess.run([str(ROOT / '.venv/bin/ansible-playbook'), '-i', str(ROOT / 'inventories/lab'), str(playbook), *extra],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_lab_inventory_validates_with_a_summary(tmp_path, lab_home):
    run = _playbook(tmp_path, lab_home)
    assert run.returncode == 0, run.stdout + run.stderr
    stations = sum(len(hosts) for hosts in _SITES.values())
    assert f'inventory ok: {stations} charger(s) in {len(_SITES)} site(s), environment lab' in run.stdout
    assert f"lab-depot (Lab depot): {len(_SITES['lab_depot'])} station(s)" in run.stdout
    assert run.stdout.count('AFTER-VALIDATE') == stations
    assert 'S3CRET' not in run.stdout + run.stderr


def test_broken_host_var_fails_before_anything_else_runs(tmp_path, lab_home):
    run = _playbook(tmp_path, lab_home, '-e', '{"evcs_ocpp": {"heartbeat_interval": -5}}')
    assert run.returncode != 0
    assert ("LAB-CP-0003: evcs_station.ocpp.heartbeat_interval = -5: is below the minimum 1; give a value of at least 1"
            in run.stdout + run.stderr)
    assert 'AFTER-VALIDATE' not in run.stdout
    assert 'S3CRET' not in run.stdout + run.stderr


def test_missing_lab_state_is_reported_per_variable(tmp_path):
    run = _playbook(tmp_path, tmp_path / 'no-lab')
    assert run.returncode != 0
    assert 'LAB-CP-0001: evcs_csms = ' in run.stdout and 'evcs-lab up' in run.stdout


_PLACEHOLDER_SECRETS = '{"vault_wifi_passphrase_hamburg": "wifi-S3CRET-pass", "vault_apn_password_munich": "apn-S3CRET"}'


def _example(tmp_path, environment, *extra):
    # the secrets the GitOps pipeline gives the example inventories (examples/gitops)
    env_vars = dict(os.environ, EVCS_VAULT_ROLE_ID='r', EVCS_VAULT_SECRET_ID='s-S3CRET', EVCS_CSMS_TOKEN='tok-S3CRET')
    return subprocess.run([str(ROOT / '.venv/bin/ansible-playbook'), '-i', str(ROOT / 'inventories' / environment),
                           str(ROOT / 'playbooks/validate.yml'), '-e', _PLACEHOLDER_SECRETS, *extra],
                          cwd=ROOT, env=dict(env_vars, ANSIBLE_CONFIG=str(ROOT / 'ansible.cfg'), ANSIBLE_NOCOLOR='1'),
                          capture_output=True, text=True, timeout=120)


def test_example_inventories_are_valid_and_production_needs_confirmation(tmp_path):
    assert 'environment test' in _example(tmp_path, 'test').stdout
    refused = _example(tmp_path, 'production')
    assert refused.returncode != 0 and 'PRD-BER-0001: evcs_production_confirmed = False: a production run must be confirmed' in refused.stdout
    confirmed = _example(tmp_path, 'production', '-e', 'evcs_production_confirmed=true')
    assert confirmed.returncode == 0, confirmed.stdout
    assert 'S3CRET' not in refused.stdout + confirmed.stdout


def test_test_inventory_pointed_at_the_production_pki_is_refused(tmp_path):
    run = _example(tmp_path, 'test', '-e', '{"evcs_vault": {"url": "https://vault.evcs.example.net:8200", "pki_mount": "pki_prod_chargers", '
                                          '"auth_method": "token", "token": "tok-S3CRET"}}')
    assert run.returncode != 0
    assert "TST-HH-0001: evcs_vault.pki_mount = 'pki_prod_chargers': is not a PKI mount of the test environment" in run.stdout
    assert "TST-HH-0001: evcs_vault.url = 'https://vault.evcs.example.net:8200': host 'vault.evcs.example.net' does not belong" in run.stdout
