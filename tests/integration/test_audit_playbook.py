"""The audit callback in a real ansible-playbook run (no lab needed): every change is recorded, no secret is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = 'seeded-wifi-passphrase-5Q2'
TOKEN = 'seeded-api-token-8Z1'
HIDDEN = 'seeded-no-log-value-3K7'

# A playbook-adjacent action plugin that reports a structured diff, as the collection's station modules do.
SEED_ACTION = '''
from __future__ import annotations
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        result.update(changed=True, diff={
            'before': {'network': {'ssid': 'old', 'passphrase': 'old-passphrase'}, 'heartbeat_interval': 300,
                       'authorization': 'none'},
            'after': {'network': {'ssid': args['ssid'], 'passphrase': args['passphrase']}, 'heartbeat_interval': 300,
                      'authorization': 'Bearer %s' % args['api_token']}})
        return result
'''

PLAYBOOK = '''---
- name: Audited run
  hosts: localhost
  gather_facts: false
  vars:
    evcs_environment: lab
  tasks:
    - name: Write a file
      ansible.builtin.copy:
        content: "hello {{{{ 1000 | random }}}}\\n"
        dest: "{{{{ playbook_dir }}}}/out.txt"
        mode: "0600"

    - name: Apply station settings
      seed_diff:
        ssid: depot
        passphrase: {passphrase}
        api_token: {token}

    - name: Remember a secret
      ansible.builtin.set_fact:
        hidden: {hidden}
      no_log: true

    - name: Unchanged task
      ansible.builtin.debug:
        msg: nothing to see

    - name: Failing task that is ignored
      ansible.builtin.fail:
        msg: "refused"
      ignore_errors: true  # noqa: ignore-errors
'''


def _run(directory, *extra):
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / 'ansible.cfg'), ANSIBLE_CALLBACKS_ENABLED='evcs.provisioning.audit',
               EVCS_AUDIT_FILE=str(directory / 'audit' / 'audit.jsonl'), ANSIBLE_NOCOLOR='1')
    argv = [str(ROOT / '.venv' / 'bin' / 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
            '-e', 'ansible_python_interpreter=%s' % sys.executable, str(directory / 'playbook.yml'), *extra]
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture()
def audited(tmp_path):
    (tmp_path / 'action_plugins').mkdir()
    (tmp_path / 'action_plugins' / 'seed_diff.py').write_text(SEED_ACTION)
    (tmp_path / 'playbook.yml').write_text(PLAYBOOK.format(passphrase=PASSPHRASE, token=TOKEN, hidden=HIDDEN))
    return tmp_path


def _lines(directory):
    return [json.loads(line) for line in (directory / 'audit' / 'audit.jsonl').read_text().splitlines()]


def test_every_change_is_recorded_and_no_secret(audited):
    done = _run(audited, '--diff')
    assert done.returncode == 0, done.stdout + done.stderr
    lines = _lines(audited)
    assert [line['event'] for line in lines] == ['run_start'] + ['task'] * 5 + ['run_end']
    tasks = dict((line['task'], line) for line in lines if line['event'] == 'task')
    assert sorted(name for name, line in tasks.items() if line['changed']) == ['Apply station settings', 'Write a file']
    assert tasks['Write a file']['diff']['files'][0]['path'].endswith('out.txt')
    fields = tasks['Apply station settings']['diff']['fields']
    assert fields == {'network.ssid': {'before': 'old', 'after': 'depot'},
                      'network.passphrase': {'before': '********', 'after': '********'},
                      'authorization': {'before': 'none', 'after': 'Bearer ********'}}
    assert tasks['Remember a secret']['censored'] is True
    assert tasks['Failing task that is ignored']['status'] == 'failed' and tasks['Failing task that is ignored']['ignore_errors']
    assert lines[-1]['stats']['localhost']['changed'] == 2
    text = (audited / 'audit' / 'audit.jsonl').read_text()
    for secret in (PASSPHRASE, TOKEN, HIDDEN, 'old-passphrase'):
        assert secret not in text
    assert all(line['time'].endswith('Z') and line['run_id'] == lines[0]['run_id'] for line in lines)
    assert all(line['environment'] == 'lab' for line in tasks.values())


def test_runs_append_to_the_same_trail(audited):
    assert _run(audited).returncode == 0
    assert _run(audited).returncode == 0
    lines = _lines(audited)
    assert [line['event'] for line in lines].count('run_start') == 2
    assert len(set(line['run_id'] for line in lines)) == 2
    assert oct((audited / 'audit' / 'audit.jsonl').stat().st_mode & 0o777) == '0o600'
