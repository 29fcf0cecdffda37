"""The audit callback, driven with real Host/Task/CallbackTaskResult objects, and its redaction helpers."""

from __future__ import annotations

import json
import pathlib
import sys

import pytest

from ansible.executor.task_result import CallbackTaskResult
from ansible.inventory.host import Host
from ansible.playbook.task import Task
from ansible.plugins.loader import callback_loader, init_plugin_loader

COLLECTIONS = pathlib.Path(__file__).resolve().parents[2] / 'collections'


def _install_collection_loader():
    """The collection loader, as ansible-playbook sets it up, so plugins resolve by their FQCN.

    A plain import through pytest's pythonpath may have loaded the collection package without the loader's
    metadata; drop those modules so the loader imports them again.
    """
    package = sys.modules.get('ansible_collections.evcs.provisioning')
    if package is not None and getattr(package, '_collection_meta', None) is None:
        for name in [name for name in sys.modules if name == 'ansible_collections' or name.startswith('ansible_collections.')]:
            del sys.modules[name]
    init_plugin_loader([str(COLLECTIONS)])


_install_collection_loader()

from ansible_collections.evcs.provisioning.plugins.filter.redact import (  # noqa: E402  # after the loader
    MASK, changed_fields, diff_summary, is_secret_key, redact,
)

TOKEN = 'csms-api-token-3f9a'
PASSPHRASE = 'depot-wifi-passphrase-77'


@pytest.fixture
def audit(tmp_path):
    callback = callback_loader.get('evcs.provisioning.audit')
    callback.set_options(direct={'audit_file': str(tmp_path / 'trail' / 'audit.jsonl'), 'enabled': True})
    return callback, tmp_path / 'trail' / 'audit.jsonl'


def _lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def _result(action, return_data, args=None, no_log=False, host='LAB-CP-0001', check_mode=False):
    task = Task.load({'name': 'Apply %s' % action, 'action': action, 'args': args or {}, 'no_log': no_log})
    station = Host(host)
    station.set_variable('evcs_environment', 'lab')
    fields = {'action': action, 'args': args or {}, 'check_mode': check_mode, 'name': task.get_name()}
    return CallbackTaskResult(station, task, return_data, fields)


@pytest.mark.parametrize('name', ['password', 'apn_password', 'BasicAuthPassword', 'passphrase', 'client_secret',
                                  'csms_token', 'api-token', 'private_key', 'sim_pin', 'passwords', 'SecretId'])
def test_secret_key_names(name):
    assert is_secret_key(name)


@pytest.mark.parametrize('name', ['mapping', 'url', 'ssid', 'shipping_address', 'heartbeat_interval', 'keyboard', 'spinner'])
def test_plain_key_names(name):
    assert not is_secret_key(name)


def test_redact_masks_secret_keys_and_values_everywhere():
    data = {'wifi': {'ssid': 'depot', 'passphrase': PASSPHRASE}, 'note': 'auth Bearer %s sent' % TOKEN, 'pin': None}
    assert redact(data, secrets=[TOKEN]) == {'wifi': {'ssid': 'depot', 'passphrase': MASK},
                                             'note': 'auth Bearer %s sent' % MASK, 'pin': None}


def test_changed_fields_only_lists_differences_with_dotted_paths():
    before = {'ocpp': {'heartbeat_interval': 300, 'offline_threshold': 60}, 'site': 'a'}
    after = {'ocpp': {'heartbeat_interval': 120, 'offline_threshold': 60}, 'site': 'a', 'tariff': 't1'}
    assert changed_fields(before, after) == {
        'ocpp.heartbeat_interval': {'before': 300, 'after': 120},
        'tariff': {'before': None, 'after': 't1'},
    }


def test_diff_summary_of_a_file_diff_keeps_no_content():
    summary = diff_summary({'before': 'a\nb\n', 'after': 'a\nc=%s\n' % TOKEN, 'after_header': '/etc/x.conf'})
    assert summary == {'files': [{'path': '/etc/x.conf', 'lines_added': 1, 'lines_removed': 1}]}
    assert TOKEN not in json.dumps(summary)


def test_task_line_holds_context_and_changed_keys_only(audit):
    callback, path = audit
    diff = {'before': {'heartbeat_interval': 300, 'csms_url': 'wss://a/ocpp'},
            'after': {'heartbeat_interval': 120, 'csms_url': 'wss://a/ocpp'}}
    callback.v2_runner_on_ok(_result('evcs.provisioning.device_model', {'changed': True, 'diff': diff}, check_mode=True))
    (line,) = _lines(path)
    assert line['event'] == 'task' and line['status'] == 'changed' and line['changed'] is True
    assert line['host'] == 'LAB-CP-0001' and line['environment'] == 'lab' and line['check_mode'] is True
    assert line['action'] == 'evcs.provisioning.device_model' and line['task'] == 'Apply evcs.provisioning.device_model'
    assert line['diff'] == {'fields': {'heartbeat_interval': {'before': 300, 'after': 120}}}
    assert line['time'].endswith('Z') and line['user'] and line['controller']
    assert set(line['git']) == {'commit', 'branch'}


def test_secret_named_fields_and_no_log_option_values_are_redacted(audit):
    callback, path = audit
    diff = {'before': {'network': {'wifi': {'passphrase': 'old-one'}}, 'auth_header': 'none'},
            'after': {'network': {'wifi': {'passphrase': PASSPHRASE}}, 'auth_header': 'Bearer %s' % TOKEN}}
    args = {'station_id': 'LAB-CP-0001', 'csms_endpoint': 'ws://x/ocpp', 'csms_token': TOKEN}
    callback.v2_runner_on_ok(_result('evcs.provisioning.commissioning_check', {'changed': True, 'diff': diff}, args=args))
    text = path.read_text()
    assert TOKEN not in text and PASSPHRASE not in text and 'old-one' not in text
    fields = _lines(path)[0]['diff']['fields']
    assert fields['network.wifi.passphrase'] == {'before': MASK, 'after': MASK}
    assert fields['auth_header'] == {'before': 'none', 'after': 'Bearer %s' % MASK}


def test_no_log_results_are_recorded_as_censored(audit):
    callback, path = audit
    data = {'changed': True, '_ansible_no_log': True, 'diff': {'before': {'x': 1}, 'after': {'x': PASSPHRASE}}}
    callback.v2_runner_on_ok(_result('ansible.builtin.set_fact', data, no_log=True))
    (line,) = _lines(path)
    assert line['censored'] is True and 'diff' not in line
    assert PASSPHRASE not in path.read_text()


def test_loop_results_merge_item_diffs_and_drop_censored_items(audit):
    callback, path = audit
    data = {'changed': True, 'results': [
        {'changed': True, 'diff': {'before': {'a': 1}, 'after': {'a': 2}}},
        {'changed': True, '_ansible_no_log': True, 'diff': {'before': {'b': 1}, 'after': {'b': PASSPHRASE}}},
    ]}
    callback.v2_runner_on_ok(_result('evcs.provisioning.station', data))
    assert _lines(path)[0]['diff'] == {'fields': {'a': {'before': 1, 'after': 2}}}
    assert PASSPHRASE not in path.read_text()


def test_failure_message_is_recorded_redacted(audit):
    callback, path = audit
    data = {'failed': True, 'msg': 'CSMS refused token %s' % TOKEN}
    callback.v2_runner_on_failed(_result('evcs.provisioning.station', data, args={'csms_token': TOKEN}))
    line = _lines(path)[0]
    assert line['status'] == 'failed' and line['failed'] is True
    assert line['msg'] == 'CSMS refused token %s' % MASK


def test_each_line_is_on_disk_before_the_next_event(audit):
    callback, path = audit
    callback.v2_runner_on_skipped(_result('evcs.provisioning.station', {'skipped': True}))
    assert _lines(path)[0]['status'] == 'skipped'
    callback.v2_runner_on_unreachable(_result('evcs.provisioning.station', {'unreachable': True, 'msg': 'down'}))
    assert [line['status'] for line in _lines(path)] == ['skipped', 'unreachable']


def test_changes_and_failures_are_synced_at_once_unchanged_results_with_the_next(audit, monkeypatch):
    """An unchanged result is flushed (an interrupted run keeps it) and reaches the disk with the next synced line; a
    change, a failure and the run's end are synced when they are written."""
    from ansible_collections.evcs.provisioning.plugins.callback import audit as audit_module
    callback, path = audit
    synced = []
    monkeypatch.setattr(audit_module.os, 'fsync', lambda fd: synced.append(len(_lines(path))))
    callback.v2_runner_on_ok(_result('evcs.provisioning.station', {'changed': False}))
    callback.v2_runner_on_skipped(_result('evcs.provisioning.station', {'skipped': True}))
    assert synced == [] and [line['status'] for line in _lines(path)] == ['ok', 'skipped']
    callback.v2_runner_on_ok(_result('evcs.provisioning.station', {'changed': True}))
    callback.v2_runner_on_failed(_result('evcs.provisioning.station', {'failed': True, 'msg': 'refused'}))
    assert synced == [3, 4]


def test_disabled_callback_writes_nothing(tmp_path):
    callback = callback_loader.get('evcs.provisioning.audit')
    callback.set_options(direct={'audit_file': str(tmp_path / 'audit.jsonl'), 'enabled': False})
    callback.v2_runner_on_ok(_result('evcs.provisioning.station', {'changed': True}))
    assert not (tmp_path / 'audit.jsonl').exists()


def test_git_revision_outside_a_repository_is_unknown(tmp_path):
    from ansible_collections.evcs.provisioning.plugins.callback.audit import git_revision
    assert git_revision(str(tmp_path)) == {'commit': 'unknown', 'branch': 'unknown'}
