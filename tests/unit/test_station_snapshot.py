# -*- coding: utf-8 -*-
"""The per-run station snapshot: what is read once, what a write makes stale, when a snapshot is not valid."""

from __future__ import annotations

import copy
import json

import pytest

from ansible_collections.evcs.provisioning.plugins.module_utils.context import RunContext
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CallError, CsmsError
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

    def __init__(self, items_per_message=4, connection=None, bytes_per_message=8192):
        self.values = {
            ('DeviceDataCtrlr', 'ItemsPerMessage', 'GetVariables'): str(items_per_message),
            ('DeviceDataCtrlr', 'BytesPerMessage', 'GetVariables'): str(bytes_per_message),
            ('DeviceDataCtrlr', 'ItemsPerMessage', 'SetVariables'): str(items_per_message),
            ('DeviceDataCtrlr', 'BytesPerMessage', 'SetVariables'): '8192',
            ('OCPPCommCtrlr', 'HeartbeatInterval', None): '300',
            ('OCPPCommCtrlr', 'OfflineThreshold', None): '60',
            ('SecurityCtrlr', 'SecurityProfile', None): '2',
            ('SecurityCtrlr', 'OrganizationName', None): 'Operator',
            ('SecurityCtrlr', 'BasicAuthPassword', None): 'secret-password',
            ('LocalAuthListCtrlr', 'Entries', None): '2',
        }
        #: what the CSMS remembers of the local list it sent (None: no record)
        self.memory = None
        self.calls = []
        self.connection_value = dict(connection or CONNECTED)

    def connection(self, station_id):
        return dict(self.connection_value) if self.connection_value is not None else None

    def has(self, capability):
        return True

    def local_list_memory(self, station_id):
        if self.memory is None:
            raise CsmsError('no record', kind='not_found')
        return copy.deepcopy(self.memory)

    def call(self, station_id, action, payload, timeout=None):
        self.calls.append((action, copy.deepcopy(payload)))
        if action == 'GetVariables':
            # OCPP 2.0.1 B06.FR.16/17: a request above the station's limits is answered with a CALLERROR
            limit = int(self.values[('DeviceDataCtrlr', 'ItemsPerMessage', 'GetVariables')])
            size = int(self.values[('DeviceDataCtrlr', 'BytesPerMessage', 'GetVariables')])
            if len(payload['getVariableData']) > limit:
                raise CallError(station_id, action, details={'code': 'OccurrenceConstraintViolation'})
            if len(json.dumps(payload, separators=(',', ':'))) > size:
                raise CallError(station_id, action, details={'code': 'FormatViolation'})
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

    def sizes(self):
        """The number of items of each GetVariables sent."""
        return [len(payload['getVariableData']) for name, payload in self.calls if name == 'GetVariables']


def _plan():
    return snap.declared_variables({'evcs_station': {'id': STATION}, 'evcs_ocpp': {'heartbeat_interval': 300}})


def _backend(station, fact=None, plan=_plan, run=RUN, limits=None):
    return snap.SnapshotBackend(station, STATION, fact=fact, plan=plan, run=run, limits=limits)


def _capabilities(items, size=8192, station_id=STATION):
    """The validate role's capability fact (station_capabilities) with the GetVariables limits."""
    return {snap.CAPABILITIES_FACT: {'station_id': station_id, 'limits': {
        'ItemsPerMessage': {'GetVariables': items, 'SetVariables': items}, 'BytesPerMessage': {'GetVariables': size}}}}


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
    assert plan_size + 4 <= 16
    # one request: the message limits ride along with the declared variables
    assert station.sizes() == [plan_size + 4]
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
    # the limits are not known: the first request carries them with every declared variable, the station refuses it for
    # its size (B06.FR.16), the limits alone, then the task's variable with what fits beside it
    sizes = station.sizes()
    assert sizes[0] > 4 and sizes[1:] == [4, 4], sizes

    # with the limits known (the validate role's capability fact), the task's variable with three declared variables
    # in the room left: the plan is not read whole, never a request of its own
    station = FakeStation(items_per_message=4)
    backend = _backend(station, limits=snap.capability_limits(_capabilities(4), STATION))
    session = _session(backend)
    current_values(session, [_item('OCPPCommCtrlr', 'HeartbeatInterval')])
    assert station.sizes() == [4]
    fact = backend.fact()[snap.SNAPSHOT_FACT]
    assert not fact['planned']
    station.calls = []
    later = _backend(station, fact=fact, limits=snap.capability_limits(_capabilities(4), STATION))
    # a later task's miss carries more declared variables in its room, never an extra request
    current_values(_session(later), [_item('SecurityCtrlr', 'OrganizationName')])
    assert station.count('GetVariables') == 1 and len(station.calls[0][1]['getVariableData']) == 4


# -- message limits without a read of their own (issue 22) ------------------------------------------------------------
def test_known_limits_need_no_read_and_are_never_exceeded():
    station = FakeStation(items_per_message=16)
    backend = _backend(station, limits=snap.capability_limits(_capabilities(16), STATION))
    session = _session(backend)
    current_values(session, [_item('OCPPCommCtrlr', 'HeartbeatInterval')])
    assert station.sizes() == [len(_plan())]
    asked = [entry['component']['name'] for entry in station.calls[0][1]['getVariableData']]
    assert 'DeviceDataCtrlr' not in asked, 'the limits the capability fact holds are not read again'
    # the session took the limits from the snapshot backend: nothing else was read
    assert session.calls == {'GetVariables': 1}


def test_the_model_files_item_limit_is_used_without_the_capability_fact():
    """A run without the validate role (a playbook of a few stages) takes the message limits from the station model file
    (the lab's quirky model: 4 items, 8192 bytes) and splits at them, instead of a first request the station refuses
    for its size."""
    limits = snap.model_limits({'evcs_station': {'id': STATION, 'station_model': 'evcs-sim-q'}})
    assert limits[('GetVariables', 'ItemsPerMessage')] == 4 and limits[('GetVariables', 'BytesPerMessage')] == 8192
    assert snap.model_limits({'evcs_station': {'id': STATION, 'station_model': 'generic'}}) == {}
    station = FakeStation(items_per_message=4)
    backend = _backend(station, limits=limits)
    current_values(_session(backend), [_item('OCPPCommCtrlr', 'HeartbeatInterval')])
    asked = [entry['component']['name'] for _name, payload in station.calls for entry in payload['getVariableData']]
    assert 'DeviceDataCtrlr' not in asked, 'no limit rode along: the item limit was known and never exceeded'
    assert max(station.sizes()) <= 4 and station.count('GetVariables') == len(station.sizes())


def test_the_model_files_limits_are_looked_up_only_when_a_limit_is_needed():
    """The station model's limits come from a callable (templating the host's inventory): not called for an OCPP 1.6
    station, which keeps no snapshot, and called once for a 2.0.1 station whose limits the run does not know."""
    looked_up = []

    def _model_limits():
        looked_up.append(1)
        return {('GetVariables', 'ItemsPerMessage'): 4, ('GetVariables', 'BytesPerMessage'): 8192}
    station16 = FakeStation(connection=dict(CONNECTED, ocpp_version='1.6'))
    _backend(station16, limits=_model_limits).call(STATION, 'GetLocalListVersion', {})
    assert looked_up == []
    station = FakeStation(items_per_message=4)
    backend = _backend(station, limits=_model_limits)
    current_values(_session(backend), [_item('OCPPCommCtrlr', 'HeartbeatInterval')])
    assert looked_up == [1] and max(station.sizes()) <= 4


def test_another_stations_capability_fact_is_not_used():
    assert snap.capability_limits(_capabilities(16, station_id='CP-2'), STATION) == {}
    assert snap.capability_limits({}, STATION) == {}
    assert snap.capability_limits(_capabilities(16), STATION)[('GetVariables', 'ItemsPerMessage')] == 16


def test_a_plan_larger_than_the_known_limit_is_split_at_it():
    station = FakeStation(items_per_message=3)
    backend = _backend(station, limits=snap.capability_limits(_capabilities(3), STATION))
    backend.snapshot().planned = False
    current_values(_session(backend), [_item('OCPPCommCtrlr', 'HeartbeatInterval'), _item('SecurityCtrlr',
                                                                                        'SecurityProfile')])
    assert station.sizes() and max(station.sizes()) <= 3


def test_a_station_that_refuses_for_bytes_is_split_at_what_it_reports():
    # the items limit is roomy, the bytes limit small: B06.FR.17 (FormatViolation), then the limits alone
    station = FakeStation(items_per_message=100, bytes_per_message=700)
    backend = _backend(station)
    values = current_values(_session(backend), [_item('OCPPCommCtrlr', 'HeartbeatInterval')])
    assert values == {'OCPPCommCtrlr.HeartbeatInterval': '300'}
    requests = [payload for name, payload in station.calls if name == 'GetVariables']
    assert len(requests) >= 3
    limits_alone = requests[1]['getVariableData']
    assert all(entry['component']['name'] == 'DeviceDataCtrlr' for entry in limits_alone)
    assert all(len(json.dumps(payload, separators=(',', ':'))) <= 700 for payload in requests[2:])
    assert backend.message_limits()[('GetVariables', 'BytesPerMessage')] == 700


def test_a_capability_cache_of_other_limits_is_corrected_by_the_station():
    # the cache says 16 (another firmware), the station allows 4: refused once, then what the station reports wins
    station = FakeStation(items_per_message=4)
    backend = _backend(station, limits=snap.capability_limits(_capabilities(16), STATION))
    current_values(_session(backend), [_item('OCPPCommCtrlr', 'HeartbeatInterval')])
    sizes = station.sizes()
    assert sizes[0] > 4 and all(size <= 4 for size in sizes[1:]), sizes
    assert backend.message_limits()[('GetVariables', 'ItemsPerMessage')] == 4


def test_a_refusal_not_for_size_is_not_retried():
    class Refusing(FakeStation):
        def call(self, station_id, action, payload, timeout=None):
            if action == 'GetVariables':
                self.calls.append((action, payload))
                raise CallError(station_id, action, details={'code': 'InternalError'})
            return super().call(station_id, action, payload, timeout)

    station = Refusing()
    with pytest.raises(CallError):
        _backend(station).call(STATION, 'GetVariables', {'getVariableData': [HEARTBEAT_ENTRY]})
    assert station.count('GetVariables') == 1


HEARTBEAT_ENTRY = {'component': {'name': 'OCPPCommCtrlr'}, 'variable': {'name': 'HeartbeatInterval'}}


def test_one_helper_builds_the_getvariables_entry():
    from ansible_collections.evcs.provisioning.plugins.module_utils.device_model import variable_entry

    item = normalise_item({'component': {'name': 'Connector', 'evse': 1, 'connector': 2},
                           'variable': {'name': 'ConnectorType'}})
    assert variable_entry(item) == {'component': {'name': 'Connector', 'evse': {'id': 1, 'connectorId': 2}},
                                    'variable': {'name': 'ConnectorType'}}
    assert variable_entry(dict(item, attribute_type='Target'))['attributeType'] == 'Target'
    station = FakeStation(items_per_message=16)
    backend = _backend(station, plan=lambda: [])
    _session(backend).get([item])
    assert station.calls[-1][1]['getVariableData'][-1] == variable_entry(item)


# -- the local list version from the CSMS's memory and the station's entry count --------------------------------------
def _list_memory(version=4, entries=2):
    return {'version': version, 'hash': 'h', 'entries': dict(('ISO14443:T%d' % n, 'Accepted') for n in range(entries))}


def test_the_local_list_version_comes_from_the_csms_memory_when_the_station_counts_the_same_entries():
    station = FakeStation(items_per_message=16)
    station.memory = _list_memory(version=7, entries=2)
    backend = _backend(station, limits=snap.capability_limits(_capabilities(16), STATION))
    assert backend.call(STATION, 'GetLocalListVersion', {}) == {'versionNumber': 7}
    # one GetVariables: the declared variables, with LocalAuthListCtrlr.Entries among them; no GetLocalListVersion
    assert station.count('GetLocalListVersion') == 0 and station.count('GetVariables') == 1
    later = _backend(station, fact=backend.fact()[snap.SNAPSHOT_FACT])
    station.calls = []
    assert later.call(STATION, 'GetLocalListVersion', {}) == {'versionNumber': 7}
    assert station.calls == []


@pytest.mark.parametrize('memory, entries_on_station', [
    (_list_memory(entries=2), '0'),          # the list was wiped on the station
    (_list_memory(entries=2), '5'),          # another party sent a list of another size
    (None, '2'),                             # the CSMS remembers no list
    (_list_memory(version=0, entries=0), '0'),
])
def test_the_station_is_asked_for_its_local_list_version_when_the_count_or_memory_does_not_hold(memory, entries_on_station):
    station = FakeStation(items_per_message=16)
    station.memory = memory
    station.values[('LocalAuthListCtrlr', 'Entries', None)] = entries_on_station
    backend = _backend(station, limits=snap.capability_limits(_capabilities(16), STATION))
    assert backend.call(STATION, 'GetLocalListVersion', {}) == {'versionNumber': 4}
    assert station.count('GetLocalListVersion') == 1


def test_a_station_without_the_entries_variable_is_asked():
    station = FakeStation(items_per_message=16)
    station.memory = _list_memory()
    del station.values[('LocalAuthListCtrlr', 'Entries', None)]
    backend = _backend(station, limits=snap.capability_limits(_capabilities(16), STATION))
    assert backend.call(STATION, 'GetLocalListVersion', {}) == {'versionNumber': 4}
    assert station.count('GetLocalListVersion') == 1


def test_after_a_sendlocallist_the_station_is_asked_again():
    station = FakeStation(items_per_message=16)
    station.memory = _list_memory(version=4)
    backend = _backend(station, limits=snap.capability_limits(_capabilities(16), STATION))
    backend.call(STATION, 'GetLocalListVersion', {})
    backend.call(STATION, 'SendLocalList', {'versionNumber': 5, 'updateType': 'Full'})
    station.memory = _list_memory(version=5)
    station.calls = []
    backend.call(STATION, 'GetLocalListVersion', {})
    assert [name for name, _payload in station.calls] == ['GetLocalListVersion']


def test_after_a_refusal_the_plan_only_fills_the_room_the_stage_needs():
    # limits unknown, a plan larger than the station's 4 items: refused once, the limits alone, then the task's own
    # variable with the declared variables that fit beside it, not the whole plan
    station = FakeStation(items_per_message=4)
    backend = _backend(station)
    current_values(_session(backend), [_item('OCPPCommCtrlr', 'HeartbeatInterval')])
    sizes = station.sizes()
    assert len(sizes) == 3 and sizes[0] > 4 and sizes[1:] == [4, 4], sizes
    assert not backend.fact()[snap.SNAPSHOT_FACT]['planned']
