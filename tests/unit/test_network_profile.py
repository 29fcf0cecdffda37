# -*- coding: utf-8 -*-
"""Network profile guards, salted hashes of secrets and comparison with what the CSMS kept."""

from __future__ import annotations

import hashlib
import os

import pytest

from ansible_collections.evcs.provisioning.plugins.module_utils.charging_limit import convert, profile_payload, profile_view
from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure
from ansible_collections.evcs.provisioning.plugins.module_utils.network_profile import (
    check_url, connection_data, masked, profile_matches, salted_hash_matches,
)


def _params(**extra):
    params = {'ocpp_version': 'OCPP20', 'ocpp_transport': 'JSON', 'ocpp_csms_url': 'wss://csms.example.net/ocpp',
              'message_timeout': 30, 'security_profile': 2, 'interface': 'Wireless0', 'apn': None, 'vpn': None}
    params.update(extra)
    return params


APN = {'apn': 'iot.example', 'apn_user_name': 'evcs', 'apn_password': 's3cret-apn', 'sim_pin': 1234,
       'preferred_network': None, 'use_only_preferred_network': None, 'apn_authentication': 'AUTO'}


def test_connection_data_uses_schema_spelling():
    data = connection_data(_params(apn=APN))
    assert data['ocppCsmsUrl'] == 'wss://csms.example.net/ocpp'
    assert data['ocppInterface'] == 'Wireless0'
    assert data['apn'] == {'apn': 'iot.example', 'apnUserName': 'evcs', 'apnPassword': 's3cret-apn', 'simPin': 1234,
                           'apnAuthentication': 'AUTO'}


def test_masked_hides_secrets():
    shown = masked(connection_data(_params(apn=APN)))
    assert shown['apn']['apnPassword'] == '********' and shown['apn']['simPin'] == '********'


@pytest.mark.parametrize('url,profile,hosts,match', [
    ('ws://csms.example.net/ocpp', 2, None, 'needs a wss:// URL'),
    ('wss://csms.example.net/ocpp', 1, None, 'needs a ws:// URL'),
    ('wss://csms.prod.example.net/ocpp', 3, ['csms.test.example.net'], 'not a CSMS of this environment'),
    ('csms.example.net/ocpp', 1, None, 'needs a ws:// URL'),
])
def test_url_guards_refuse_before_sending(url, profile, hosts, match):
    with pytest.raises(ModuleFailure, match=match) as error:
        check_url('CP1', url, profile, hosts)
    assert 'CP1' in str(error.value) and url in str(error.value)


def test_url_guard_accepts_an_allowed_host():
    check_url('CP1', 'wss://127.0.0.1:9443/ocpp', 3, ['127.0.0.1'])


def test_charging_limit_unit_conversion():
    assert convert(16, 'A', 'W', 3, 230) == 11040.0
    assert convert(11040, 'W', 'A', 3, 230) == 16.0
    assert convert(16, 'A', 'A', 3, 230) == 16


def _csms_kept(data):
    """Connection data as the reference CSMS keeps it: each secret as {salt, sha256(salt + value)}."""
    kept = {key: (dict(value) if isinstance(value, dict) else value) for key, value in data.items()}
    for key in ('apnPassword', 'simPin'):
        salt = os.urandom(8).hex()
        kept['apn'][key] = {'salt': salt, 'sha256': hashlib.sha256((salt + str(data['apn'][key])).encode()).hexdigest()}
    return kept


def test_profile_kept_by_the_csms_matches_by_recomputing_the_salted_hash():
    data = connection_data(_params(apn=APN))
    kept = _csms_kept(data)
    assert salted_hash_matches(kept['apn']['apnPassword'], 's3cret-apn')
    assert salted_hash_matches(kept['apn']['simPin'], 1234)
    assert profile_matches(data, kept)
    assert not profile_matches(connection_data(_params(apn=dict(APN, apn_password='other'))), kept)
    assert not profile_matches(connection_data(_params(apn=dict(APN, sim_pin=4321))), kept)
    assert not profile_matches(connection_data(_params(apn=APN, ocpp_csms_url='wss://other.example.net/ocpp')), kept)
    assert not salted_hash_matches({'salt': 'x'}, 's3cret-apn')
    assert masked(kept)['apn']['apnPassword'] == '********'


def test_charging_profile_read_back_compares_by_meaning_not_formatting():
    params = {'profile_id': 1, 'stack_level': 0, 'phases': 3}
    desired = profile_payload(params, 'A', 32.0)['chargingProfile']
    reported = dict(desired, chargingSchedule=[dict(desired['chargingSchedule'][0], startSchedule='2020-01-01T00:00:00.000+00:00',
                                                    chargingSchedulePeriod=[{'startPeriod': 0, 'limit': 32, 'numberPhases': 3}])])
    assert profile_view(reported) == profile_view(desired)
    lowered = profile_payload(params, 'A', 16.0)['chargingProfile']
    assert profile_view(lowered) != profile_view(desired)
    assert profile_view(dict(desired, validTo='2030-01-01T00:00:00Z')) != profile_view(desired)
