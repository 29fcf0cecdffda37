"""What the reference CSMS trusts (issue 17, item 3): client certificates only from its own environment's issuing CAs,
the CRL of every issuing CA it trusts, no staging password and no basic auth for a station registered at profile 3.

Before issue 17 each of these was accepted: a sibling issuing CA under the same root passed the TLS chain check, only
one issuer's CRL was read, and the staging password admitted every station without a stored password.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import json
import ssl
import sys
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

sys.path.insert(0, str(Path(__file__).resolve().parent))

import test_csms as base  # noqa: E402

pytestmark = pytest.mark.integration




def _crl(issuer, key, revoked=()):
    builder = (x509.CertificateRevocationListBuilder().issuer_name(issuer.subject).last_update(base._now())
               .next_update(base._now() + base.datetime.timedelta(days=1)))
    for serial in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(base._now()).build())
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def _make_pki(directory: Path):
    """root -> issuing A, issuing B (this environment), issuing P (another environment, same root)."""
    root, root_key = base._certificate('Test Root CA', None, None, ca=True)
    issuing = {name: base._certificate('Test Issuing CA %s' % name, root, root_key, ca=True) for name in 'ABP'}
    server, server_key = base._certificate('csms', issuing['A'][0], issuing['A'][1], server=True)
    stations = {
        'CP-A': base._certificate('CP-A', *issuing['A']),
        'CP-B': base._certificate('CP-B', *issuing['B']),
        'CP-B-REVOKED': base._certificate('CP-B-REVOKED', *issuing['B']),
        'CP-PROD': base._certificate('CP-PROD', *issuing['P']),
    }
    crls = {name: _crl(issuing[name][0], issuing[name][1],
                       [stations['CP-B-REVOKED'][0].serial_number] if name == 'B' else []) for name in 'AB'}
    (directory / 'root.pem').write_text(base._pem(root))
    (directory / 'client-ca.pem').write_text(base._pem(issuing['A'][0]) + base._pem(issuing['B'][0]) + base._pem(root))
    (directory / 'server-fullchain.pem').write_text(base._pem(server) + base._pem(issuing['A'][0]))
    written = {}
    for name, (cert, key) in stations.items():
        cert_path, key_path = base._write_key_pair(directory, name, cert, key)
        issuer = next(ca for ca, _key in issuing.values() if ca.subject == cert.issuer)
        Path(cert_path).write_text(base._pem(cert) + base._pem(issuer))  # the station presents its chain
        written[name] = (cert_path, key_path)
    pki = base.Pki(directory=directory, root=str(directory / 'root.pem'), chain=str(directory / 'client-ca.pem'),
                   client_ca=str(directory / 'client-ca.pem'),
                   server=base._write_key_pair(directory, 'server', server, server_key), crl_der=b'', stations=written)
    return pki, crls


@contextlib.contextmanager
def _crl_server(pki, crls):
    """Serve each issuing CA's DER CRL at /v1/<name>/crl over HTTPS."""
    class _Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server naming
            body = crls.get(self.path.split('/')[2]) if self.path.count('/') >= 3 else None
            self.send_response(200 if body else 404)
            self.send_header('Content-Length', str(len(body or b'')))
            self.end_headers()
            self.wfile.write(body or b'')

        def log_message(self, *_):
            return

    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(pki.directory / 'server-fullchain.pem'), pki.server[1])
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield 'https://127.0.0.1:%d/v1' % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope='module')
def csms(tmp_path_factory):
    pki, crls = _make_pki(tmp_path_factory.mktemp('trust-pki'))
    with _crl_server(pki, crls) as base_url:
        process = base.CsmsProcess(pki, tmp_path_factory.mktemp('trust-csms'), base_url + '/A/crl')
        process.config.pop('crl')
        process.config['crls'] = [{'url': '%s/%s/crl' % (base_url, name), 'ca_cert': pki.root, 'refresh_seconds': 5}
                                  for name in 'AB']
        process.config_path.write_text(json.dumps(process.config))
        process.start()
        try:
            yield process
        finally:
            if process.process.poll() is None:
                process.stop()


def test_certificates_of_both_trusted_issuers_are_accepted(csms):
    async def scenario():
        for station_id in ('CP-A', 'CP-B'):
            async with base.station_online(csms.ws_url(3, station_id), station_id,
                                           tls=base._client_tls(csms.pki, station_id)) as station:
                assert await station.boot() == 'Pending'
    asyncio.run(scenario())


def test_a_certificate_of_another_environments_issuing_ca_is_refused(csms):
    async def scenario():
        return await base._refused_status(csms.ws_url(3, 'CP-PROD'), 'CP-PROD', tls=base._client_tls(csms.pki, 'CP-PROD'))
    assert asyncio.run(scenario()) == 403
    assert 'is not an issuing CA of this CSMS' in csms.log()


def test_a_certificate_revoked_by_the_second_issuer_is_refused(csms):
    async def scenario():
        return await base._refused_status(csms.ws_url(3, 'CP-B-REVOKED'), 'CP-B-REVOKED',
                                          tls=base._client_tls(csms.pki, 'CP-B-REVOKED'))
    assert asyncio.run(scenario()) == 403
    assert 'is revoked' in csms.log()


def test_no_staging_password_and_no_basic_auth_for_a_station_registered_at_profile_3(csms):
    station_id = 'CP-A'
    assert csms.api('PUT', '/api/stations/%s' % station_id, json={'status': 'active'}).status_code in (200, 201)

    async def scenario():
        async with base.station_online(csms.ws_url(3, station_id), station_id,
                                       tls=base._client_tls(csms.pki, station_id)):
            pass
        statuses = [await base._refused_status(csms.ws_url(profile, station_id), station_id, base.STAGING_PASSWORD,
                                               tls=None if profile == 1 else ssl.create_default_context(cafile=csms.pki.root))
                    for profile in (1, 2)]
        return statuses
    assert asyncio.run(scenario()) == [401, 401]
    assert 'registered at security profile 3' in csms.log()
    verify = csms.api('POST', '/api/stations/%s/credentials/verify' % station_id, json={'password': base.STAGING_PASSWORD})
    assert verify.json() == {'valid': False}


def test_the_staging_password_is_refused_once_the_station_has_its_own(csms):
    station_id = 'CP-OWN'
    assert csms.api('PUT', '/api/stations/%s' % station_id, json={'status': 'active'}).status_code in (200, 201)
    staging = {'password': base.STAGING_PASSWORD}
    assert csms.api('POST', '/api/stations/%s/credentials/verify' % station_id, json=staging).json() == {'valid': True}
    csms.api('PUT', '/api/stations/%s/credentials' % station_id, json={'passwords': ['its-own-password-0123456789']})
    assert csms.api('POST', '/api/stations/%s/credentials/verify' % station_id, json=staging).json() == {'valid': False}

    async def scenario():
        return await base._refused_status(csms.ws_url(1, station_id), station_id, base.STAGING_PASSWORD)
    assert asyncio.run(scenario()) == 401
