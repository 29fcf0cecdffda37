# -*- coding: utf-8 -*-
"""OCPP 1.6 configuration keys: the mapping of the one settings table, GetConfiguration splitting, read-compare-write,
check mode, diffs, write-only keys and the checks before any write."""

from __future__ import annotations

import pytest

from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure, RunContext
from ansible_collections.evcs.provisioning.plugins.module_utils.desired.ocpp_settings import OCPP_SETTINGS
from ansible_collections.evcs.provisioning.plugins.module_utils.device_model import MASK, WRITE_ONLY_CHANGED
from ansible_collections.evcs.provisioning.plugins.module_utils.station import configuration_keys as ck
from ansible_collections.evcs.provisioning.plugins.module_utils.station.models import load_model

SECRET = '0123456789abcdef0123456789abcdef'


class Station16(object):
    """A 1.6 station behind a CSMS: its keys, their read-only flags, which need a reboot, and its MaxKeys."""

    def __init__(self, max_keys=3, version='1.6'):
        self.keys = {'GetConfigurationMaxKeys': str(max_keys), 'HeartbeatInterval': '60',
                     'MeterValueSampleInterval': '60', 'MeterValuesSampledData': 'Energy.Active.Import.Register',
                     'AuthorizeRemoteTxRequests': 'false', 'LocalAuthorizeOffline': 'true',
                     'WebSocketPingInterval': '0', 'NumberOfConnectors': '1', 'AuthorizationKey': SECRET,
                     'CentralSystemURL': 'ws://csms/ocpp'}
        self.readonly = {'GetConfigurationMaxKeys', 'NumberOfConnectors'}
        self.reboot = {'WebSocketPingInterval', 'CentralSystemURL'}
        self.max_keys = max_keys
        self.version = version
        self.sent = []

    def connection(self, station_id):
        return {'online': True, 'ocpp_version': self.version}

    def call(self, station_id, action, payload):
        self.sent.append((action, payload))
        if action == 'GetConfiguration':
            asked = payload.get('key')
            assert asked is None or len(asked) <= self.max_keys, 'GetConfiguration not split: %r' % asked
            names = asked if asked is not None else [key for key in self.keys if key != 'AuthorizationKey']
            assert 'AuthorizationKey' not in names, 'the write-only key was read'
            return {'configurationKey': [{'key': key, 'readonly': key in self.readonly, 'value': self.keys[key]}
                                         for key in names if key in self.keys],
                    'unknownKey': [key for key in names if key not in self.keys]}
        if action == 'ChangeConfiguration':
            key, value = payload['key'], payload['value']
            if key not in self.keys:
                return {'status': 'NotSupported'}
            if key in self.readonly or value == 'bad':
                return {'status': 'Rejected'}
            self.keys[key] = value
            return {'status': 'RebootRequired' if key in self.reboot else 'Accepted'}
        raise AssertionError(action)

    def writes(self):
        return [payload for action, payload in self.sent if action == 'ChangeConfiguration']


def _params(keys=None, **extra):
    return dict({'station_id': 'CP16', 'keys': keys or [], 'gather': [], 'state': 'merged',
                 'update_write_only': 'never', 'station_model': 'evcs-sim-16', 'model_dirs': [],
                 'ocpp_version': None}, **extra)


def _run(station, params, check_mode=False, task_vars=None, monkeypatch=None):
    monkeypatch.setattr(ck, 'task_backend', lambda params, context: station)
    context = RunContext(check_mode=check_mode, diff=True, task_vars=task_vars or {})
    return ck.run_configuration_keys(params, context), context


MODEL = load_model('evcs-sim-16')


# -- the one table -------------------------------------------------------------------------------------------------
def test_every_setting_with_a_16_key_maps_through_the_one_table():
    keys = ck.setting_keys({'connection_timeout': 90, 'local_pre_authorize': True, 'websocket_ping_interval': 30,
                            'aligned_interval': 900, 'local_auth_list_enabled': True}, MODEL)
    sent = dict((item['key'], item['value']) for item in keys)
    assert sent == {'HeartbeatInterval': 300, 'MeterValuesSampledData': ['Energy.Active.Import.Register',
                                                                         'Power.Active.Import'],
                    'MeterValueSampleInterval': 60, 'ClockAlignedDataInterval': 900,
                    'AuthorizeRemoteTxRequests': True, 'LocalAuthorizeOffline': True, 'LocalPreAuthorize': True,
                    'ConnectionTimeOut': 90, 'LocalAuthListEnabled': True, 'WebSocketPingInterval': 30}
    # every 1.6 key the table names is a key of the generic 1.6 model: no second list of names anywhere
    generic = load_model('generic-16')
    assert set(s.key16 for s in OCPP_SETTINGS if s.key16) <= set(generic['configuration_keys']['keys'])


def test_a_declared_setting_without_a_16_key_is_refused_with_the_model_and_field():
    problems = ck.unmapped_settings({'offline_threshold': 60, 'ended_interval': 10, 'heartbeat_interval': 30}, MODEL)
    assert [field for field, _value, _why in problems] == ['offline_threshold', 'ended_interval']
    assert 'no OCPP 1.6 configuration key' in problems[0][2] and 'evcs-sim-16' in problems[0][2]


def test_a_20_only_measurand_is_refused_for_a_16_station():
    problems = ck.unmapped_settings({'sampled_measurands': ['Energy.Active.Net']}, MODEL)
    assert problems and 'Energy.Active.Net' in problems[0][2]


def test_a_model_can_map_a_setting_to_its_own_key_or_to_none():
    model = dict(MODEL, configuration_keys=dict(MODEL['configuration_keys'],
                                                settings={'heartbeat_interval': 'CentralSystemURL',
                                                          'sampled_interval': None}))
    keys = dict((item['key'], item['value']) for item in ck.setting_keys({}, model))
    assert keys['CentralSystemURL'] == 300 and 'HeartbeatInterval' not in keys and 'MeterValueSampleInterval' not in keys


def test_extra_keys_are_checked_against_the_model():
    problems = ck.key_problems([{'key': 'NumberOfConnectors', 'value': 2}, {'key': 'VendorThing', 'value': 1},
                                {'key': 'AuthorizationKey', 'value': SECRET}, {'key': 'CpoName', 'value': 'EVCS'}],
                               MODEL)
    assert len(problems) == 3
    assert 'NumberOfConnectors is read-only' in problems[0]
    assert 'VendorThing is not a key of station model evcs-sim-16' in problems[1]
    assert 'AuthorizationKey is write-only' in problems[2]
    assert SECRET not in ' '.join(problems)
    allowing = dict(MODEL, configuration_keys=dict(MODEL['configuration_keys'], unknown_keys='allow'))
    assert ck.key_problems([{'key': 'VendorThing', 'value': 1}], allowing) == []


# -- splitting -----------------------------------------------------------------------------------------------------
def test_split_keys_at_max_keys():
    assert ck.split_keys(list('abcdefg'), 3) == [['a', 'b', 'c'], ['d', 'e', 'f'], ['g']]
    assert ck.split_keys(list('abc'), 0) == [['a', 'b', 'c']]


def test_get_configuration_is_split_and_the_limit_read_once_per_run(monkeypatch):
    station = Station16(max_keys=2)
    keys = [{'key': 'HeartbeatInterval', 'value': 60}, {'key': 'MeterValueSampleInterval', 'value': 60},
            {'key': 'LocalAuthorizeOffline', 'value': True}, {'key': 'AuthorizeRemoteTxRequests', 'value': False},
            {'key': 'WebSocketPingInterval', 'value': 0}]
    result, _ = _run(station, _params(keys), monkeypatch=monkeypatch)
    assert result['changed'] is False
    # one read of the limit, then 5 keys in requests of at most 2
    assert result['requests'] == {'GetConfiguration': 4}
    fact = result['ansible_facts'][ck.LIMITS_FACT]
    assert fact == {'station_id': 'CP16', 'GetConfigurationMaxKeys': 2}
    station.sent = []
    again, _ = _run(station, _params(keys), task_vars={ck.LIMITS_FACT: fact}, monkeypatch=monkeypatch)
    assert again['requests'] == {'GetConfiguration': 3} and 'ansible_facts' not in again


# -- read-compare-write ----------------------------------------------------------------------------------------
def test_only_differences_are_written_compared_by_meaning(monkeypatch):
    station = Station16()
    keys = [{'key': 'HeartbeatInterval', 'value': 300}, {'key': 'MeterValueSampleInterval', 'value': '60'},
            {'key': 'MeterValuesSampledData', 'value': ['Power.Active.Import', 'Energy.Active.Import.Register']},
            {'key': 'AuthorizeRemoteTxRequests', 'value': False}]
    result, _ = _run(station, _params(keys), monkeypatch=monkeypatch)
    assert result['changed'] is True
    assert result['changes'] == ['HeartbeatInterval', 'MeterValuesSampledData']
    assert station.writes() == [{'key': 'HeartbeatInterval', 'value': '300'},
                                {'key': 'MeterValuesSampledData',
                                 'value': 'Power.Active.Import,Energy.Active.Import.Register'}]
    assert result['diff'] == {'before': {'HeartbeatInterval': '60',
                                         'MeterValuesSampledData': 'Energy.Active.Import.Register'},
                              'after': {'HeartbeatInterval': '300',
                                        'MeterValuesSampledData': 'Power.Active.Import,Energy.Active.Import.Register'}}
    second, _ = _run(station, _params(keys), monkeypatch=monkeypatch)
    assert second['changed'] is False and second['diff'] == {'before': {}, 'after': {}}


def test_check_mode_shows_the_change_and_writes_nothing(monkeypatch):
    station = Station16()
    result, _ = _run(station, _params([{'key': 'HeartbeatInterval', 'value': 120}]), check_mode=True,
                     monkeypatch=monkeypatch)
    assert result['changed'] is True
    assert result['diff'] == {'before': {'HeartbeatInterval': '60'}, 'after': {'HeartbeatInterval': '120'}}
    assert station.writes() == [] and station.keys['HeartbeatInterval'] == '60'


def test_reboot_required_keys_are_reported(monkeypatch):
    station = Station16()
    result, _ = _run(station, _params([{'key': 'WebSocketPingInterval', 'value': 30},
                                       {'key': 'HeartbeatInterval', 'value': 120}]), monkeypatch=monkeypatch)
    assert result['reboot_required'] is True and result['reboot_required_keys'] == ['WebSocketPingInterval']


def test_rejected_and_not_supported_fail_naming_station_key_value_and_fix(monkeypatch):
    station = Station16()
    station.keys['CpoName'] = 'x'
    with pytest.raises(ModuleFailure) as failure:
        _run(station, _params([{'key': 'HeartbeatInterval', 'value': 120}, {'key': 'CpoName', 'value': 'bad'}],
                              station_model=None), monkeypatch=monkeypatch)
    text = str(failure.value)
    assert 'station CP16 answered ChangeConfiguration of key CpoName' in text and 'Rejected' in text
    assert failure.value.details['applied'] == ['HeartbeatInterval']


def test_read_only_or_unknown_keys_are_refused_before_any_write(monkeypatch):
    station = Station16()
    # the model refuses: nothing is even read
    with pytest.raises(ModuleFailure) as failure:
        _run(station, _params([{'key': 'HeartbeatInterval', 'value': 120}, {'key': 'NumberOfConnectors', 'value': 2},
                               {'key': 'VendorThing', 'value': 1}]), monkeypatch=monkeypatch)
    assert 'NumberOfConnectors is read-only on station model evcs-sim-16' in str(failure.value)
    assert 'VendorThing is not a key of station model evcs-sim-16' in str(failure.value)
    assert station.sent == []
    # without a model: the station's own answer refuses them, still before any write
    with pytest.raises(ModuleFailure) as failure:
        _run(station, _params([{'key': 'HeartbeatInterval', 'value': 120}, {'key': 'NumberOfConnectors', 'value': 2},
                               {'key': 'VendorThing', 'value': 1}], station_model=None), monkeypatch=monkeypatch)
    assert 'does not know configuration key VendorThing' in str(failure.value)
    assert 'reports configuration key NumberOfConnectors as read-only' in str(failure.value)
    assert station.writes() == [] and station.keys['HeartbeatInterval'] == '60'


def test_the_authorization_key_is_never_read_nor_shown(monkeypatch):
    station = Station16()
    new = 'fedcba9876543210fedcba9876543210'
    never, _ = _run(station, _params([{'key': 'AuthorizationKey', 'value': new}]), monkeypatch=monkeypatch)
    assert never['changed'] is False and station.writes() == []
    result, context = _run(station, _params([{'key': 'AuthorizationKey', 'value': new}], update_write_only='always'),
                           monkeypatch=monkeypatch)
    assert result['diff'] == {'before': {'AuthorizationKey': MASK}, 'after': {'AuthorizationKey': WRITE_ONLY_CHANGED}}
    assert new in context.no_log_values and station.keys['AuthorizationKey'] == new
    assert 'AuthorizationKey' not in result['gathered'] and all(k['key'] != 'AuthorizationKey' for k in result['keys'])
    gathered, _ = _run(station, _params(state='gathered'), monkeypatch=monkeypatch)
    assert SECRET not in repr(gathered) and new not in repr(gathered)
    assert gathered['gathered']['HeartbeatInterval'] == '60'


def test_a_station_not_on_16_is_refused(monkeypatch):
    with pytest.raises(ModuleFailure) as failure:
        _run(Station16(version='2.0.1'), _params([{'key': 'HeartbeatInterval', 'value': 1}]), monkeypatch=monkeypatch)
    assert 'speaks OCPP 2.0.1' in str(failure.value)
    with pytest.raises(ModuleFailure) as failure:
        _run(Station16(), _params([{'key': 'HeartbeatInterval', 'value': 1}], ocpp_version='2.0.1'),
             monkeypatch=monkeypatch)
    assert "evcs_station.ocpp_version is '2.0.1'" in str(failure.value)


# -- Reset of a 1.6 station ----------------------------------------------------------------------------------------
class Rebooting16(Station16):
    def __init__(self):
        super().__init__()
        self.total = 1

    def connection(self, station_id):
        at = '2026-12-07T16:0%d:00Z' % self.total
        return {'online': True, 'ocpp_version': '1.6', 'connections_total': self.total, 'connected_at': at,
                'boot': {'status': 'Accepted', 'at': at}}

    def call(self, station_id, action, payload):
        if action == 'Reset':
            self.sent.append((action, payload))
            self.total += 1
            return {'status': 'Accepted'}
        return super().call(station_id, action, payload)


def test_a_16_reset_is_soft_and_verifies_the_keys_after(monkeypatch):
    from ansible_collections.evcs.provisioning.plugins.module_utils import station_reset
    station = Rebooting16()
    monkeypatch.setattr(station_reset, 'task_backend', lambda params, context: station)
    params = {'station_id': 'CP16', 'ocpp_version': '1.6', 'type': 'OnIdle', 'wait_timeout': 5, 'poll_interval': 0.01,
              'verify_variables': [], 'verify_keys': [{'key': 'HeartbeatInterval', 'value': 60},
                                                      {'key': 'AuthorizationKey', 'value': 'x', 'write_only': True}]}
    result = station_reset.run_station_reset(params, RunContext())
    assert ('Reset', {'type': 'Soft'}) in station.sent
    assert result['verified'] == ['HeartbeatInterval'] and result['diff']['after'] == {'reset': 'Soft'}
    station.keys['HeartbeatInterval'] = '30'
    with pytest.raises(ModuleFailure, match='HeartbeatInterval = 30 \\(wanted 60\\)'):
        station_reset.run_station_reset(dict(params, type='Immediate'), RunContext())
    assert ('Reset', {'type': 'Hard'}) in station.sent


# -- the site limit of a 1.6 station -------------------------------------------------------------------------------
class Limited16(Station16):
    """A 1.6 station that accepts current limits only and reports its composite schedule on connector 0."""

    def __init__(self):
        super().__init__(max_keys=10)
        self.keys.update(SupportedFeatureProfiles='Core,LocalAuthListManagement,SmartCharging',
                         ChargingScheduleAllowedChargingRateUnit='Current')
        self.profile = None

    def call(self, station_id, action, payload):
        if action == 'SetChargingProfile':
            self.sent.append((action, payload))
            self.profile = payload
            return {'status': 'Accepted'}
        if action == 'GetCompositeSchedule':
            self.sent.append((action, payload))
            if self.profile is None:
                return {'status': 'Rejected'}
            schedule = self.profile['csChargingProfiles']['chargingSchedule']
            return {'status': 'Accepted', 'connectorId': 0, 'chargingSchedule': {
                'chargingRateUnit': schedule['chargingRateUnit'], 'chargingSchedulePeriod': [
                    dict(period, limit=str(period['limit'])) for period in schedule['chargingSchedulePeriod']]}}
        return super().call(station_id, action, payload)


def test_a_16_site_limit_is_a_charge_point_max_profile_on_connector_0_in_the_station_unit(monkeypatch):
    from ansible_collections.evcs.provisioning.plugins.module_utils import charging_limit
    station = Limited16()
    monkeypatch.setattr(charging_limit, 'task_backend', lambda params, context: station)
    params = {'station_id': 'CP16', 'ocpp_version': '1.6', 'limit': 7360.0, 'unit': 'W', 'phases': 1,
              'voltage': 230.0, 'stack_level': 0, 'profile_id': 1}
    result = charging_limit.run_charging_limit(params, RunContext(diff=True))
    assert result['changed'] is True
    sent = [payload for action, payload in station.sent if action == 'SetChargingProfile']
    assert len(sent) == 1 and sent[0]['connectorId'] == 0
    profile = sent[0]['csChargingProfiles']
    assert profile['chargingProfilePurpose'] == 'ChargePointMaxProfile'
    assert profile['chargingSchedule']['chargingRateUnit'] == 'A'          # Current only: 7360 W -> 32 A
    assert profile['chargingSchedule']['chargingSchedulePeriod'][0]['limit'] == 32.0
    assert result['diff']['after'] == {'ChargePointMaxProfile': {'unit': 'A', 'limit': 32.0, 'phases': 1}}
    again = charging_limit.run_charging_limit(params, RunContext(diff=True))
    assert again['changed'] is False and len([a for a, _ in station.sent if a == 'SetChargingProfile']) == 1
    planned = charging_limit.run_charging_limit(dict(params, limit=3680.0), RunContext(check_mode=True, diff=True))
    assert planned['changed'] is True and len([a for a, _ in station.sent if a == 'SetChargingProfile']) == 1


def test_a_16_station_without_smart_charging_is_refused_with_the_fix(monkeypatch):
    from ansible_collections.evcs.provisioning.plugins.module_utils import charging_limit
    station = Limited16()
    station.keys['SupportedFeatureProfiles'] = 'Core,LocalAuthListManagement'
    monkeypatch.setattr(charging_limit, 'task_backend', lambda params, context: station)
    with pytest.raises(ModuleFailure, match='does not support the Smart Charging feature profile'):
        charging_limit.run_charging_limit({'station_id': 'CP16', 'ocpp_version': '1.6', 'limit': 32.0, 'unit': 'A',
                                           'phases': 3, 'voltage': 230.0, 'stack_level': 0, 'profile_id': 1},
                                          RunContext())
    assert not [a for a, _ in station.sent if a == 'SetChargingProfile']
