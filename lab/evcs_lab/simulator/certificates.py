"""X.509 work a charging station does itself: key pair and CSR on the station, hash data, chain checks."""
from __future__ import annotations

from datetime import datetime, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

TRUST_ANCHOR_TYPES = ("CSMSRootCertificate", "ManufacturerRootCertificate", "V2GRootCertificate", "MORootCertificate")
STATION_CERTIFICATE = "ChargingStationCertificate"


class CertificateError(ValueError):
    """The PEM text is not what the station expects."""


def load_certificates(pem: str) -> list[x509.Certificate]:
    """Every certificate in a PEM bundle; CertificateError for garbage or an empty bundle."""
    try:
        certificates = x509.load_pem_x509_certificates(pem.encode())
    except ValueError as error:
        raise CertificateError(str(error)) from error
    if not certificates:
        raise CertificateError("no certificate in PEM")
    return certificates


def _public_key_der(certificate: x509.Certificate) -> bytes:
    return certificate.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)


def hash_data(certificate: x509.Certificate, issuer: x509.Certificate | None = None) -> dict:
    """CertificateHashDataType as OCPP defines it: RFC 6960's CertID (SHA256 over the DER of the issuer Name and over
    the issuer's public key BIT STRING value), built by cryptography's OCSP request builder; for a self-signed
    certificate the issuer is the certificate itself. Serial number in lowercase hex, no leading zeros.
    """
    issuer = issuer or certificate
    request = ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, hashes.SHA256()).build()
    return {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": request.issuer_name_hash.hex(),
        "issuerKeyHash": request.issuer_key_hash.hex(),
        "serialNumber": format(request.serial_number, "x"),
    }


def certificate_hash_data(pem: str) -> dict:
    """Hash data of the first certificate of a PEM bundle, its issuer being the next one (or itself)."""
    certificates = load_certificates(pem)
    issuer = certificates[1] if len(certificates) > 1 else None
    return hash_data(certificates[0], issuer)


def new_private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def private_key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def load_private_key(pem: bytes):
    return serialization.load_pem_private_key(pem, password=None)


def build_csr(key, common_name: str, organization: str) -> str:
    """A PEM CSR with subject CN (and O, when the station has an organization to put there)."""
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    subject = x509.Name(attributes)
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def check_signed_chain(pem: str, key, common_name: str) -> list[x509.Certificate]:
    """The chain of a CertificateSigned for `key`; CertificateError when it does not belong to the station."""
    chain = load_certificates(pem)
    leaf = chain[0]
    if _public_key_der(leaf) != key.public_key().public_bytes(serialization.Encoding.DER,
                                                               serialization.PublicFormat.SubjectPublicKeyInfo):
        raise CertificateError("leaf public key does not match the station's key")
    names = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names or names[0].value != common_name:
        raise CertificateError("leaf common name does not match the station identity")
    now = datetime.now(timezone.utc)
    if not all(certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc for certificate in chain):
        raise CertificateError("a certificate of the chain is outside its validity period")
    for child, parent in zip(chain, chain[1:]):
        try:
            child.verify_directly_issued_by(parent)
        except (ValueError, TypeError) as error:
            raise CertificateError(f"chain is broken at {child.subject.rfc4514_string()}") from error
    return chain
