"""Every role's meta/argument_specs.yml accepts every host of inventories/lab.

The real roles are included against the real lab inventory (endpoints and secrets from the session lab's state file)
with a tag no task carries: only the argument validation task that ansible-core prepends to a role (tagged
``always``) runs, so nothing is sent to a station, the CSMS or Vault.
"""

from __future__ import annotations

import json
import pathlib

import pytest
import yaml

ROLES = ['validate', 'identity', 'network', 'ocpp', 'load_management', 'security', 'backend', 'commission', 'decommission']
#: the stations of inventories/lab (its hosts.yml: a mixed fleet of OCPP 2.0.1 stations and a 1.6J charge point)
_LAB_HOSTS_FILE = pathlib.Path(__file__).resolve().parents[2] / 'inventories' / 'lab' / 'hosts.yml'
LAB_HOSTS = sorted(host for group in yaml.safe_load(_LAB_HOSTS_FILE.read_text())['all']['children'].values()
                   for host in (group.get('hosts') or {}))
#: a tag no task of the collection carries: only tasks tagged `always` (the role argument validation) run
ONLY_VALIDATION = 'evcs_argument_validation_only'


def _validation_block(role, role_vars=None):
    """Include ``role`` and record the validation failure message, if any, under ``label``."""
    label = role if role_vars is None else '%s (invalid)' % role
    # the include itself is tagged, not the block: a block's tags would be inherited by every task of the role
    include = {'name': 'Validate the arguments of %s' % label, 'tags': ['always'],
               'ansible.builtin.include_role': {'name': 'evcs.provisioning.%s' % role}}
    if role_vars:
        include['vars'] = role_vars
    record = {'name': 'Record the refusal of %s' % label, 'tags': ['always'], 'ansible.builtin.set_fact': {
        'role_spec_failures': "{{ role_spec_failures | combine({%s: ansible_failed_result.msg}) }}" % json.dumps(label)}}
    return {'name': label, 'block': [include], 'rescue': [record]}


def _playbook(path, report_dir):
    blocks = [_validation_block(role) for role in ROLES]
    blocks.append(_validation_block('backend', {'backend_token_state': 'sometimes'}))
    play = {
        'name': 'Argument validation of every role', 'hosts': 'all', 'gather_facts': False,
        'vars': {'role_spec_failures': {}},
        'tasks': blocks + [{
            'name': 'Write what was refused', 'tags': ['always'],
            'vars': {'ansible_python_interpreter': '{{ ansible_playbook_python }}'},
            'ansible.builtin.copy': {'content': '{{ role_spec_failures | to_nice_json }}',
                                     'dest': '%s/{{ inventory_hostname }}.json' % report_dir, 'mode': '0600'},
        }],
    }
    path.write_text(yaml.safe_dump([play], sort_keys=False))
    return path


@pytest.fixture(scope='module')
def refusals(run_playbook, tmp_path_factory):
    """{host: {role: validation message}} of one run over inventories/lab."""
    workdir = tmp_path_factory.mktemp('role-specs')
    playbook = _playbook(workdir / 'role_specs.yml', workdir)
    rc, output, recap = run_playbook(str(playbook), extra_vars={'evcs_decommission_confirmed': True},
                                     env={'ANSIBLE_RUN_TAGS': ONLY_VALIDATION})
    assert rc == 0 and sorted(recap) == LAB_HOSTS, output[-4000:]
    assert all(counts['changed'] <= 1 for counts in recap.values()), 'role tasks ran: %s' % output[-4000:]
    return {host: json.loads((workdir / ('%s.json' % host)).read_text()) for host in LAB_HOSTS}


@pytest.mark.parametrize('role', ROLES)
def test_role_accepts_every_lab_host(refusals, role):
    refused = dict((host, failures[role]) for host, failures in refusals.items() if role in failures)
    assert refused == {}


def test_validation_really_ran(refusals):
    """The same run refuses a wrong value, so an accepted inventory is not a skipped validation."""
    for failures in refusals.values():
        assert 'backend_token_state' in failures['backend (invalid)']
