"""The filters that turn registered results into drift lists and commissioning reports."""

from __future__ import annotations

from ansible_collections.evcs.provisioning.plugins.filter.commissioning_report import commissioning_report
from ansible_collections.evcs.provisioning.plugins.filter.redact import MASK
from ansible_collections.evcs.provisioning.plugins.filter.result_changes import result_changes

CHECKLIST_FAILED = [
    {'name': 'station_online', 'status': 'pass', 'required': True, 'evidence': {}},
    {'name': 'device_model', 'status': 'fail', 'required': True, 'evidence': {'checked': 2, 'mismatches': [
        {'variable': 'OCPPCommCtrlr.HeartbeatInterval', 'expected': '600', 'actual': '123', 'status': 'Accepted'}]}},
    {'name': 'heartbeat_recent', 'status': 'fail', 'required': True, 'evidence': {'error': 'last message 900s ago'}},
    {'name': 'connectors_available', 'status': 'fail', 'required': False, 'evidence': {'error': '1/1 is Occupied'}},
]


class _HostVars(dict):
    """Stands in for a host's variables: a variable that fails to template raises, as hostvars does."""

    def __getitem__(self, name):
        value = dict.__getitem__(self, name)
        if isinstance(value, Exception):
            raise value
        return value


def test_changed_fields_of_registered_results_with_secrets_redacted():
    host = _HostVars(
        network_connection={'changed': True, 'diff': {
            'before': {'slot_1': {'ocppCsmsUrl': 'ws://old/ocpp', 'apn': {'apnPassword': 'old-secret'}}},
            'after': {'slot_1': {'ocppCsmsUrl': 'ws://new/ocpp', 'apn': {'apnPassword': 'new-secret'}}}}},
        ocpp_result={'changed': False, 'diff': {'before': {}, 'after': {}}},
        backend_tokens={'changed': True, 'results': [
            {'changed': True, 'diff': {'before': {'status': 'Accepted'}, 'after': {'status': 'Blocked'}}},
            {'changed': True, '_ansible_no_log': True, 'diff': {'before': {'x': 1}, 'after': {'x': 2}}}]},
        broken=RuntimeError('template error'),
    )
    entries = result_changes(host, ['network_connection', 'ocpp_result', 'backend_tokens', 'broken', 'undefined'])
    assert entries == [
        {'source': 'network_connection', 'field': 'slot_1.apn.apnPassword', 'before': MASK, 'after': MASK},
        {'source': 'network_connection', 'field': 'slot_1.ocppCsmsUrl', 'before': 'ws://old/ocpp', 'after': 'ws://new/ocpp'},
        {'source': 'backend_tokens', 'field': 'status', 'before': 'Accepted', 'after': 'Blocked'},
    ]


def test_a_change_without_a_diff_is_still_listed():
    entries = result_changes(_HostVars(identity_certificate={'changed': True}), ['identity_certificate'])
    assert [(e['source'], e['field']) for e in entries] == [('identity_certificate', 'identity_certificate')]


def test_failed_required_checks_become_entries_with_one_per_variable():
    host = _HostVars(commission_result={'changed': False, 'passed': False, 'checklist': CHECKLIST_FAILED})
    assert result_changes(host, ['commission_result']) == [
        {'source': 'commission_result', 'field': 'device_model: OCPPCommCtrlr.HeartbeatInterval', 'before': '123', 'after': '600'},
        {'source': 'commission_result', 'field': 'heartbeat_recent', 'before': 'last message 900s ago', 'after': 'pass'},
    ]
    assert result_changes(host, ['commission_result'], include_checks=False) == []


def test_commissioning_report_has_one_object_per_checked_station_sorted_by_site():
    site_b = {'id': 'site-b', 'name': 'Site B'}
    hostvars = {
        'CP-2': _HostVars(evcs_site=site_b, evcs_environment='lab', evcs_station={'id': 'CP-2'},
                          commission_result={'station_id': 'CP-2', 'passed': False, 'failed_items': ['device_model', 'heartbeat_recent'],
                                             'checklist': CHECKLIST_FAILED, 'msg': 'station CP-2 failed commissioning'}),
        'CP-1': _HostVars(evcs_site=site_b, evcs_environment='lab', evcs_station={'id': 'CP-1'},
                          commission_result={'station_id': 'CP-1', 'passed': True, 'failed_items': [], 'checklist': []}),
        'CP-3': _HostVars(evcs_site={'id': 'site-a'}, evcs_environment='lab',
                          commission_result={'failed': True, 'msg': 'csms_url is not set'}),
        'CP-4': _HostVars(evcs_site=site_b),
    }
    report = commissioning_report(hostvars, ['CP-1', 'CP-2', 'CP-3', 'CP-4'])
    assert [(r['site_id'], r['station_id'], r['passed']) for r in report] == [
        ('site-a', 'CP-3', False), ('site-b', 'CP-1', True), ('site-b', 'CP-2', False)]
    assert report[0]['error'] == 'csms_url is not set' and report[0]['site_name'] == 'site-a'
    assert report[2]['error'] is None and report[2]['failed_items'] == ['device_model', 'heartbeat_recent']
