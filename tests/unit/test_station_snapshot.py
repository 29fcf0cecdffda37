# -*- coding: utf-8 -*-
"""The per-run station snapshot: what is read once, what a write makes stale, when a snapshot is not valid."""

from __future__ import annotations

import copy

from ansible_collections.evcs.provisioning.plugins.module_utils.context import RunContext
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.connection import with_snapshot
from ansible_collections.evcs.provisioning.plugins.module_utils.device_model import (
    StationSession, current_values, normalise_item,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.station import snapshot as snap

STATION = 'CP-1'
RUN = 'run-1'
CONNECTED = {'online': True, 'connected_at': '2026-12-07T20:00:00Z', 'connections_total': 3, 'ocpp_version': '2.0.1'}


class FakeStation(object):
    """A CSMS backend in front of one 2.0.1 station: a device model, a local list version, certificates, profiles."""

    NAME = 'fake'

    def __init__(self, items_per_message=4, connection=None):
        self.values = {
            ('DeviceDataCtrlr', 'ItemsPerMessage', 'GetVariables'): str(items_per_message),
            ('DeviceDataCtrlr', 'BytesPerMessage', 'GetVariables'): '8192',
            ('DeviceDataCtrlr', 'ItemsPerMessage', 'SetVariables'): str(items_per_message),
            ('DeviceDataCtrlr', 'BytesPerMessage', 'SetVariables'): '8192',
            ('OCPPCommCtrlr', 'HeartbeatInterval', None): '300',
            ('OCPPCommCtrlr', 'OfflineThreshold', None): '60',
            ('SecurityCtrlr', 'SecurityProfile', None): '2',
            ('SecurityCtrlr', 'OrganizationName', None): 'Operator',
            ('SecurityCtrlr', 'BasicAuthPassword', None): 'secret-password',
        }
        self.calls = []
        self.connection_value = dict(connection or CONNECTED)

    def connection(self, station_id):
        return dict(self.connection_value) if self.connection_value is not None else None

    def has(self, capability):
        return True

    def call(self, station_id, action, payload, timeout=None):
        self.calls.append((action, copy.deepcopy(payload)))
        if action == 'GetVariables':
            limit = int(self.values[('DeviceDataCtrlr', 'ItemsPerMessage', 'GetVariables')])
            assert len(payload['getVariableData']) <= limit, 'more items than ItemsPerMessage'
            return {'getVariableResult': [self._get(entry) for entry in payload['getVariableData']]}
        if action == 'SetVariables':
            results = []
            for entry in payload['setVariableData']:
                key = (entry['component']['name'], entry['variable']['name'], entry['variable'].get('instance'))
                self.values[key] = entry['attributeValue']
                results.append(dict(entry, attributeStatus='Accepted'))
            return {'setVariableResult': results}
        if action == 'GetLocalListVersion':
            return {'versionNumber': 4}
        if action == 'GetInstalledCertificateIds':
            assert payload == {}, 'the snapshot reads every certificate type at once'
            return {'status': 'Accepted', 'certificateHashDataChain': [
                {'certificateType': 'CSMSRootCertificate', 'certificateHashData': {'serialNumber': 'a1'}},
                {'certificateType': 'V2GRootCertificate', 'certificateHashData': {'serialNumber': 'b2'}}]}
        if action == 'GetChargingProfiles':
            return {'status': 'Accepted'}
        return {'status': 'Accepted'}

    def wait_for_message(self, station_id, action, since, timeout, request_id=None):
        self.calls.append(('wait ' + action, request_id))
        return [{'payload': {'requestId': request_id, 'evseId': 0, 'chargingProfile': [{'id': 1}]}}]

    def _get(self, entry):
        key = (entry['component']['name'], entry['variable']['name'], entry['variable'].get('instance'))
        if entry['variable']['name'] == 'BasicAuthPassword':
            return dict(entry, attributeStatus='Rejected')
        if key not in self.values:
            return dict(entry, attributeStatus='UnknownVariable')
        return dict(entry, attributeStatus='Accepted', attributeValue=self.values[key])

    def count(self, action):
        return sum(1 for name, _payload in self.calls if name == action)


def _plan():
    return snap.declared_variables({'evcs_station': {'id': STATION}, 'evcs_ocpp': {'heartbeat_interval': 300}})


def _backend(station, fact=None, plan=_plan, run=RUN):
    return snap.SnapshotBackend(station, STATION, fact=fact, plan=plan, run=run)


def _session(backend):
    return StationSession(backend, STATION)


def _item(component, variable):
    return normalise_item({'component': {'name': component}, 'variable': {'name': variable}})


def test_first_read_takes_every_declared_variable_and_later_tasks_read_nothing():
    station = FakeStation(items_per_message=16)
    first = _backend(station)
    values = current_values(_session(first), [_item('OCPPCommCtrlr', 'HeartbeatInterval')])
    assert values == {'OCPPCommCtrlr.HeartbeatInterval': '300'}
    plan_size = len(_plan())
    assert plan_size <= 16
    # the limits, then the declared variables with the task's own (the fake fails more than ItemsPerMessage)
    assert station.count('GetVariables') == 1 + 1
    fact = first.fact()[snap.SNAPSHOT_FACT]
    assert fact['run'] == RUN and fact['station_id'] == STATION and fact['planned']

    station.calls = []
    later = _backend(station, fact=fact)
    values = current_values(_session(later), [_item('SecurityCtrlr', 'SecurityProfile'),
                                              _item('SecurityCtrlr', 'OrganizationName')])
    assert values == {'SecurityCtrlr.SecurityProfile': '2', 'SecurityCtrlr.OrganizationName': 'Operator'}
    assert station.count('GetVariables') == 0


def test_a_variable_nobody_declared_is_read_and_kept():
    station = FakeStation(items_per_message=16)
    fact = _backend(station).fact() or None
    backend = _backend(station, fact=fact)
    current_values(_session(backend), [_item('OCPPCommCtrlr', 'HeartbeatInterval')])
    station.calls = []
    extra = _item('SampledDataCtrlr', 'TxEndedInterval')
    station.values[('SampledDataCtrlr', 'TxEndedInterval', None)] = '0'
    assert current_values(_session(backend), [extra]) == {'SampledDataCtrlr.TxEndedInterval': '0'}
    assert [entry['variable']['name'] for entry in station.calls[0][1]['getVariableData']] == ['TxEndedInterval']
    station.calls = []
    again = _backend(station, fact=backend.fact()[snap.SNAPSHOT_FACT])
    assert current_values(_session(again), [extra]) == {'SampledDataCtrlr.TxEndedInterval': '0'}
    assert station.calls == []


def test_write_only_variables_never_enter_the_snapshot():
    plan = snap.declared_variables({'evcs_station': {'id': STATION}, 'evcs_network': {'mode': 'wifi', 'wifi': {
        'ssid': 'depot', 'passphrase': 'not-in-the-snapshot'}}})
    assert all('Passphrase' not in snap.entry_key(entry) for entry in plan)
    station = FakeStation()
    backend = _backend(station)
    session = _session(backend)
    current_values(session, [_item('OCPPCommCtrlr', 'HeartbeatInterval')])
    # a write of the password is not read back, and nothing of it stays in the fact
    session.set([dict(_item('SecurityCtrlr', 'BasicAuthPassword'), rendered='secret-password')])
    assert 'secret-password' not in repr(backend.fact())
    assert 'not-in-the-snapshot' not in repr(backend.fact())


def test_a_write_is_read_back_and_the_next_task_sees_the_new_value():
    station = FakeStation()
    backend = _backend(station)
    session = _session(backend)
    current_values(session, [_item('OCPPCommCtrlr', 'HeartbeatInterval')])
    station.calls = []
    session.set([dict(_item('OCPPCommCtrlr', 'HeartbeatInterval'), rendered='120')])
    assert [name for name, _payload in station.calls] == ['SetVariables', 'GetVariables']
    station.calls = []
    later = _backend(station, fact=backend.fact()[snap.SNAPSHOT_FACT])
    assert current_values(_session(later), [_item('OCPPCommCtrlr', 'HeartbeatInterval')]) == {
        'OCPPCommCtrlr.HeartbeatInterval': '120'}
    assert station.calls == []


def test_other_reads_are_cached_and_writes_make_them_stale():
    station = FakeStation()
    backend = _backend(station)
    assert backend.call(STATION, 'GetLocalListVersion', {}) == {'versionNumber': 4}
    roots = backend.call(STATION, 'GetInstalledCertificateIds', {'certificateType': ['CSMSRootCertificate']})
    assert [chain['certificateHashData']['serialNumber'] for chain in roots['certificateHashDataChain']] == ['a1']
    assert backend.call(STATION, 'GetInstalledCertificateIds', {'certificateType': ['ManufacturerRootCertificate']}) == {
        'status': 'NotFound'}
    assert backend.call(STATION, 'GetChargingProfiles', {'requestId': 11, 'evseId': 0})['status'] == 'Accepted'
    assert backend.wait_for_message(STATION, 'ReportChargingProfiles', None, 5, request_id=11)[0]['payload']['requestId'] == 11

    later = _backend(station, fact=backend.fact()[snap.SNAPSHOT_FACT])
    station.calls = []
    assert later.call(STATION, 'GetLocalListVersion', {}) == {'versionNumber': 4}
    later.call(STATION, 'GetInstalledCertificateIds', {})
    assert later.call(STATION, 'GetChargingProfiles', {'requestId': 12, 'evseId': 0})['status'] == 'Accepted'
    report = later.wait_for_message(STATION, 'ReportChargingProfiles', None, 5, request_id=12)
    assert report[0]['payload']['requestId'] == 12 and report[0]['payload']['chargingProfile'] == [{'id': 1}]
    assert station.calls == []

    later.call(STATION, 'SendLocalList', {'versionNumber': 5, 'updateType': 'Full'})
    later.call(STATION, 'InstallCertificate', {'certificateType': 'CSMSRootCertificate', 'certificate': 'PEM'})
    later.call(STATION, 'SetChargingProfile', {'evseId': 0, 'chargingProfile': {}})
    station.calls = []
    later.call(STATION, 'GetLocalListVersion', {})
    later.call(STATION, 'GetInstalledCertificateIds', {})
    later.call(STATION, 'GetChargingProfiles', {'requestId': 13, 'evseId': 0})
    assert [name for name, _payload in station.calls] == [
        'GetLocalListVersion', 'GetInstalledCertificateIds', 'GetChargingProfiles']


def test_reset_drops_the_snapshot_and_later_tasks_read_only_what_they_compare():
    station = FakeStation()
    backend = _backend(station)
    current_values(_session(backend), [_item('OCPPCommCtrlr', 'HeartbeatInterval')])
    backend.call(STATION, 'Reset', {'type': 'Immediate'})
    fact = backend.fact()[snap.SNAPSHOT_FACT]
    assert fact['connection'] is None and 'variables' not in fact
    # the rest of the resetting task asks the station directly
    station.calls = []
    backend.call(STATION, 'GetLocalListVersion', {})
    backend.call(STATION, 'GetLocalListVersion', {})
    assert station.count('GetLocalListVersion') == 2

    station.connection_value = dict(CONNECTED, connected_at='2026-12-07T20:05:00Z', connections_total=4)
    station.calls = []
    later = _backend(station, fact=fact)
    current_values(_session(later), [_item('OCPPCommCtrlr', 'HeartbeatInterval')])
    asked = [entry['variable']['name'] for name, payload in station.calls if name == 'GetVariables'
             for entry in payload['getVariableData']]
    assert 'HeartbeatInterval' in asked and 'OrganizationName' not in asked


def test_snapshot_of_another_run_or_connection_is_read_again():
    station = FakeStation()
    backend = _backend(station)
    current_values(_session(backend), [_item('OCPPCommCtrlr', 'HeartbeatInterval')])
    fact = backend.fact()[snap.SNAPSHOT_FACT]
    station.values[('OCPPCommCtrlr', 'HeartbeatInterval', None)] = '900'

    # the next run (another ansible-playbook process): the station is read again and the change is seen
    next_run = _backend(station, fact=fact, run='run-2')
    assert current_values(_session(next_run), [_item('OCPPCommCtrlr', 'HeartbeatInterval')]) == {
        'OCPPCommCtrlr.HeartbeatInterval': '900'}

    # the same run, but the station reconnected (a Reset, a network change)
    station.connection_value = dict(CONNECTED, connected_at='2026-12-07T20:05:00Z', connections_total=4)
    station.calls = []
    reconnected = _backend(station, fact=fact)
    current_values(_session(reconnected), [_item('OCPPCommCtrlr', 'HeartbeatInterval')])
    assert station.count('GetVariables') >= 1


def test_ocpp16_stations_pass_through():
    station = FakeStation(connection=dict(CONNECTED, ocpp_version='1.6'))
    backend = _backend(station)
    backend.call(STATION, 'GetLocalListVersion', {})
    backend.call(STATION, 'GetLocalListVersion', {})
    assert station.count('GetLocalListVersion') == 2
    assert backend.fact() == {}


def test_an_offline_station_is_asked_directly():
    station = FakeStation(connection=dict(CONNECTED, online=False))
    station.connection_value = None
    backend = _backend(station)
    backend.call(STATION, 'GetLocalListVersion', {})
    backend.call(STATION, 'GetLocalListVersion', {})
    assert station.count('GetLocalListVersion') == 2


def test_only_the_hosts_own_station_and_csms_share_the_snapshot():
    context = RunContext(station_id=STATION, snapshot_plan=_plan)
    station = FakeStation()
    params = {'station_id': STATION, 'csms_url': 'https://csms.example'}
    first = with_snapshot(station, params, context)
    assert isinstance(first, snap.SnapshotBackend)
    second = with_snapshot(FakeStation(), params, context)
    assert second.snapshot() is first.snapshot()
    assert with_snapshot(station, dict(params, csms_url='https://other.example'), context) is station
    assert with_snapshot(station, dict(params, station_id='CP-2'), context) is station


def test_the_plan_holds_each_stage_variable_once():
    plan = snap.declared_variables({
        'evcs_station': {'id': STATION, 'evses': [{'id': 1, 'phases': 3, 'connectors': [{'id': 1, 'type': 'cType2'}]}]},
        'evcs_ocpp': {'heartbeat_interval': 300}, 'evcs_network': {'ntp': ['pool.ntp.org']}})
    keys = [snap.entry_key(entry) for entry in plan]
    assert len(keys) == len(set(keys))
    for wanted in ('OCPPCommCtrlr||||HeartbeatInterval||Actual', 'EVSE||1||SupplyPhases||Actual',
                   'Connector||1|1|ConnectorType||Actual', 'SecurityCtrlr||||OrganizationName||Actual',
                   'ClockCtrlr||||TimeSource||Actual'):
        assert wanted in keys


class _StatusCsms(object):
    """The CSMS side commissioning reads for connector status: the connection, the StatusNotifications it kept."""

    def __init__(self, received):
        self.received = received
        self.calls = []

    def connection(self, station_id):
        return {'online': True, 'connected_at': '2026-12-07T20:00:00.000Z'}

    def messages(self, station_id, action, since=None, request_id=None):
        assert since == '2026-12-07T20:00:00.000Z'
        return [{'action': action, 'payload': {'evseId': evse, 'connectorId': connector}}
                for evse, connector in self.received]

    def connector_status(self, station_id):
        return {(1, 1): {'status': 'Available'}, (1, 2): {'status': 'Occupied'}}

    def now(self):
        return '2026-12-07T20:10:00.000Z'

    def call(self, station_id, action, payload, timeout=None):
        self.calls.append(action)
        return {'status': 'Accepted'}

    def wait_for_message(self, station_id, action, since, timeout, request_id=None):
        return [{}]


def test_commissioning_trusts_a_status_reported_during_the_current_connection():
    from ansible_collections.evcs.provisioning.plugins.module_utils import commissioning

    params = {'connectors': [{'evse_id': 1, 'connector_id': 1}, {'evse_id': 1, 'connector_id': 2}], 'network_timeout': 1}
    csms = _StatusCsms(received=[(1, 1), (1, 2)])
    status = commissioning._fresh_connector_status(params, StationSession(csms, STATION))  # pylint: disable=protected-access
    assert status == {(1, 1): 'Available', (1, 2): 'Occupied'} and csms.calls == []

    # a connector the station has not reported since it connected is asked for
    csms = _StatusCsms(received=[(1, 1)])
    commissioning._fresh_connector_status(params, StationSession(csms, STATION))  # pylint: disable=protected-access
    assert csms.calls == ['TriggerMessage', 'TriggerMessage']


def test_small_message_limits_never_cost_more_requests_than_the_stages_alone():
    station = FakeStation(items_per_message=4)
    backend = _backend(station)
    session = _session(backend)
    current_values(session, [_item('OCPPCommCtrlr', 'HeartbeatInterval')])
    # the limits, then the task's variable with three declared variables in the room left: the plan is not read whole
    assert station.count('GetVariables') == 2
    fact = backend.fact()[snap.SNAPSHOT_FACT]
    assert not fact['planned']
    assert len(station.calls[-1][1]['getVariableData']) == 4
    station.calls = []
    later = _backend(station, fact=fact)
    # a later task's miss carries more declared variables in its room, never an extra request
    current_values(_session(later), [_item('SecurityCtrlr', 'OrganizationName')])
    assert station.count('GetVariables') == 1 and len(station.calls[0][1]['getVariableData']) == 4
