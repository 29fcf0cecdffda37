"""How stations authenticate: HTTP Basic (profiles 1 and 2) and client certificates (profile 3).

The TLS layer of profile 3 already refuses certificates that do not chain to ``client_ca`` or are expired; the
checks here add what TLS cannot know: the certificate was issued by one of this environment's issuing CAs (not by
another CA under the same root), names the station of the URL and is not on its issuer's CRL.

Basic auth follows what a careful CSMS does: the shared staging password only for a station the CSMS has not
registered credentials for; a registered station's own passwords only; no basic auth at all for a station registered
at security profile 3 (its client certificate is its only credential).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import logging
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from evcs_lab.csms.config import CrlConfig, CsmsConfig
from evcs_lab.csms.credentials import verify_any
from evcs_lab.csms.store import Store

LOG = logging.getLogger('evcs_lab.csms.auth')


class AuthenticationFailed(Exception):
    """The station may not connect; ``status`` is the HTTP status to answer with, the message says why."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class ClientCertificate:
    der: bytes

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(Encoding.PEM).decode('ascii')

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_der_x509_certificate(self.der)


class BasicAuthenticator:
    """User = station id; password = one of the station's stored passwords; the staging password only while the CSMS
    has registered no credentials for the station; never for a station registered at security profile 3."""

    def __init__(self, store: Store, staging_password: str):
        self._store = store
        self._staging_password = staging_password

    async def authenticate(self, station_id: str, authorization: str | None, ocpp_version: str = '2.0.1') -> None:
        """A 2.0.1 station sends its BasicAuthPassword as UTF-8 text. A 1.6 station sends the bytes its AuthorizationKey
        stands for (the Security Extension: the key is their hexadecimal representation), so the CSMS compares the
        hexadecimal form of what it received with the AuthorizationKey it stored."""
        user, raw = _parse_basic(authorization)
        if user != station_id:
            raise AuthenticationFailed(401, 'basic auth user %r is not the station id of the URL' % user)
        if ocpp_version == '1.6':
            refused = await self.refusal(station_id, raw.hex(), raw=raw, alternatives=(raw.hex().upper(),))
        else:
            try:
                password = raw.decode('utf-8')
            except UnicodeDecodeError:
                raise AuthenticationFailed(401, 'malformed HTTP Basic credentials') from None
            refused = await self.refusal(station_id, password)
        if refused:
            raise AuthenticationFailed(401, refused)

    async def refusal(self, station_id: str, password: str, raw: bytes | None = None,
                      alternatives: tuple[str, ...] = ()) -> str | None:
        """Why ``password`` does not admit ``station_id`` (None when it does): the one decision of the OCPP endpoints
        and of the REST API's credential check. ``alternatives`` are other spellings of the same password (the upper
        case hexadecimal form of a 1.6 key); ``raw`` the bytes sent, compared with the staging password."""
        registered = self._store.get_record('stations', station_id) is not None
        if registered and self._store.last_security_profile(station_id) == 3:
            return 'basic auth refused: the station is registered at security profile 3 (client certificate only)'
        hashes = self._store.password_hashes(station_id)
        if hashes and registered:
            candidates = (password,) + tuple(alternatives)
            matches = [await asyncio.to_thread(verify_any, candidate, hashes) for candidate in candidates]
            if not any(matches):
                return 'password does not match any stored password of the station'
            return None
        sent = raw if raw is not None else password.encode('utf-8')
        if not hmac.compare_digest(sent, self._staging_password.encode('utf-8')):
            return 'password is not the staging password (the station has no stored password)'
        return None


def _parse_basic(authorization: str | None) -> tuple[str, bytes]:
    if not authorization:
        raise AuthenticationFailed(401, 'no HTTP Basic credentials sent')
    scheme, _, encoded = authorization.partition(' ')
    if scheme.lower() != 'basic':
        raise AuthenticationFailed(401, 'authorization scheme %r is not Basic' % scheme)
    try:
        user, separator, password = base64.b64decode(encoded.strip(), validate=True).partition(b':')
        user_id = user.decode('utf-8')
    except (binascii.Error, UnicodeDecodeError):
        raise AuthenticationFailed(401, 'malformed HTTP Basic credentials') from None
    if not separator:
        raise AuthenticationFailed(401, 'malformed HTTP Basic credentials')
    return user_id, password


class CertificateAuthenticator:
    """Issued directly by one of the environment's issuing CAs, CN == station id, inside its validity period, not on
    its issuer's CRL.

    ``client_ca`` holds the environment's issuing CAs and the root they chain to; only the issuing CAs (the CAs in it
    that are not self-signed) issue station certificates this CSMS accepts, so a certificate of another environment's
    issuing CA under the same root is refused. Every issuing CA's CRL is checked (``crls``, one per issuing CA).
    """

    def __init__(self, client_ca: str, crls: list[CrlConfig]):
        bundle = x509.load_pem_x509_certificates(Path(client_ca).read_bytes())
        self._issuers = [cert for cert in bundle if cert.subject != cert.issuer] or bundle
        self._crls = [CrlCache(crl, self._issuers) for crl in crls if crl.url]

    async def authenticate(self, station_id: str, presented: ClientCertificate | None,
                           common_name: str | None = None, name_of: str = 'the station id of the URL') -> None:
        """``common_name``: the CN the certificate must have (default: the station id of the URL; a 1.6 charge point's
        certificate names its serial number, Security Extension A00.FR.405), ``name_of`` says what it is."""
        if presented is None:
            raise AuthenticationFailed(401, 'no client certificate presented')
        certificate = presented.certificate
        if not any(_issued_by(certificate, issuer) for issuer in self._issuers):
            raise AuthenticationFailed(403, 'client certificate issuer %s is not an issuing CA of this CSMS\'s '
                                            'environment' % certificate.issuer.rfc4514_string())
        common_names = [attribute.value for attribute in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        if common_names != [common_name or station_id]:
            raise AuthenticationFailed(403, 'client certificate CN %s is not %s' % (common_names, name_of))
        now = datetime.now(timezone.utc)
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise AuthenticationFailed(403, 'client certificate is outside its validity period')
        for cache in self._crls:
            crl = await cache.current()
            if crl is not None and crl.issuer == certificate.issuer:
                if crl.get_revoked_certificate_by_serial_number(certificate.serial_number) is not None:
                    raise AuthenticationFailed(403, 'client certificate serial %x is revoked' % certificate.serial_number)


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


class CrlCache:
    """One issuing CA's CRL, fetched on demand at most every ``refresh_seconds``; None when unavailable."""

    def __init__(self, config: CrlConfig, issuers: list[x509.Certificate]):
        self._config = config
        self._issuers = issuers
        self._crl: x509.CertificateRevocationList | None = None
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def current(self) -> x509.CertificateRevocationList | None:
        if not self._config.url:
            return None
        async with self._lock:
            if self._fetched_at is None or time.monotonic() - self._fetched_at >= self._config.refresh_seconds:
                self._fetched_at = time.monotonic()
                self._crl = await self._fetch()
        return self._crl

    async def _fetch(self) -> x509.CertificateRevocationList | None:
        try:
            body = await _download(self._config.url, self._config.ca_cert)
            crl = _parse_crl(body)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as exc:
            LOG.warning('CRL %s unavailable (%s: %s): checking client certificates without a CRL until the next try',
                        self._config.url, exc.__class__.__name__, exc)
            return None
        issuer = next((candidate for candidate in self._issuers if candidate.subject == crl.issuer), None)
        if issuer is None or not crl.is_signature_valid(issuer.public_key()):
            LOG.warning('CRL %s is not signed by a CA of client_ca: ignored', self._config.url)
            return None
        LOG.info('CRL %s loaded: %d revoked certificate(s)', self._config.url, len(crl))
        return crl


async def _download(url: str, ca_cert: str | None) -> bytes:
    context = ssl.create_default_context(cafile=ca_cert) if url.startswith('https:') else None
    timeout = aiohttp.ClientTimeout(total=3)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        async with session.get(url, ssl=context) as response:
            response.raise_for_status()
            return await response.read()


def _parse_crl(body: bytes) -> x509.CertificateRevocationList:
    if body.lstrip().startswith(b'-----BEGIN'):
        return x509.load_pem_x509_crl(body)
    return x509.load_der_x509_crl(body)


class _LoggingSSLObject(ssl.SSLObject):
    """Logs why a TLS handshake failed (asyncio drops the reason unless the loop runs in debug mode)."""

    def do_handshake(self):
        try:
            return super().do_handshake()
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            raise
        except ssl.SSLError as exc:
            LOG.warning('TLS handshake refused: %s', getattr(exc, 'verify_message', None) or exc.reason or exc)
            raise


def server_tls_context(config: CsmsConfig, require_client_certificate: bool = False) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(_full_chain(config), config.tls.key)
    context.sslobject_class = _LoggingSSLObject
    if require_client_certificate:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cafile=config.client_ca)
    return context


def _full_chain(config: CsmsConfig) -> str:
    """load_cert_chain wants the leaf and its chain in one file: write it next to the database when needed."""
    leaf = Path(config.tls.cert).read_text(encoding='ascii')
    if not config.tls.chain or leaf.count('BEGIN CERTIFICATE') > 1:
        return config.tls.cert
    full_chain = Path(config.db).parent / 'server-fullchain.pem'
    full_chain.write_text(leaf.rstrip('\n') + '\n' + Path(config.tls.chain).read_text(encoding='ascii'), encoding='ascii')
    return str(full_chain)


def peer_certificate(transport) -> ClientCertificate | None:
    ssl_object = transport.get_extra_info('ssl_object') if transport is not None else None
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    return ClientCertificate(der) if der else None
