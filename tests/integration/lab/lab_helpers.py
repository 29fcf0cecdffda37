"""Helpers the whole-lab tests share: signing a CSR at the lab's OpenBao with the collection's AppRole, a raw
profile-3 websocket client, and reading what a lab log said since an offset."""
from __future__ import annotations

import ssl
from pathlib import Path

import hvac
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.asyncio.client import connect

SIGNING_ROLE_PATH = "pki_lab/sign/charging-station"


def approle_vault(lab) -> hvac.Client:
    vault = lab["vault"]
    client = hvac.Client(url=vault["addr"], verify=vault["ca_cert"])
    client.auth.approle.login(role_id=vault["role_id"], secret_id=vault["secret_id"], mount_point=vault["approle_mount"])
    return client


def sign(lab, csr_pem: str, common_name: str) -> dict:
    """The lab issuing CA's answer for ``csr_pem`` signed as ``common_name`` (certificate, issuing_ca, serial_number)."""
    return approle_vault(lab).write_data(SIGNING_ROLE_PATH, data={"csr": csr_pem, "common_name": common_name})["data"]


def key_and_csr(common_name: str, organization: str) -> tuple[ec.EllipticCurvePrivateKey, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)])
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return key, csr.public_bytes(serialization.Encoding.PEM).decode()


def write_client_files(directory: Path, key, certificate_pem: str) -> tuple[Path, Path]:
    key_path, cert_path = directory / "client.key", directory / "client.crt"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_path.write_text(certificate_pem)
    return key_path, cert_path


def log_since(path: Path, offset: int) -> str:
    with path.open(errors="replace") as log:
        log.seek(offset)
        return log.read()


async def profile_3_connect(url: str, root_ca: str, cert_path: Path, key_path: Path,
                            subprotocol: str = "ocpp2.0.1") -> None:
    """A raw websocket client on the profile-3 endpoint: opens and closes, or raises what the CSMS answered."""
    context = ssl.create_default_context(cafile=root_ca)
    context.load_cert_chain(cert_path, key_path)
    async with connect(url, subprotocols=[subprotocol], ssl=context, open_timeout=10):
        return
