"""The commissioning checklist: evaluation of observations (pure) and the controller-side probes (real sockets)."""

from __future__ import annotations

import datetime
import socket
import ssl
import threading

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.evcs.provisioning.plugins.module_utils import commissioning
from ansible_collections.evcs.provisioning.plugins.module_utils.charging_limit import profile_payload, profile_view
from ansible_collections.evcs.provisioning.plugins.module_utils.commissioning import (
    CHECKS, FAIL, PASS, SKIP, certificate_facts, endpoint_of, evaluate, expected_limit, failure_message,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure

NOW = datetime.datetime(2026, 11, 26, 12, 0, 0, tzinfo=datetime.timezone.utc)
STATION = 'LAB-CP-0001'


def _rfc3339(moment):
    return moment.isoformat().replace('+00:00', 'Z')


def _certificate(common_name, issuer_key=None, issuer_name=None, days=365, ip=None, ca=False):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name or subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1))
               .not_valid_after(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ip:
        import ipaddress
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False)
    return key, builder.sign(issuer_key or key, hashes.SHA256())


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode('ascii')


def _variable(component, variable, value, write_only=False):
    return {'component': {'name': component}, 'variable': {'name': variable}, 'value': value, 'write_only': write_only}


def _read_back(heartbeat='300', remote_start='True', measurands='Energy.Active.Import.Register,Power.Active.Import',
               remote_start_status='Accepted'):
    return {'OCPPCommCtrlr.HeartbeatInterval': {'attributeStatus': 'Accepted', 'attributeValue': heartbeat},
            'AuthCtrlr.AuthorizeRemoteStart': {'attributeStatus': remote_start_status, 'attributeValue': remote_start},
            'SampledDataCtrlr.TxUpdatedMeasurands': {'attributeStatus': 'Accepted', 'attributeValue': measurands}}


def _params(**overrides):
    params = dict(station_id=STATION, csms_endpoint='wss://127.0.0.1:9443/ocpp/' + STATION, security_profile=3,
                  trust_anchor_path='/etc/evcs/root.pem', heartbeat_interval=300, certificate_min_days=30,
                  device_model=[_variable('OCPPCommCtrlr', 'HeartbeatInterval', 300),
                                _variable('AuthCtrlr', 'AuthorizeRemoteStart', True),
                                _variable('SampledDataCtrlr', 'TxUpdatedMeasurands', ['Power.Active.Import', 'Energy.Active.Import.Register']),
                                _variable('SecurityCtrlr', 'BasicAuthPassword', 'factory-secret', write_only=True)],
                  connectors=None, local_list_version=3, charging_limit={'limit': 32.0, 'unit': 'A'}, optional_checks=[])
    params.update(overrides)
    return params


def _observations(client_pem, **overrides):
    connection = {'online': True, 'security_profile': 3, 'connected_at': _rfc3339(NOW), 'client_certificate': client_pem,
                  'boot': {'status': 'Accepted'}, 'last_heartbeat': _rfc3339(NOW - datetime.timedelta(seconds=200)),
                  'last_message_at': None,
                  'connectors': [{'evse_id': 1, 'connector_id': 1, 'status': 'Available'}]}
    observations = {
        'now': NOW, 'endpoint': {'scheme': 'wss', 'host': '127.0.0.1', 'port': 9443},
        'dns': {'addresses': ['127.0.0.1']}, 'tcp': {'peer': '127.0.0.1:9443'},
        'tls': {'tls_version': 'TLSv1.3', 'subject_cn': 'csms', 'issuer_cn': 'root', 'serial': '1f', 'not_after': 'x'},
        'connection': connection,
        'variables': _read_back(),
        'local_list': {'versionNumber': 3},
        'charging_profiles': {'profiles': [_max_profile(32.0)]},
        'local_list_memory': None,
        'station_record': {'id': STATION},
        'staging': {'accepted': False},
    }
    for key, value in overrides.items():
        if key in connection:
            connection[key] = value
        else:
            observations[key] = value
    return observations


def _max_profile(limit, unit='A', stack_level=0):
    """A ChargingStationMaxProfile as the station reports it, in the form charging_limit compares (profile_view)."""
    payload = profile_payload({'profile_id': 1, 'stack_level': stack_level, 'phases': 3}, unit, limit)
    return profile_view(payload['chargingProfile'])


@pytest.fixture(scope='module')
def station_pem():
    ca_key, ca = _certificate('Charger Issuing CA', ca=True)
    return _pem(_certificate(STATION, issuer_key=ca_key, issuer_name=ca.subject)[1])


def _items(checklist):
    return dict((item['name'], item) for item in checklist)


def test_a_healthy_station_passes_every_item(station_pem):
    checklist = evaluate(_params(), _observations(station_pem))
    assert [item['name'] for item in checklist] == list(CHECKS)
    assert dict((i['name'], i['status']) for i in checklist) == dict((name, PASS) for name in CHECKS)
    mtls = _items(checklist)['station_mtls']['evidence']
    assert mtls['subject_cn'] == STATION and mtls['issuer_cn'] == 'Charger Issuing CA' and mtls['serial'] == mtls['serial'].lower()


def test_device_model_drift_names_the_variable_and_both_values(station_pem):
    observations = _observations(station_pem, variables=_read_back(heartbeat='120'))
    checklist = evaluate(_params(), observations)
    item = _items(checklist)['device_model']
    assert item['status'] == FAIL and item['evidence']['checked'] == 3  # the write-only password is not read back
    assert item['evidence']['mismatches'] == [{'variable': 'OCPPCommCtrlr.HeartbeatInterval', 'expected': '300',
                                               'actual': '120', 'status': 'Accepted'}]
    assert 'OCPPCommCtrlr.HeartbeatInterval is 120, expected 300' in failure_message(STATION, checklist)


def test_a_rejected_read_back_fails(station_pem):
    observations = _observations(station_pem, variables=_read_back(remote_start=None, remote_start_status='UnknownVariable'))
    item = _items(evaluate(_params(), observations))['device_model']
    assert item['status'] == FAIL and item['evidence']['mismatches'][0]['status'] == 'UnknownVariable'
    del observations['variables']['AuthCtrlr.AuthorizeRemoteStart']
    item = _items(evaluate(_params(), observations))['device_model']
    assert item['evidence']['mismatches'][0]['status'] == 'NotReported'


def test_a_failed_read_back_fails_with_the_error(station_pem):
    observations = _observations(station_pem, variables={'error': 'station LAB-CP-0001: GetVariables failed: timeout'})
    item = _items(evaluate(_params(), observations))['device_model']
    assert item['status'] == FAIL and 'timeout' in item['evidence']['error']


def test_an_offline_station_fails_online_and_skips_what_needs_it(station_pem):
    observations = _observations(station_pem, online=False)
    for key in ('variables', 'local_list', 'charging_profiles', 'local_list_memory'):
        del observations[key]
    items = _items(evaluate(_params(), observations))
    assert items['station_online']['status'] == FAIL
    assert [items[n]['status'] for n in ('heartbeat_recent', 'device_model', 'connectors_available',
                                         'local_list_version', 'load_management_cap')] == [SKIP] * 5


def test_boot_pending_or_wrong_security_profile_fails_online(station_pem):
    assert _items(evaluate(_params(), _observations(station_pem, boot={'status': 'Pending'})))['station_online']['status'] == FAIL
    item = _items(evaluate(_params(), _observations(station_pem, security_profile=2)))['station_online']
    assert item['status'] == FAIL and 'security profile 2' in item['evidence']['error']


def test_heartbeat_older_than_twice_the_interval_fails(station_pem):
    stale = _rfc3339(NOW - datetime.timedelta(seconds=601))
    item = _items(evaluate(_params(), _observations(station_pem, last_heartbeat=stale)))['heartbeat_recent']
    assert item['status'] == FAIL and item['evidence']['allowed_s'] == 600
    recent_message = _rfc3339(NOW - datetime.timedelta(seconds=10))
    observations = _observations(station_pem, last_heartbeat=stale, last_message_at=recent_message)
    assert _items(evaluate(_params(), observations))['heartbeat_recent']['status'] == PASS


def test_profile_3_without_a_client_certificate_fails_mtls():
    items = _items(evaluate(_params(), _observations(None)))
    assert items['station_mtls']['status'] == FAIL and items['certificate_validity']['status'] == SKIP
    items = _items(evaluate(_params(security_profile=1, csms_endpoint='ws://127.0.0.1:9000/ocpp/x'),
                            _observations(None, security_profile=1)))
    assert items['station_mtls']['status'] == SKIP


def test_a_certificate_naming_another_station_fails_mtls():
    other = _pem(_certificate('LAB-CP-0999')[1])
    item = _items(evaluate(_params(), _observations(other)))['station_mtls']
    assert item['status'] == FAIL and 'LAB-CP-0999' in item['evidence']['error']


def test_certificate_days_left_below_threshold_fails():
    short = _pem(_certificate(STATION, days=10)[1])
    observations = _observations(short, now=datetime.datetime.now(datetime.timezone.utc))
    item = _items(evaluate(_params(), observations))['certificate_validity']
    assert item['status'] == FAIL and item['evidence']['days_left'] < 30


def test_connectors_not_available_or_not_reported_fail(station_pem):
    faulted = [{'evse_id': 1, 'connector_id': 1, 'status': 'Faulted'}]
    item = _items(evaluate(_params(), _observations(station_pem, connectors=faulted)))['connectors_available']
    assert item['status'] == FAIL and item['evidence']['connectors'] == {'1/1': 'Faulted'}
    expected = [{'evse_id': 1, 'connector_id': 1}, {'evse_id': 2, 'connector_id': 1}]
    item = _items(evaluate(_params(connectors=expected), _observations(station_pem)))['connectors_available']
    assert item['status'] == FAIL and item['evidence']['connectors']['2/1'] == 'NotReported'


def test_local_list_version_is_compared_with_the_given_or_the_recorded_version(station_pem):
    observations = _observations(station_pem, local_list={'versionNumber': 2})
    assert _items(evaluate(_params(), observations))['local_list_version']['status'] == FAIL
    assert _items(evaluate(_params(local_list_version=None), observations))['local_list_version']['status'] == SKIP
    observations['local_list_memory'] = {'version': 2, 'hash': 'x'}
    assert _items(evaluate(_params(local_list_version=None), observations))['local_list_version']['status'] == PASS


def test_load_management_cap_needs_a_max_profile_with_the_planned_limit(station_pem):
    item = _items(evaluate(_params(), _observations(station_pem, charging_profiles={'profiles': []})))['load_management_cap']
    assert item['status'] == FAIL and item['evidence']['in_force'] is None and 'holds no' in item['evidence']['error']
    item = _items(evaluate(_params(), _observations(station_pem, charging_profiles={'profiles': [_max_profile(16.0)]})))
    item = item['load_management_cap']
    assert item['status'] == FAIL and item['evidence']['in_force']['limit'] == 16.0 and '32.0 A' in item['evidence']['error']


def test_the_highest_stack_level_is_the_limit_in_force(station_pem):
    profiles = [_max_profile(32.0, stack_level=0), _max_profile(10.0, stack_level=5)]
    item = _items(evaluate(_params(), _observations(station_pem, charging_profiles={'profiles': profiles})))['load_management_cap']
    assert item['status'] == FAIL and item['evidence']['in_force'] == {'limit': 10.0, 'unit': 'A', 'stack_level': 5}


def test_a_failed_read_back_of_the_profiles_fails_with_the_error(station_pem):
    observations = _observations(station_pem, charging_profiles={'error': 'ReportChargingProfiles did not reach the CSMS'})
    item = _items(evaluate(_params(), observations))['load_management_cap']
    assert item['status'] == FAIL and 'did not reach' in item['evidence']['error']


def test_a_limit_the_station_took_in_watts_is_compared_converted(station_pem):
    watts = expected_limit({'limit': 32.0, 'unit': 'A'}, 'W')['limit']
    assert watts == 22080.0
    observations = _observations(station_pem, charging_profiles={'profiles': [_max_profile(watts, unit='W')]})
    assert _items(evaluate(_params(), observations))['load_management_cap']['status'] == PASS


def test_an_optional_item_is_reported_but_not_required(station_pem):
    faulted = [{'evse_id': 1, 'connector_id': 1, 'status': 'Occupied'}]
    checklist = evaluate(_params(optional_checks=['connectors_available']), _observations(station_pem, connectors=faulted))
    item = _items(checklist)['connectors_available']
    assert item['status'] == FAIL and item['required'] is False
    assert not [i for i in checklist if i['status'] == FAIL and i['required']]


def test_dns_failure_skips_the_probes_that_need_an_address(station_pem):
    observations = _observations(station_pem, dns={'error': 'cannot resolve csms.invalid'})
    del observations['tcp'], observations['tls']
    items = _items(evaluate(_params(), observations))
    assert (items['csms_dns']['status'], items['csms_tcp']['status'], items['csms_tls']['status']) == (FAIL, SKIP, SKIP)


def test_endpoint_of():
    assert endpoint_of('wss://csms.example.net/ocpp/CP-1') == ('wss', 'csms.example.net', 443)
    assert endpoint_of('ws://127.0.0.1:9000/ocpp/CP-1') == ('ws', '127.0.0.1', 9000)
    with pytest.raises(ModuleFailure, match='not a ws:// or wss:// URL'):
        endpoint_of('https://csms.example.net')


# -- the probes, against a real TLS listener on loopback ----------------------------------------------------------
@pytest.fixture(scope='module')
def tls_server(tmp_path_factory):
    directory = tmp_path_factory.mktemp('tls')
    ca_key, ca = _certificate('Test Root CA', ca=True)
    server_key, server = _certificate('csms.test', issuer_key=ca_key, issuer_name=ca.subject, ip='127.0.0.1')
    (directory / 'root.pem').write_text(_pem(ca))
    (directory / 'server.pem').write_text(_pem(server))
    (directory / 'server.key').write_bytes(server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                                    serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(directory / 'server.pem'), str(directory / 'server.key'))
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def _serve():
        while not stop.is_set():
            try:
                conn = listener.accept()[0]
            except OSError:
                continue
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                conn.close()

    thread = threading.Thread(target=_serve, daemon=True)
    thread.start()
    yield {'port': listener.getsockname()[1], 'root': str(directory / 'root.pem')}
    stop.set()
    thread.join(2)
    listener.close()


def test_probes_of_a_reachable_tls_endpoint(tls_server):
    assert commissioning._resolve('127.0.0.1', tls_server['port']) == {'addresses': ['127.0.0.1']}
    assert 'peer' in commissioning._connect('127.0.0.1', tls_server['port'], 2)
    tls = commissioning._handshake('127.0.0.1', tls_server['port'], tls_server['root'], 2)
    assert tls['subject_cn'] == 'csms.test' and tls['issuer_cn'] == 'Test Root CA' and tls['tls_version'].startswith('TLS')


def test_handshake_with_the_wrong_trust_anchor_fails(tls_server, tmp_path):
    other = tmp_path / 'other.pem'
    other.write_text(_pem(_certificate('Other Root', ca=True)[1]))
    tls = commissioning._handshake('127.0.0.1', tls_server['port'], str(other), 2)
    assert 'error' in tls and 'CERTIFICATE_VERIFY_FAILED' in tls['error']


def test_closed_port_and_unknown_name_fail():
    free = socket.socket()
    free.bind(('127.0.0.1', 0))
    port = free.getsockname()[1]
    free.close()
    assert 'error' in commissioning._connect('127.0.0.1', port, 1)
    assert 'error' in commissioning._resolve('csms.invalid', 443)


def test_certificate_facts_from_pem_and_der():
    cert = _certificate(STATION)[1]
    from_pem = certificate_facts(_pem(cert))
    assert from_pem == certificate_facts(cert.public_bytes(serialization.Encoding.DER))
    assert from_pem['serial'] == '%x' % cert.serial_number and from_pem['not_after'].endswith('Z')


# -- an OCPP 1.6 station ---------------------------------------------------------------------------------------------
def _params16(**overrides):
    keys = [{'key': 'HeartbeatInterval', 'value': 300}, {'key': 'AuthorizeRemoteTxRequests', 'value': True},
            {'key': 'MeterValuesSampledData', 'value': ['Power.Active.Import', 'Energy.Active.Import.Register']},
            {'key': 'AuthorizationKey', 'value': '00' * 16, 'write_only': True}]
    return _params(device_model=[], configuration_keys=keys, connectors=[{'evse_id': 1, 'connector_id': 1}],
                   **overrides)


def _observations16(client_pem, heartbeat='300', **overrides):
    results = {'HeartbeatInterval': {'attributeStatus': 'Accepted', 'attributeValue': heartbeat},
               'AuthorizeRemoteTxRequests': {'attributeStatus': 'Accepted', 'attributeValue': 'true'},
               'MeterValuesSampledData': {'attributeStatus': 'Accepted',
                                          'attributeValue': 'Energy.Active.Import.Register,Power.Active.Import'}}
    # the reference CSMS files a 1.6 connector under EVSE 0 with its connectorId
    overrides.setdefault('connectors', [{'evse_id': 0, 'connector_id': 0, 'status': 'Available'},
                                        {'evse_id': 0, 'connector_id': 1, 'status': 'Available'}])
    # a 1.6 charge point certificate names the serial number the station reports at boot (A00.FR.405)
    overrides.setdefault('boot', {'status': 'Accepted', 'charge_point': {'chargePointSerialNumber': SERIAL16}})
    return _observations(client_pem, variables=results, local_list={'listVersion': 3}, ocpp_version='1.6', **overrides)


SERIAL16 = 'SN-16-0001'


@pytest.fixture
def station16_pem():
    ca_key, ca = _certificate('Charger Issuing CA', ca=True)
    return _pem(_certificate(SERIAL16, issuer_key=ca_key, issuer_name=ca.subject)[1])


def test_a_healthy_16_station_passes_with_its_keys_connectors_and_list_version(station16_pem):
    checklist = _items(evaluate(_params16(), _observations16(station16_pem)))
    assert dict((name, item['status']) for name, item in checklist.items()) == dict((name, PASS) for name in CHECKS)
    assert checklist['device_model']['evidence'] == {'checked': 3, 'mismatches': []}   # not the write-only key
    assert checklist['connectors_available']['evidence'] == {'connectors': {'1': 'Available'}}


def test_a_16_certificate_naming_the_station_id_fails_mtls(station_pem):
    item = _items(evaluate(_params16(), _observations16(station_pem)))['station_mtls']
    assert item['status'] == FAIL and 'not the serial number the station reports %s' % SERIAL16 in item['evidence']['error']


def test_a_16_key_changed_on_the_station_is_named(station_pem):
    item = _items(evaluate(_params16(), _observations16(station_pem, heartbeat='45')))['device_model']
    assert item['status'] == FAIL
    assert item['evidence']['mismatches'] == [{'variable': 'HeartbeatInterval', 'expected': '300', 'actual': '45',
                                               'status': 'Accepted'}]


def test_a_16_connector_not_reported_or_not_available_fails(station_pem):
    observations = _observations16(station_pem, connectors=[{'evse_id': 0, 'connector_id': 1, 'status': 'Faulted'}])
    item = _items(evaluate(_params16(), observations))['connectors_available']
    assert item['status'] == FAIL and '1 is Faulted' in item['evidence']['error']
