"""Stages on backends with and without capabilities: password rotation, charging-profile read-back."""

from __future__ import annotations

from ansible_collections.evcs.provisioning.plugins.module_utils import basic_auth
from ansible_collections.evcs.provisioning.plugins.module_utils.context import RunContext
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CAPABILITIES, CsmsBackend


class PasswordCsms(CsmsBackend):
    NAME = 'pw'

    def __init__(self, capabilities, accepted=(), online=True):
        self.CAPABILITIES = frozenset(capabilities)
        self.accepted = list(accepted)
        self.online = online
        self.writes = []

    def call(self, station_id, action, payload, timeout=None):
        raise AssertionError('no OCPP here')

    def connection(self, station_id):
        return {'online': self.online}

    def read_record(self, kind, record_id):
        return None

    create_record = update_record = delete_record = find_records = read_record

    def set_station_password(self, station_id, password):
        self.writes.append(('set', password))
        self.accepted = [password]

    def add_station_password(self, station_id, password):
        self.require('password_rotation')
        self.writes.append(('add', password))
        self.accepted.append(password)

    def verify_station_password(self, station_id, password):
        self.require('password_check')
        return password in self.accepted


def test_in_place_with_a_password_check_needs_the_new_password_and_not_the_old_one():
    backend = PasswordCsms(CAPABILITIES, accepted=['new'])
    assert basic_auth._in_place(backend, 'CP-1', 'new', None, RunContext())
    backend.accepted.append('old')
    assert not basic_auth._in_place(backend, 'CP-1', 'new', 'old', RunContext())
    assert not basic_auth._in_place(PasswordCsms(CAPABILITIES, accepted=['new'], online=False), 'CP-1', 'new', None,
                                    RunContext())


def test_in_place_without_a_password_check_is_reported_and_a_pending_rotation_is_finished():
    backend = PasswordCsms(set(CAPABILITIES) - {'password_check'})
    context = RunContext()
    assert basic_auth._in_place(backend, 'CP-1', 'new', None, context)
    assert context.unverifiable == ['not verifiable with backend pw: whether the CSMS accepts the Vault password of '
                                    'station CP-1: backend pw cannot tell whether it accepts a given BasicAuth '
                                    'password for a station']
    assert not basic_auth._in_place(backend, 'CP-1', 'new', 'old', RunContext()), 'a rotation left half-done'


def test_register_adds_beside_the_current_password_or_waits_for_the_station_on_a_one_password_backend():
    rotating = PasswordCsms(CAPABILITIES, accepted=['old'])
    assert basic_auth._register(rotating, 'CP-1', 'new', 'old', None) is True
    assert rotating.writes == [('add', 'new')] and rotating.accepted == ['old', 'new']
    factory = PasswordCsms(CAPABILITIES)
    assert basic_auth._register(factory, 'CP-1', 'new', None, 'factory-password') is True
    assert factory.writes == [('set', 'factory-password'), ('add', 'new')]
    single = PasswordCsms(set(CAPABILITIES) - {'password_rotation', 'password_check'}, accepted=['old'])
    assert basic_auth._register(single, 'CP-1', 'new', 'old', None) is False
    assert single.writes == [], 'nothing is registered before the station took the new password'


class _Session(object):
    station_id = 'CP-1'

    @staticmethod
    def call(action, payload):
        assert action == 'GetChargingProfiles'
        return {'status': 'Accepted'}


def test_charging_profiles_the_backend_cannot_show_are_reported_not_guessed():
    import pytest
    from ansible_collections.evcs.provisioning.plugins.module_utils import charging_limit
    from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CapabilityMissing

    backend = PasswordCsms(set(CAPABILITIES) - {'station_messages'})
    context = RunContext()
    assert charging_limit.station_max_profiles(_Session(), backend, context=context) is None
    assert context.unverifiable == ['not verifiable with backend pw: the ChargingStationMaxProfile station CP-1 holds: '
                                    'backend pw cannot show the messages a station sent on its own (SignCertificate, '
                                    'NotifyReport, ReportChargingProfiles)']
    with pytest.raises(CapabilityMissing):
        charging_limit.station_max_profiles(_Session(), backend)
