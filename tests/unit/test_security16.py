"""OCPP 1.6 Security Extension rules (module_utils/station/security16.py): the AuthorizationKey format, the
certificate CN of a 1.6 station (its serial), the 1.6 messages and the downgrade rule."""

from __future__ import annotations

import pytest

from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure
from ansible_collections.evcs.provisioning.plugins.module_utils.station import security16 as s16


# -- AuthorizationKey ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize('length', [16, 18, 20])
def test_generated_password_fits_the_key(length):
    password = s16.new_password(length)
    assert len(password.encode()) == length
    key = s16.authorization_key(password)
    assert len(key) == 2 * length and s16.authorization_key_problem(key) is None
    assert bytes.fromhex(key).decode() == password


def test_octt_example_key_is_the_hex_of_the_password():
    # OCTT TC_073_CS sends "OCA_OCTT_admin_test" hex encoded
    assert s16.authorization_key('OCA_OCTT_admin_test') == '4F43415F4F4354545F61646D696E5F74657374'


@pytest.mark.parametrize('length', [15, 21, 32, 40])
def test_lengths_outside_16_to_20_bytes_are_refused(length):
    assert '16 to 20 bytes' in s16.length_problem(length)
    with pytest.raises(ModuleFailure, match='16 to 20 bytes'):
        s16.new_password(length)


@pytest.mark.parametrize('value, problem', [
    ('00' * 15, '30 hexadecimal digits'),
    ('00' * 21, '42 hexadecimal digits'),
    ('0' * 33, 'not a hexadecimal representation'),
    ('zz' * 16, 'not a hexadecimal representation'),
    ('secret-password-of-20', 'not a hexadecimal representation'),
])
def test_bad_keys_are_named_without_the_value(value, problem):
    found = s16.authorization_key_problem(value)
    assert problem in found and value not in found


@pytest.mark.parametrize('value', ['ab' * 16, 'AB' * 20, '0123456789abcdefABCDEF0123456789abcd'])
def test_good_keys(value):
    assert s16.authorization_key_problem(value) is None


def test_a_short_password_is_no_key():
    with pytest.raises(ModuleFailure, match='12 bytes long'):
        s16.authorization_key('twelve-bytes')


# -- certificate CN ---------------------------------------------------------------------------------------------
def test_cn_is_the_serial_not_the_station_id():
    assert s16.certificate_common_name('LAB-CP-0005', 'SIM-0005', {'boot': {'chargePointSerialNumber': 'SIM-0005'}}) \
        == 'SIM-0005'


def test_cn_from_the_boot_when_the_inventory_has_none():
    assert s16.certificate_common_name('CP-1', None, {'boot': {'chargePointSerialNumber': 'SN-77'}}) == 'SN-77'


def test_a_serial_that_differs_from_the_boot_is_refused():
    with pytest.raises(ModuleFailure, match="reports serial 'SIM-9999'.*fix evcs_station.serial_number"):
        s16.certificate_common_name('LAB-CP-0005', 'SIM-0005', {'boot': {'chargePointSerialNumber': 'SIM-9999'}})


@pytest.mark.parametrize('serial, problem', [
    (None, 'missing'), ('', 'missing'), ('A.B-1', 'host name'), ('ab/12', 'host name'), ('10.0.0.1', 'host name'),
    ('::1', 'host name'), ('X' * 26, 'longer than'),
])
def test_unusable_serials(serial, problem):
    assert problem in s16.serial_cn_problem(serial)
    with pytest.raises(ModuleFailure, match='serial_number'):
        s16.certificate_common_name('CP-1', serial, {})


def test_a_plain_serial_without_a_dash_is_usable():
    assert s16.serial_cn_problem('A0012345') is None


# -- messages -----------------------------------------------------------------------------------------------------
def test_messages_follow_the_1_6_schemas():
    from ocpp.v16 import call
    action, payload = s16.csr_trigger()
    assert (action, payload) == ('ExtendedTriggerMessage', {'requestedMessage': 'SignChargePointCertificate'})
    call.ExtendedTriggerMessage(requested_message=payload['requestedMessage'])
    assert s16.certificate_signed('PEM') == ('CertificateSigned', {'certificateChain': 'PEM'})
    assert s16.installed_request('CentralSystemRootCertificate') == (
        'GetInstalledCertificateIds', {'certificateType': 'CentralSystemRootCertificate'})


def test_schema_validation_of_the_messages():
    import asyncio
    from ocpp.messages import Call, validate_payload
    for action, payload in (s16.csr_trigger(), s16.certificate_signed('x'),
                            s16.installed_request(s16.root_type('CSMSRootCertificate', 'CP')),
                            ('ChangeConfiguration', {'key': s16.AUTHORIZATION_KEY,
                                                     'value': s16.authorization_key(s16.new_password())})):
        asyncio.run(validate_payload(Call(unique_id='1', action=action, payload=payload), '1.6'))
    with pytest.raises(Exception):
        asyncio.run(validate_payload(Call(unique_id='1', action='CertificateSigned',
                                          payload={'certificateChain': 'x', 'certificateType': 'ChargePointCertificate'}),
                                     '1.6'))


def test_root_types():
    assert s16.root_type('CSMSRootCertificate', 'CP') == 'CentralSystemRootCertificate'
    assert s16.root_type('ManufacturerRootCertificate', 'CP') == 'ManufacturerRootCertificate'
    with pytest.raises(ModuleFailure, match='V2GRootCertificate cannot be installed'):
        s16.root_type('V2GRootCertificate', 'CP')


def test_installed_hash_data():
    data = {'hashAlgorithm': 'SHA256', 'issuerNameHash': 'a', 'issuerKeyHash': 'b', 'serialNumber': 'c'}
    assert s16.installed_hash_data({'status': 'Accepted', 'certificateHashData': [data]}) == [data]
    assert s16.installed_hash_data({'status': 'NotFound'}) == []


# -- profile rules ------------------------------------------------------------------------------------------------
def test_raising_is_allowed_lowering_never():
    assert s16.profile_refusal('CP', 0, 1) is None
    assert s16.profile_refusal('CP', 2, 3) is None
    assert s16.profile_refusal('CP', 3, 3) is None
    refusal = s16.profile_refusal('CP', 3, 2)
    assert 'A00.FR.005' in refusal and 'allow_downgrade cannot override' in refusal


def test_reconnected():
    before = {'online': True, 'connections_total': 3, 'connected_at': 't1'}
    assert not s16.reconnected(before, dict(before))
    assert s16.reconnected(before, dict(before, connections_total=4))
    assert not s16.reconnected(before, {'online': False, 'connections_total': 4})
    assert s16.reconnected({'connected_at': 't1'}, {'online': True, 'connected_at': 't2'})


def test_the_reported_serial_as_the_reference_csms_keeps_a_1_6_boot():
    connection = {'boot': {'status': 'Accepted', 'charge_point': {'chargePointSerialNumber': 'SIM-0005'}}}
    assert s16.reported_serial(connection) == 'SIM-0005'
    with pytest.raises(ModuleFailure, match='reports serial'):
        s16.certificate_common_name('LAB-CP-0005', 'SIM-0006', connection)


def test_new_authorization_key_is_random_text_in_hex():
    key = s16.new_authorization_key()
    assert len(key) == 40 and key == key.upper() and s16.authorization_key_problem(key) is None
    # printable ASCII bytes: a CSMS that decodes the Basic-auth password as UTF-8 text can store and compare it
    assert bytes.fromhex(key).decode('ascii').isprintable()
    assert s16.new_authorization_key() != key
    assert s16.hex_of('OCA_OCTT_admin_test') == '4F43415F4F4354545F61646D696E5F74657374'


# -- validate -----------------------------------------------------------------------------------------------------
def _station16(serial, profile=3):
    import copy
    import pathlib
    import yaml
    from ansible_collections.evcs.provisioning.plugins.module_utils.desired_state import load_station
    host_vars = copy.deepcopy(yaml.safe_load((pathlib.Path(__file__).parent / 'data' / 'good_charger.yml').read_text()))
    host_vars['evcs_station'].update(serial_number=serial, security_profile=profile, ocpp_version='1.6',
                                     vendor='EVCS Sim', model='SimCharger AC11-16')
    return load_station('charger-1', host_vars)[1]


def test_validate_refuses_a_serial_that_cannot_be_the_cn_of_a_profile_3_station():
    problems = [p for p in _station16('SN.0001/A') if 'evcs_station.serial_number' in p]
    assert len(problems) == 1 and 'A00.FR.405' in problems[0] and 'SN.0001/A' in problems[0]
    assert not [p for p in _station16('SN.0001/A', profile=2) if 'A00.FR.405' in p]
    assert not [p for p in _station16('SN-0001') if 'A00.FR.405' in p]
