# -*- coding: utf-8 -*-
"""Network profile guards, fingerprints and record comparison."""

from __future__ import annotations

import pytest

from ansible_collections.evcs.provisioning.plugins.module_utils.charging_limit import convert
from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure
from ansible_collections.evcs.provisioning.plugins.module_utils.network_profile import (
    check_url, connection_data, fingerprint, masked, profile_matches, recordable,
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


def test_record_holds_fingerprints_not_secrets_and_still_matches():
    data = connection_data(_params(apn=APN))
    record = recordable(data)
    assert 's3cret-apn' not in repr(record) and '1234' not in repr(record).replace(record['apn']['simPin'], '')
    assert record['apn']['apnPassword'].startswith('sha256:')
    assert data['apn']['apnPassword'] == 's3cret-apn'  # the desired data is not changed
    assert profile_matches(data, record)
    assert not profile_matches(connection_data(_params(apn=dict(APN, apn_password='other'))), record)
    assert not profile_matches(connection_data(_params(apn=APN, message_timeout=60)), record)
    assert not profile_matches(data, None)


def test_fingerprints_are_salted():
    assert fingerprint('x') != fingerprint('x')
    assert fingerprint('x', 'salt') == fingerprint('x', 'salt')


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
