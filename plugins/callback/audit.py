# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Audit trail of provisioning runs: one JSON line per task result per host, secrets redacted."""

from __future__ import annotations

DOCUMENTATION = r'''
name: audit
type: notification
short_description: Audit trail of every task result as JSON lines
version_added: 0.1.0
description:
  - Appends one JSON object per line to O(audit_file) for the start of a run, every task result on every host
    and the end of the run (with the play recap).
  - Each task line holds the time (RFC 3339, UTC), the operator's user name, the controller's host name, the git
    commit and branch of the inventory repository (V(unknown) outside a git repository), the environment (host
    variable C(evcs_environment)), the playbook, play, host, task, action, the status, check mode and a summary of
    the diff that holds only the changed keys.
  - Secrets never reach the file. Values of keys named like a password, passphrase, secret, token, key or PIN, and
    the values of the task's C(no_log) options, are replaced by V(********); results of C(no_log) tasks are recorded
    as censored, without any of their data.
  - Every line is flushed to the file when it is written, so an interrupted run (Ctrl-C, a killed process) keeps its
    trail. The lines of the run's start and end and of every changed, failed or unreachable result are also synced to
    disk at once (with every line before them); a result that changed nothing is synced with the next such line, so a
    crash of the controller's operating system can lose at most the last unchanged results, never a change.
  - Every line names the O(actor) that started the run, the operator's user name unless the run says otherwise, e.g.
    a rulebook of Event-Driven Ansible that passes the extra variable C(evcs_audit_actor) (see docs/ZERO_TOUCH.md).
  - Modules return their diff only in diff mode, so the changed keys are recorded when the run has C(--diff) (or
    C([diff] always = true) in C(ansible.cfg)); without it a line still records that the task changed something.
  - Enable it with C(callbacks_enabled = evcs.provisioning.audit) in C(ansible.cfg) or
    E(ANSIBLE_CALLBACKS_ENABLED=evcs.provisioning.audit).
requirements:
  - git on the controller to record the inventory repository's commit and branch (optional)
options:
  audit_file:
    description: The JSON lines file to append to. Its directory is created (mode 0700) when missing.
    type: path
    default: ./audit/audit.jsonl
    env:
      - name: EVCS_AUDIT_FILE
    ini:
      - section: evcs_audit
        key: file
  enabled:
    description: Write the audit trail. Set to V(false) to switch the plugin off without removing it from C(callbacks_enabled).
    type: bool
    default: true
    env:
      - name: EVCS_AUDIT_ENABLED
    ini:
      - section: evcs_audit
        key: enabled
  actor:
    description:
      - Who or what started the run, recorded as C(actor) on every line. The extra variable C(evcs_audit_actor) of
        the run wins over this option; without either, the operator's user name.
    type: str
    env:
      - name: EVCS_AUDIT_ACTOR
    ini:
      - section: evcs_audit
        key: actor
'''

import datetime
import getpass
import json
import os
import socket
import subprocess
import uuid

from ansible import context as cli_context
from ansible.module_utils.common.parameters import _list_no_log_values
from ansible.plugins.callback import CallbackBase
from ansible.plugins.loader import action_loader

from ansible_collections.evcs.provisioning.plugins.filter.redact import (
    diff_summary, is_secret_key, redact,
)

UNKNOWN = 'unknown'


def utc_now():
    """The current time in RFC 3339 with ``Z``."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='milliseconds').replace('+00:00', 'Z')


def git_revision(directory):
    """``{"commit", "branch"}`` of the git repository holding ``directory``, ``unknown`` when there is none."""
    revision = {'commit': UNKNOWN, 'branch': UNKNOWN}
    if not directory or not os.path.isdir(directory):
        return revision
    for field, args in (('commit', ['rev-parse', 'HEAD']), ('branch', ['rev-parse', '--abbrev-ref', 'HEAD'])):
        try:
            out = subprocess.run(['git', '-C', directory] + args, capture_output=True, text=True, timeout=10, check=False)
        except (OSError, subprocess.SubprocessError):
            return revision
        if out.returncode == 0 and out.stdout.strip():
            revision[field] = out.stdout.strip()
    return revision


def task_secrets(action, args):
    """The values of the task's no_log options (by the action plugin's argument spec) and of secret-named options."""
    secrets = set()
    if not isinstance(args, dict):
        return secrets
    spec = _argument_spec(action)
    if spec:
        try:
            secrets.update(_list_no_log_values(spec, args))
        except (TypeError, ValueError, AttributeError):
            pass
    _collect_secret_values(args, secrets)
    return set(str(value) for value in secrets if value not in (None, ''))


def _argument_spec(action):
    try:
        plugin = action_loader.get(action, class_only=True) if action else None
    except Exception:  # pylint: disable=broad-except  # a broken unrelated plugin must not stop the audit
        return None
    return getattr(plugin, 'ARGUMENT_SPEC', None) or None


def _collect_secret_values(data, secrets):
    if isinstance(data, dict):
        for key, value in data.items():
            if is_secret_key(key) and isinstance(value, (str, int, float)):
                secrets.add(value)
            else:
                _collect_secret_values(value, secrets)
    elif isinstance(data, list):
        for item in data:
            _collect_secret_values(item, secrets)


def result_diff(result):
    """Every diff a result holds: its own, or its loop items' (censored items are left out)."""
    if 'diff' in result:
        return result['diff']
    diffs = []
    for item in result.get('results') or ():
        if isinstance(item, dict) and not item.get('_ansible_no_log') and item.get('diff'):
            diff = item['diff']
            diffs.extend(diff if isinstance(diff, list) else [diff])
    return diffs


def is_censored(task_result):
    result = task_result.result
    return bool(result.get('_ansible_no_log') or 'censored' in result or getattr(task_result.task, 'no_log', False) is True)


#: the results whose line is synced to disk at once: what changed or went wrong (a run of 500 stations has about 25,000
#: results, nearly all unchanged on a re-run; an fsync each, in the controller's one dispatching process, costs seconds)
_SYNCED_STATUSES = ('changed', 'failed', 'unreachable')


class AuditTrail(object):
    """The file: opened once, appended to, each line flushed; synced to disk when asked (and at the end)."""

    def __init__(self, path):
        self.path = os.path.abspath(os.path.expanduser(path))
        directory = os.path.dirname(self.path)
        if not os.path.isdir(directory):
            os.makedirs(directory, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._file = os.fdopen(fd, 'a', encoding='utf-8')

    def write(self, entry, sync=True):
        self._file.write(json.dumps(entry, sort_keys=True, default=str) + '\n')
        self._file.flush()
        if sync:
            os.fsync(self._file.fileno())

    def close(self):
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'notification'
    CALLBACK_NAME = 'evcs.provisioning.audit'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super(CallbackModule, self).__init__(display=display)
        self._trail = None
        self._run_id = str(uuid.uuid4())
        self._user = _operator()
        self._actor = self._user
        self._controller = socket.gethostname()
        self._playbook = None
        self._play = None
        self._environments = {}
        self._revisions = {}

    def set_options(self, task_keys=None, var_options=None, direct=None):
        super(CallbackModule, self).set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        if self.get_option('enabled'):
            self._trail = AuditTrail(self.get_option('audit_file'))
        self._actor = self.get_option('actor') or self._user

    # -- context ------------------------------------------------------------------------------------
    def _revision(self, directory):
        key = os.path.realpath(directory) if directory else None
        if key not in self._revisions:
            self._revisions[key] = git_revision(key)
        return self._revisions[key]

    def _environment(self, host):
        """``evcs_environment`` of the host as the play sees it (group_vars included), looked up once per host."""
        if host.name not in self._environments:
            self._environments[host.name] = _host_environment(self._play, host)
        return self._environments[host.name]

    def _base(self, event):
        return {'time': utc_now(), 'event': event, 'run_id': self._run_id, 'user': self._user, 'actor': self._actor,
                'controller': self._controller, 'playbook': self._playbook}

    def _write(self, entry, sync=True):
        if self._trail is not None:
            self._trail.write(entry, sync=sync)

    # -- events -------------------------------------------------------------------------------------
    def v2_playbook_on_start(self, playbook):
        self._playbook = os.path.abspath(os.path.join(playbook._basedir, os.path.basename(playbook._file_name)))
        self._actor = _extra_var_actor(playbook) or self._actor
        entry = self._base('run_start')
        entry.update(inventory=_inventory_sources(), git=self._revision(_inventory_dir()),
                     check_mode=bool(cli_context.CLIARGS.get('check', False)),
                     limit=cli_context.CLIARGS.get('subset'), tags=list(cli_context.CLIARGS.get('tags') or ()))
        self._write(entry)

    def v2_playbook_on_play_start(self, play):
        self._play = play
        self._environments = {}

    def v2_runner_on_ok(self, result):
        self._record(result, 'changed' if result.is_changed() else 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, 'failed', ignore_errors=ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._record(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._record(result, 'unreachable')

    def v2_runner_on_async_ok(self, result):
        self._record(result, 'changed' if result.is_changed() else 'ok')

    def v2_runner_on_async_failed(self, result):
        self._record(result, 'failed')

    def v2_playbook_on_stats(self, stats):
        entry = self._base('run_end')
        entry['stats'] = dict((host, stats.summarize(host)) for host in sorted(stats.processed))
        entry['failed'] = any(s['failures'] or s['unreachable'] for s in entry['stats'].values())
        self._write(entry)
        if self._trail is not None:
            self._trail.close()
            self._trail = None

    # -- one task result ------------------------------------------------------------------------------
    def _record(self, task_result, status, ignore_errors=False):
        if self._trail is None:
            return
        self._write(self.task_entry(task_result, status, ignore_errors), sync=status in _SYNCED_STATUSES)

    def task_entry(self, task_result, status, ignore_errors=False):
        """The audit line of one task result on one host."""
        task, host = task_result.task, task_result.host
        fields = task_result.task_fields or {}
        action = fields.get('action') or getattr(task, 'action', None)
        entry = self._base('task')
        entry.update(
            git=self._revision(host.vars.get('inventory_dir') or _inventory_dir()),
            environment=self._environment(host),
            play=self._play.get_name() if self._play is not None else None,
            host=host.name, task=task_result.task_name, action=action, status=status,
            changed=task_result.is_changed(), failed=status == 'failed', ignore_errors=bool(ignore_errors),
            check_mode=bool(fields.get('check_mode', getattr(task, 'check_mode', False))),
        )
        if is_censored(task_result):
            entry['censored'] = True
            return entry
        result = task_result.result
        secrets = task_secrets(action, fields.get('args'))
        summary = diff_summary(result_diff(result), secrets)
        if summary:
            entry['diff'] = summary
        if status == 'failed' and result.get('msg'):
            entry['msg'] = redact(str(result['msg']), secrets)
        return entry


def _extra_var_actor(playbook):
    """The run's extra variable ``evcs_audit_actor`` (a str), if it has one."""
    try:
        plays = playbook.get_plays()
        actor = plays[0].get_variable_manager().extra_vars.get('evcs_audit_actor') if plays else None
    except Exception:  # pylint: disable=broad-except  # the audit must never stop a run
        return None
    return actor if isinstance(actor, str) and actor else None


def _operator():
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return UNKNOWN


def _inventory_sources():
    sources = cli_context.CLIARGS.get('inventory') or ()
    return [os.path.abspath(os.path.expanduser(s)) for s in sources if ',' not in s]


def _inventory_dir():
    for source in _inventory_sources():
        if os.path.isdir(source):
            return source
        if os.path.exists(source):
            return os.path.dirname(source)
    return None


def _host_environment(play, host):
    if play is None:
        return host.vars.get('evcs_environment', UNKNOWN)
    try:
        variables = play.get_variable_manager().get_vars(play=play, host=host, include_hostvars=False)
        value = variables.get('evcs_environment', UNKNOWN)
        if isinstance(value, str) and '{{' in value:
            from ansible.template import Templar
            value = Templar(loader=play.get_loader(), variables=variables).template(value)
        return value
    except Exception:  # pylint: disable=broad-except  # the audit must never stop a run
        return UNKNOWN
