"""The reference CSMS (``python -m evcs_lab.csms``) as a station and as the collection see it.

A throwaway PKI (root -> issuing CA -> server and station certificates, plus a foreign CA and a CRL served over
HTTPS) is made with ``cryptography``; the CSMS runs as a subprocess on free ports; stations speak OCPP 2.0.1
with the ``ocpp`` library over ``websockets``, schema validation on.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import hashlib
import http.server
import ipaddress
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from ocpp.routing import after, on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake, InvalidStatus

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[3]
STAGING_PASSWORD = 'staging-password-0123'
API_TOKEN = 'test-api-token'
REVOKED_STATION = 'CP-REVOKED'


# -- a throwaway PKI -------------------------------------------------------------------------------------------
def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _certificate(subject_cn, issuer_cert, issuer_key, *, ca=False, server=False, serial=None):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)])
    issuer = issuer_cert.subject if issuer_cert is not None else subject
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
               .serial_number(serial or x509.random_serial_number())
               .not_valid_before(_now() - datetime.timedelta(minutes=5))
               .not_valid_after(_now() + datetime.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if issuer_cert is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_cert.public_key()), critical=False)
    if ca:
        builder = builder.add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False),
                                        critical=True)
    else:
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256()), key


def _pem(certificate):
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def _write_key_pair(directory: Path, name: str, certificate, key) -> tuple[str, str]:
    cert_path, key_path = directory / f'{name}.pem', directory / f'{name}.key'
    cert_path.write_text(_pem(certificate))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


@dataclass
class Pki:
    directory: Path
    root: str
    chain: str
    client_ca: str
    server: tuple[str, str]
    crl_der: bytes
    stations: dict  # name -> (cert path, key path)


def _make_pki(directory: Path) -> Pki:
    root, root_key = _certificate('Test Root CA', None, None, ca=True)
    issuing, issuing_key = _certificate('Test Charger Issuing CA', root, root_key, ca=True)
    foreign, foreign_key = _certificate('Foreign CA', None, None, ca=True)
    server, server_key = _certificate('csms', issuing, issuing_key, server=True)
    stations = {
        'CP-MTLS': _certificate('CP-MTLS', issuing, issuing_key),
        'CP-OTHER': _certificate('CP-OTHER', issuing, issuing_key),
        'CP-FOREIGN': _certificate('CP-MTLS', foreign, foreign_key),
        REVOKED_STATION: _certificate(REVOKED_STATION, issuing, issuing_key),
    }
    revoked = (x509.RevokedCertificateBuilder().serial_number(stations[REVOKED_STATION][0].serial_number)
               .revocation_date(_now()).build())
    crl = (x509.CertificateRevocationListBuilder().issuer_name(issuing.subject).last_update(_now())
           .next_update(_now() + datetime.timedelta(days=1)).add_revoked_certificate(revoked)
           .sign(issuing_key, hashes.SHA256()))
    (directory / 'root.pem').write_text(_pem(root))
    (directory / 'chain.pem').write_text(_pem(issuing) + _pem(root))
    (directory / 'server-fullchain.pem').write_text(_pem(server) + _pem(issuing))
    return Pki(directory=directory, root=str(directory / 'root.pem'), chain=str(directory / 'chain.pem'),
               client_ca=str(directory / 'chain.pem'), server=_write_key_pair(directory, 'server', server, server_key),
               crl_der=crl.public_bytes(serialization.Encoding.DER),
               stations={name: _write_key_pair(directory, name, cert, key) for name, (cert, key) in stations.items()})


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def _crl_server(pki: Pki):
    """Serve the DER CRL over HTTPS, as OpenBao serves /v1/<mount>/crl."""
    crl = pki.crl_der

    class _Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server naming
            self.send_response(200)
            self.send_header('Content-Type', 'application/pkix-crl')
            self.send_header('Content-Length', str(len(crl)))
            self.end_headers()
            self.wfile.write(crl)

        def log_message(self, *_):
            return

    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(pki.directory / 'server-fullchain.pem'), pki.server[1])
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield 'https://127.0.0.1:%d/v1/pki_lab/crl' % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


# -- the CSMS process --------------------------------------------------------------------------------------------
class CsmsProcess:
    def __init__(self, pki: Pki, home: Path, crl_url: str):
        self.pki = pki
        self.home = home
        self.config = {
            'host': '127.0.0.1', 'api_port': _free_port(),
            'ws_ports': {'1': _free_port(), '2': _free_port(), '3': _free_port()},
            'tls': {'cert': pki.server[0], 'key': pki.server[1], 'chain': pki.chain},
            'client_ca': pki.client_ca,
            'crl': {'url': crl_url, 'ca_cert': pki.root, 'refresh_seconds': 5},
            'api_token': API_TOKEN, 'staging_password': STAGING_PASSWORD,
            'db': str(home / 'csms.sqlite3'), 'log': str(home / 'csms.log'),
            'heartbeat_interval': 60, 'boot_retry_interval': 5, 'call_timeout': 10,
        }
        self.config_path = home / 'config.json'
        self.config_path.write_text(json.dumps(self.config))
        self.api_url = 'https://127.0.0.1:%d' % self.config['api_port']
        self.process = None

    def ws_url(self, profile: int, station_id: str) -> str:
        scheme = 'ws' if profile == 1 else 'wss'
        return '%s://127.0.0.1:%d/ocpp/%s' % (scheme, self.config['ws_ports'][str(profile)], station_id)

    def start(self) -> None:
        env = dict(os.environ, PYTHONPATH=str(REPO_ROOT / 'lab'))
        self.process = subprocess.Popen([sys.executable, '-m', 'evcs_lab.csms', '--config', str(self.config_path)],
                                        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail('the CSMS exited (%s): %s' % (self.process.returncode, self.process.stderr.read().decode()))
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(self.api_url + '/api/health', verify=self.pki.root, timeout=2).ok:
                    return
            time.sleep(0.1)
        pytest.fail('the CSMS did not answer /api/health within 20 s')

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=15)

    def api(self, method: str, path: str, token: str | None = API_TOKEN, **kwargs) -> requests.Response:
        headers = {'Authorization': 'Bearer %s' % token} if token else {}
        return requests.request(method, self.api_url + path, headers=headers, verify=self.pki.root, timeout=30,
                                **kwargs)

    async def api_async(self, method: str, path: str, **kwargs) -> requests.Response:
        """The REST API from inside a test's event loop (the station there must keep answering)."""
        return await asyncio.to_thread(self.api, method, path, **kwargs)

    def log(self) -> str:
        return Path(self.config['log']).read_text()


@pytest.fixture(scope='module')
def pki(tmp_path_factory) -> Pki:
    return _make_pki(tmp_path_factory.mktemp('csms-pki'))


@pytest.fixture(scope='module')
def csms(pki, tmp_path_factory):
    with _crl_server(pki) as crl_url:
        process = CsmsProcess(pki, tmp_path_factory.mktemp('csms'), crl_url)
        process.start()
        try:
            yield process
        finally:
            if process.process.poll() is None:
                process.stop()


# -- a station speaking OCPP 2.0.1 -------------------------------------------------------------------------------
class Station(ChargePoint):
    """Answers GetVariables with 42 for everything and honours TriggerMessage(BootNotification)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.boot_statuses = []

    async def boot(self) -> str:
        response = await self.call(call.BootNotification(
            charging_station={'model': 'Test Model', 'vendor_name': 'Test Vendor', 'serial_number': 'SN-1'},
            reason='PowerUp'))
        self.boot_statuses.append(response.status)
        return response.status

    @on(Action.get_variables)
    def on_get_variables(self, get_variable_data, **_):
        return call_result.GetVariables(get_variable_result=[
            {'attribute_status': 'Accepted', 'component': item['component'], 'variable': item['variable'],
             'attribute_value': '42'} for item in get_variable_data])

    @on(Action.trigger_message)
    def on_trigger_message(self, requested_message, **_):
        return call_result.TriggerMessage(status='Accepted')

    @after(Action.trigger_message)
    def after_trigger_message(self, requested_message, **_):
        if requested_message == 'BootNotification':
            return self.boot()
        return None


def _client_tls(pki: Pki, station_cert: str | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=pki.root)
    if station_cert:
        context.load_cert_chain(*pki.stations[station_cert])
    return context


def _basic(station_id: str, password: str) -> dict:
    token = base64.b64encode(('%s:%s' % (station_id, password)).encode()).decode()
    return {'Authorization': 'Basic %s' % token}


@contextlib.asynccontextmanager
async def station_online(url, station_id, password=None, tls=None, serve=True, station_class=None):
    """A connected station; ``serve=False`` gives a station that never reads (so never answers)."""
    headers = _basic(station_id, password) if password is not None else None
    async with connect(url, subprotocols=['ocpp2.0.1'], additional_headers=headers, ssl=tls,
                       open_timeout=5) as websocket:
        station = (station_class or Station)(station_id, websocket)
        task = asyncio.ensure_future(station.start()) if serve else None
        try:
            yield station
        finally:
            if task is not None:
                task.cancel()


async def _refused_status(url, station_id, password=None, tls=None) -> int:
    with pytest.raises(InvalidStatus) as refused:
        async with station_online(url, station_id, password, tls):
            pass
    return refused.value.response.status_code


async def _wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, 'condition not met within %s s' % timeout
        await asyncio.sleep(0.1)


# -- the tests ------------------------------------------------------------------------------------------------------
def test_api_needs_the_token_but_health_and_openapi_do_not(csms):
    health = csms.api('GET', '/api/health', token=None).json()
    assert health['status'] == 'ok' and health['time'].endswith('Z')
    assert csms.api('GET', '/api/stations', token=None).status_code == 401
    refused = csms.api('GET', '/api/stations', token='wrong')
    assert refused.status_code == 401 and refused.json()['error'] == 'unauthorized'
    document = csms.api('GET', '/openapi.json', token=None).json()
    assert document['openapi'].startswith('3.0')
    assert '/api/stations/{id}/ocpp/{action}' in document['paths']


def test_profile_1_basic_auth_with_the_staging_password_and_a_wrong_one(csms):
    async def scenario():
        async with station_online(csms.ws_url(1, 'CP-P1'), 'CP-P1', STAGING_PASSWORD) as station:
            assert await station.boot() == 'Pending'
        assert await _refused_status(csms.ws_url(1, 'CP-P1'), 'CP-P1', 'not-the-password') == 401
        assert await _refused_status(csms.ws_url(1, 'CP-P1'), 'CP-P1') == 401
        assert await _refused_status(csms.ws_url(1, 'CP-P1'), 'CP-SOMEONE-ELSE', STAGING_PASSWORD) == 401

    asyncio.run(scenario())
    connection = csms.api('GET', '/api/stations/CP-P1/connection').json()
    assert connection['security_profile'] == 1 and connection['online'] is False
    assert connection['boot']['status'] == 'Pending'
    assert connection['boot']['charging_station']['vendorName'] == 'Test Vendor'
    assert connection['boot']['at'].endswith('Z')
    assert 'wrong password' not in csms.log() and 'not-the-password' not in csms.log()
    assert 'password does not match' in csms.log() or 'not the staging password' in csms.log()


def test_stored_passwords_replace_the_staging_password_on_profile_2(csms):
    assert csms.api('PUT', '/api/stations/CP-P2', json={'model': 'Test Model'}).status_code == 201
    assert csms.api('PUT', '/api/stations/CP-P2/credentials',
                    json={'passwords': ['first-password-123', 'second-password-45']}).json() == {'count': 2}
    assert csms.api('POST', '/api/stations/CP-P2/credentials/verify', json={'password': 'second-password-45'}).json() \
        == {'valid': True}
    assert csms.api('POST', '/api/stations/CP-P2/credentials/verify', json={'password': STAGING_PASSWORD}).json() \
        == {'valid': False}
    credentials = csms.api('GET', '/api/stations/CP-P2/credentials')
    assert credentials.json() == {'count': 2} and 'password' not in credentials.text
    tls = _client_tls(csms.pki)

    async def scenario():
        async with station_online(csms.ws_url(2, 'CP-P2'), 'CP-P2', 'second-password-45', tls) as station:
            assert await station.boot() == 'Accepted'
        assert await _refused_status(csms.ws_url(2, 'CP-P2'), 'CP-P2', STAGING_PASSWORD, tls) == 401

    asyncio.run(scenario())
    assert csms.api('GET', '/api/stations/CP-P2/connection').json()['security_profile'] == 2


def test_profile_3_accepts_the_right_certificate_and_returns_it(csms):
    async def scenario():
        async with station_online(csms.ws_url(3, 'CP-MTLS'), 'CP-MTLS', tls=_client_tls(csms.pki, 'CP-MTLS')) as station:
            assert await station.boot() == 'Pending'
            return (await csms.api_async('GET', '/api/stations/CP-MTLS/connection')).json()

    connection = asyncio.run(scenario())
    presented = Path(csms.pki.stations['CP-MTLS'][0]).read_text()
    assert connection['online'] is True and connection['security_profile'] == 3
    assert connection['client_certificate'] == presented
    assert connection['endpoint'] == csms.ws_url(3, 'CP-MTLS')


def test_profile_3_refuses_wrong_cn_foreign_ca_revoked_and_no_certificate(csms):
    async def scenario():
        assert await _refused_status(csms.ws_url(3, 'CP-MTLS'), 'CP-MTLS', tls=_client_tls(csms.pki, 'CP-OTHER')) == 403
        assert await _refused_status(csms.ws_url(3, REVOKED_STATION), REVOKED_STATION,
                                     tls=_client_tls(csms.pki, REVOKED_STATION)) == 403
        for certificate in ('CP-FOREIGN', None):
            with pytest.raises((ssl.SSLError, InvalidHandshake, OSError)):
                async with station_online(csms.ws_url(3, 'CP-MTLS'), 'CP-MTLS', tls=_client_tls(csms.pki, certificate)):
                    pass

    asyncio.run(scenario())
    log = csms.log()
    assert "CN ['CP-OTHER'] is not the station id" in log
    assert 'is revoked' in log
    assert 'TLS handshake refused' in log


def test_boot_status_follows_the_station_record_and_activation_triggers_a_boot(csms):
    async def scenario():
        url = csms.ws_url(1, 'CP-BOOT')
        async with station_online(url, 'CP-BOOT', STAGING_PASSWORD) as station:
            assert await station.boot() == 'Pending'
            assert (await csms.api_async('PUT', '/api/stations/CP-BOOT', json={'status': 'active'})).status_code == 201

            async def accepted():
                return station.boot_statuses[-1] == 'Accepted'
            await _wait_for(accepted)
        await csms.api_async('PATCH', '/api/stations/CP-BOOT', json={'status': 'retired'})
        async with station_online(url, 'CP-BOOT', STAGING_PASSWORD) as station:
            assert await station.boot() == 'Rejected'

    asyncio.run(scenario())
    assert csms.api('GET', '/api/stats/ocpp').json()['stations']['CP-BOOT'] == {'TriggerMessage': 1}


def test_ocpp_passthrough_round_trip_offline_timeout_and_invalid_payload(csms):
    request = {'getVariableData': [{'component': {'name': 'OCPPCommCtrlr'}, 'variable': {'name': 'HeartbeatInterval'}}]}
    csms.api('DELETE', '/api/stats/ocpp')

    async def scenario():
        async with station_online(csms.ws_url(1, 'CP-CALL'), 'CP-CALL', STAGING_PASSWORD):
            answered = await csms.api_async('POST', '/api/stations/CP-CALL/ocpp/GetVariables', json=request)
            invalid = await csms.api_async('POST', '/api/stations/CP-CALL/ocpp/GetVariables',
                                           json={'getVariableData': [{'component': {}}]})
            refused = await csms.api_async('POST', '/api/stations/CP-CALL/ocpp/Reset', json={'type': 'Immediate'})
            async with station_online(csms.ws_url(1, 'CP-CALL'), 'CP-CALL', STAGING_PASSWORD):
                replaced = (await csms.api_async('GET', '/api/stations/CP-CALL/connection')).json()
        async with station_online(csms.ws_url(1, 'CP-SILENT'), 'CP-SILENT', STAGING_PASSWORD, serve=False):
            started = time.monotonic()
            silent = await csms.api_async('POST', '/api/stations/CP-SILENT/ocpp/GetVariables?timeout=1', json=request)
            waited = time.monotonic() - started
        return answered, invalid, refused, replaced, silent, waited

    answered, invalid, refused, replaced, silent, waited = asyncio.run(scenario())
    assert answered.status_code == 200, answered.text
    assert answered.json() == {'action': 'GetVariables', 'payload': {'getVariableResult': [
        {'attributeStatus': 'Accepted', 'attributeValue': '42', 'component': {'name': 'OCPPCommCtrlr'},
         'variable': {'name': 'HeartbeatInterval'}}]}}
    assert invalid.status_code == 400 and invalid.json()['error'] == 'invalid_payload'
    assert "at getVariableData[0]: 'variable' is a required property" in invalid.json()['message']
    assert refused.status_code == 502 and refused.json()['details']['code'] == 'NotImplemented'
    assert replaced['online'] is True and replaced['connections_total'] == 2
    assert silent.status_code == 504 and silent.json()['error'] == 'station_timeout' and waited < 5
    assert 'did not answer GetVariables within 1' in silent.json()['message']
    offline = csms.api('POST', '/api/stations/CP-NEVER/ocpp/GetVariables', json=request)
    assert offline.status_code == 409 and offline.json()['error'] == 'station_offline'
    assert csms.api('GET', '/api/stats/ocpp').json()['stations'] == {'CP-CALL': {'GetVariables': 1, 'Reset': 1},
                                                                      'CP-SILENT': {'GetVariables': 1}}


def test_sign_certificate_csr_is_stored_and_readable(csms):
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'CP-CSR')]))
           .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode())
    assert csms.api('GET', '/api/stations/CP-CSR/csr').status_code == 404

    async def scenario():
        async with station_online(csms.ws_url(1, 'CP-CSR'), 'CP-CSR', STAGING_PASSWORD) as station:
            response = await station.call(call.SignCertificate(csr=csr, certificate_type='ChargingStationCertificate'))
            return response.status

    assert asyncio.run(scenario()) == 'Accepted'
    stored = csms.api('GET', '/api/stations/CP-CSR/csr').json()
    assert stored['csr'] == csr and stored['certificate_type'] == 'ChargingStationCertificate'
    assert stored['received_at'].endswith('Z')


def test_records_crud_and_persistence_across_a_restart(csms):
    for collection, record_id, body in (('locations', 'SITE-1', {'name': 'Depot', 'operator': 'ACME'}),
                                        ('tariffs', 'T-1', {'price_kwh': 0.3}),
                                        ('id-tokens', 'RFID-1', {'type': 'ISO14443'}),
                                        ('stations', 'CP-REC', {'location': 'SITE-1', 'status': 'active'})):
        created = csms.api('PUT', '/api/%s/%s' % (collection, record_id), json=body)
        assert created.status_code == 201 and created.json()['id'] == record_id
        assert created.json()['created_at'].endswith('Z')
    assert csms.api('PUT', '/api/locations/SITE-2', json={'name': 'Mall', 'operator': 'ACME'}).status_code == 201
    patched = csms.api('PATCH', '/api/locations/SITE-1', json={'name': 'Main depot'}).json()
    assert patched['name'] == 'Main depot' and patched['operator'] == 'ACME'
    replaced = csms.api('PUT', '/api/tariffs/T-1', json={'currency': 'EUR'}).json()
    assert 'price_kwh' not in replaced and replaced['currency'] == 'EUR'
    assert [item['id'] for item in csms.api('GET', '/api/locations', params={'operator': 'ACME'}).json()['items']] \
        == ['SITE-1', 'SITE-2']
    assert csms.api('GET', '/api/locations', params={'name': 'Mall'}).json()['items'][0]['id'] == 'SITE-2'
    assert csms.api('DELETE', '/api/locations/SITE-2').status_code == 200
    assert csms.api('DELETE', '/api/locations/SITE-2').status_code == 404
    assert csms.api('PATCH', '/api/locations/NOPE', json={'a': 1}).status_code == 404
    assert csms.api('PUT', '/api/stations/CP-REC/credentials', json={'passwords': ['kept-password-1234']}).ok

    assert csms.stop() == 0
    assert 'stopped' in csms.log()
    csms.start()

    assert csms.api('GET', '/api/locations/SITE-1').json()['name'] == 'Main depot'
    assert csms.api('GET', '/api/locations/SITE-2').status_code == 404
    assert csms.api('GET', '/api/tariffs/T-1').json()['currency'] == 'EUR'
    assert csms.api('GET', '/api/id-tokens/RFID-1').json()['type'] == 'ISO14443'
    assert csms.api('GET', '/api/stations', params={'location': 'SITE-1'}).json()['items'][0]['id'] == 'CP-REC'
    assert csms.api('GET', '/api/stations/CP-REC/credentials').json() == {'count': 1}
    assert csms.api('GET', '/api/stations/CP-CSR/csr').status_code == 200
    connection = csms.api('GET', '/api/stations/CP-P1/connection').json()
    assert connection['online'] is False and connection['connections_total'] == 1


class ConfigurableStation(Station):
    """Accepts a SetNetworkProfile unless its URL says ``reject``; holds one charging profile it reports in two parts."""

    PROFILE = {'id': 1, 'stack_level': 0, 'charging_profile_purpose': 'ChargingStationMaxProfile',
               'charging_profile_kind': 'Absolute',
               'charging_schedule': [{'id': 1, 'charging_rate_unit': 'A',
                                      'charging_schedule_period': [{'start_period': 0, 'limit': 32.0}]}]}

    @on(Action.set_network_profile)
    def on_set_network_profile(self, configuration_slot, connection_data, **_):
        return call_result.SetNetworkProfile(status='Rejected' if 'reject' in connection_data['ocpp_csms_url'] else 'Accepted')

    @on(Action.get_charging_profiles)
    def on_get_charging_profiles(self, request_id, charging_profile, **_):
        return call_result.GetChargingProfiles(status='Accepted')

    @after(Action.get_charging_profiles)
    async def after_get_charging_profiles(self, request_id, **_):
        for evse_id, tbc in ((0, True), (1, False)):
            await self.call(call.ReportChargingProfiles(request_id=request_id, charging_limit_source='CSO',
                                                        charging_profile=[self.PROFILE], evse_id=evse_id, tbc=tbc))


def test_charging_profile_reports_and_kept_network_profiles(csms):
    url = 'ws://csms.example.net/ocpp'
    slot_1 = {'configurationSlot': 1, 'connectionData': {
        'ocppVersion': 'OCPP20', 'ocppTransport': 'JSON', 'ocppCsmsUrl': url, 'messageTimeout': 30,
        'securityProfile': 1, 'ocppInterface': 'Wireless1',
        'apn': {'apn': 'iot.example', 'apnPassword': 'apn-secret', 'simPin': 1234, 'apnAuthentication': 'AUTO'},
        'vpn': {'server': 'vpn.example', 'user': 'u', 'password': 'vpn-secret', 'key': 'vpn-key', 'type': 'IKEv2'}}}
    rejected = {'configurationSlot': 2, 'connectionData': dict(slot_1['connectionData'], ocppCsmsUrl=url + '/reject')}
    station_path = '/api/stations/CP-CONF'
    assert csms.api('GET', station_path + '/charging-profile-reports/77').json() == {'complete': False, 'reports': []}
    assert csms.api('GET', station_path + '/network-profiles').json() == {}

    async def scenario():
        async with station_online(csms.ws_url(1, 'CP-CONF'), 'CP-CONF', STAGING_PASSWORD,
                                  station_class=ConfigurableStation):
            for body in (slot_1, rejected):
                await csms.api_async('POST', station_path + '/ocpp/SetNetworkProfile', json=body)
            await csms.api_async('POST', station_path + '/ocpp/GetChargingProfiles', json={
                'requestId': 77, 'chargingProfile': {'chargingProfilePurpose': 'ChargingStationMaxProfile'}})

            async def complete():
                return (await csms.api_async('GET', station_path + '/charging-profile-reports/77')).json()['complete']
            await _wait_for(complete)
        async with station_online(csms.ws_url(2, 'CP-CONF'), 'CP-CONF', STAGING_PASSWORD, tls=_client_tls(csms.pki)):
            raised = (await csms.api_async('GET', station_path + '/network-profiles')).json()
        return raised

    raised = asyncio.run(scenario())
    report = csms.api('GET', station_path + '/charging-profile-reports/77').json()
    assert report['complete'] is True
    assert [(part['evseId'], part['chargingLimitSource']) for part in report['reports']] == [(0, 'CSO'), (1, 'CSO')]
    assert report['reports'][0]['chargingProfile'][0]['chargingSchedule'][0]['chargingSchedulePeriod'][0]['limit'] == 32.0
    assert report['reports'][0]['chargingProfile'][0]['chargingProfilePurpose'] == 'ChargingStationMaxProfile'
    assert raised == {}, 'a connection on security profile 2 forgets the profile-1 slot (A05.FR.06)'

    # the same again on profile 1 only, to read the kept slot and check it survives a restart
    async def send_again():
        async with station_online(csms.ws_url(1, 'CP-CONF2'), 'CP-CONF2', STAGING_PASSWORD,
                                  station_class=ConfigurableStation):
            for body in (slot_1, rejected):
                await csms.api_async('POST', '/api/stations/CP-CONF2/ocpp/SetNetworkProfile', json=body)
    asyncio.run(send_again())
    assert csms.stop() == 0
    csms.start()
    kept_after_restart = csms.api('GET', '/api/stations/CP-CONF2/network-profiles').json()
    assert list(kept_after_restart) == ['1'], 'only the slot the station accepted is kept'
    kept = kept_after_restart['1']
    secrets = {'apnPassword': 'apn-secret', 'simPin': 1234, 'password': 'vpn-secret', 'key': 'vpn-key'}
    for section, field in (('apn', 'apnPassword'), ('apn', 'simPin'), ('vpn', 'password'), ('vpn', 'key')):
        stored = kept[section][field]
        assert set(stored) == {'salt', 'sha256'} and len(stored['salt']) >= 16
        assert stored['sha256'] == hashlib.sha256((stored['salt'] + str(secrets[field])).encode()).hexdigest()
    assert 'secret' not in json.dumps(kept) and 'vpn-key' not in json.dumps(kept)
    assert kept['ocppCsmsUrl'] == url and kept['apn']['apn'] == 'iot.example' and kept['vpn']['user'] == 'u'
    assert csms.api('DELETE', '/api/stations/CP-CONF2/network-profiles').json() == {'forgotten': 1}
    assert csms.api('GET', '/api/stations/CP-CONF2/network-profiles').json() == {}


def test_last_boot_and_connector_status_survive_a_reconnect_and_a_restart(csms):
    """A station boots after power-up or Reset, not on a reconnect (F06.FR.17): the CSMS keeps what it knew."""
    csms.api('PUT', '/api/stations/CP-KEEP', json={'status': 'active'})

    async def scenario():
        url = csms.ws_url(1, 'CP-KEEP')
        async with station_online(url, 'CP-KEEP', STAGING_PASSWORD) as station:
            assert await station.boot() == 'Accepted'
            await station.call(call.StatusNotification(timestamp='2026-12-07T12:00:00.000Z', connector_status='Occupied',
                                                       evse_id=1, connector_id=1))
        async with station_online(url, 'CP-KEEP', STAGING_PASSWORD):
            return (await csms.api_async('GET', '/api/stations/CP-KEEP/connection')).json()

    again = asyncio.run(scenario())
    assert again['online'] is True and again['connections_total'] == 2
    assert again['boot']['reason'] == 'PowerUp' and again['boot']['status'] == 'Accepted'
    assert again['boot']['at'] < again['connected_at'], 'the boot is the one of the first connection'
    assert again['connectors'] == [{'evse_id': 1, 'connector_id': 1, 'status': 'Occupied',
                                    'at': '2026-12-07T12:00:00.000Z'}]
    assert csms.stop() == 0
    csms.start()
    kept = csms.api('GET', '/api/stations/CP-KEEP/connection').json()
    assert kept['online'] is False and kept['boot'] == again['boot'] and kept['connectors'] == again['connectors']


def test_station_messages_are_kept_and_listed_by_action_time_and_request_id(csms):
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'CP-MSG')]))
           .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode())
    path = '/api/stations/CP-MSG/messages'
    assert csms.api('GET', path, params={'action': 'SignCertificate'}).json() == {'items': []}
    assert csms.api('GET', path).status_code == 400
    assert csms.api('GET', path, params={'action': 'SignCertificate', 'since': 'yesterday'}).status_code == 400

    async def scenario():
        async with station_online(csms.ws_url(1, 'CP-MSG'), 'CP-MSG', STAGING_PASSWORD,
                                  station_class=ConfigurableStation) as station:
            await station.call(call.SignCertificate(csr=csr, certificate_type='ChargingStationCertificate'))
            between = (await csms.api_async('GET', '/api/health')).json()['time']
            await station.call(call.SignCertificate(csr=csr, certificate_type='V2GCertificate'))
            for request_id in (5, 6):
                await csms.api_async('POST', '/api/stations/CP-MSG/ocpp/GetChargingProfiles', json={
                    'requestId': request_id, 'chargingProfile': {'chargingProfilePurpose': 'ChargingStationMaxProfile'}})

            async def both_reports():
                items = (await csms.api_async('GET', path, params={'action': 'ReportChargingProfiles'})).json()['items']
                return len(items) == 4
            await _wait_for(both_reports)
            return between

    between = asyncio.run(scenario())
    every = csms.api('GET', path, params={'action': 'SignCertificate'}).json()['items']
    assert [item['payload']['certificateType'] for item in every] == ['ChargingStationCertificate', 'V2GCertificate']
    assert every[0]['payload']['csr'] == csr and every[0]['action'] == 'SignCertificate'
    assert every[0]['received_at'].endswith('Z')
    later = csms.api('GET', path, params={'action': 'SignCertificate', 'since': between}).json()['items']
    assert [item['payload']['certificateType'] for item in later] == ['V2GCertificate']
    sixth = csms.api('GET', path, params={'action': 'ReportChargingProfiles', 'request_id': 6}).json()['items']
    assert [(item['payload']['requestId'], item['payload']['evseId'], item['payload']['tbc']) for item in sixth] == [
        (6, 0, True), (6, 1, False)]
    assert sixth[0]['payload']['chargingProfile'][0]['chargingSchedule'][0]['chargingSchedulePeriod'][0]['limit'] == 32.0


def test_the_event_stream_of_all_stations_wakes_a_long_poll_and_survives_a_restart(csms):
    """GET /api/events: a station the CSMS has no record of is published at its first boot, with the serial it
    reported; a waiting long poll answers at once; the stream and its cursors are kept across a restart."""
    start = csms.api('GET', '/api/events', params={'since': 'now'}).json()['cursor']
    assert csms.api('GET', '/api/events', params={'since': 'yesterday'}).status_code == 400
    assert csms.api('GET', '/api/events', params={'timeout': '999'}).status_code == 400
    assert csms.api('GET', '/api/events', token=None).status_code == 401

    async def scenario():
        poll = asyncio.ensure_future(csms.api_async('GET', '/api/events', params={'since': start, 'timeout': 30}))
        await asyncio.sleep(0.5)
        began = time.monotonic()
        async with station_online(csms.ws_url(1, 'CP-EVENTS'), 'CP-EVENTS', STAGING_PASSWORD) as station:
            assert await station.boot() == 'Pending'
            answer = (await poll).json()
            assert time.monotonic() - began < 10
            await station.boot()
        return answer

    first = asyncio.run(scenario())
    assert first['items'] and first['items'][0]['station_id'] == 'CP-EVENTS'
    events = csms.api('GET', '/api/events', params={'since': start}).json()['items']
    mine = [event for event in events if event['station_id'] == 'CP-EVENTS']
    assert [event['type'] for event in mine][:3] == ['connected', 'boot', 'boot']
    assert mine[1]['data'] == {'reason': 'PowerUp', 'status': 'Pending', 'first_boot': True, 'serial_number': 'SN-1',
                               'vendor': 'Test Vendor', 'model': 'Test Model', 'firmware_version': None}
    assert mine[2]['data']['first_boot'] is False
    assert STAGING_PASSWORD not in json.dumps(events)

    assert csms.stop() == 0
    csms.start()
    again = csms.api('GET', '/api/events', params={'since': start}).json()
    assert again['items'][:len(events)] == events
    assert int(again['cursor']) >= int(events[-1]['cursor'])
