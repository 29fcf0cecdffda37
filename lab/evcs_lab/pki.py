"""The small "EVCS Lab Bootstrap CA" that only protects OpenBao's own TLS listener.

Station and CSMS certificates come from OpenBao's PKI (see ``vault.py``); this CA exists because OpenBao
needs a listener certificate before its PKI can issue anything.
"""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from evcs_lab.paths import LabPaths, write_private

BOOTSTRAP_CA_NAME = "EVCS Lab Bootstrap CA"
_CA_DAYS = 3650
_LISTENER_DAYS = 825
_RENEW_BEFORE = datetime.timedelta(days=30)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "EVCS Lab"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def load_certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _valid_for_a_while(path: Path) -> bool:
    try:
        cert = load_certificate(path)
    except (OSError, ValueError):
        return False
    return cert.not_valid_after_utc - _now() > _RENEW_BEFORE


def _builder(subject: x509.Name, issuer: x509.Name, public_key, days: int) -> x509.CertificateBuilder:
    now = _now()
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False))


def _ensure_ca(paths: LabPaths) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey, bool]:
    if _valid_for_a_while(paths.bootstrap_ca) and paths.bootstrap_ca_key.exists():
        key = serialization.load_pem_private_key(paths.bootstrap_ca_key.read_bytes(), password=None)
        return load_certificate(paths.bootstrap_ca), key, False
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(BOOTSTRAP_CA_NAME)
    cert = (_builder(name, name, key.public_key(), _CA_DAYS)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False),
                           critical=True)
            .sign(key, hashes.SHA256()))
    write_private(paths.bootstrap_ca_key, _key_pem(key))
    paths.bootstrap_ca.write_text(_pem(cert))
    return cert, key, True


def ensure_bootstrap_tls(paths: LabPaths) -> bool:
    """Create the bootstrap CA and OpenBao's listener certificate (SAN 127.0.0.1, localhost) when missing.

    Returns True when something was (re)issued, so the caller knows a running OpenBao must be restarted.
    """
    ca_cert, ca_key, ca_new = _ensure_ca(paths)
    if not ca_new and _valid_for_a_while(paths.vault_listener_cert) and paths.vault_listener_key.exists():
        return False
    key = ec.generate_private_key(ec.SECP256R1())
    san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")])
    cert = (_builder(_name("EVCS Lab OpenBao"), ca_cert.subject, key.public_key(), _LISTENER_DAYS)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(san, critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    write_private(paths.vault_listener_key, _key_pem(key))
    paths.vault_listener_cert.write_text(_pem(cert))
    return True
