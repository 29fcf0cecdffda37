"""The lab's OpenBao, for real: bootstrap idempotence, least privilege, CSMS certificate, restart."""

from __future__ import annotations

import socket
import ssl
import stat
import threading

import hvac
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from evcs_lab import vault
from evcs_lab.paths import LabPaths

STATION_ID = "LAB-CP-0001"


def _ca_serials(paths: LabPaths) -> dict:
    issuing, root = x509.load_pem_x509_certificates(paths.client_ca.read_bytes())
    return {"root": root.serial_number, "issuing": issuing.serial_number,
            "root_file": x509.load_pem_x509_certificate(paths.root_ca.read_bytes()).serial_number}


def _roles(paths: LabPaths, addr: str) -> dict:
    client = vault.root_client(paths, addr)
    roles = {(mount, name): client.read(f"{mount}/roles/{name}")["data"]
             for mount in (vault.PKI_MOUNT, vault.PKI_PROD_MOUNT) for name in vault.STATION_ROLES.values()}
    roles[(vault.PKI_INFRA_MOUNT, vault.CSMS_ROLE)] = client.read(f"{vault.PKI_INFRA_MOUNT}/roles/{vault.CSMS_ROLE}")["data"]
    return roles


def _approle_client(lab: vault.VaultLab, environment: str = "lab") -> hvac.Client:
    """Logged in with the AppRole of ``environment`` (one per environment)."""
    credentials = lab.credentials[environment]
    client = hvac.Client(url=lab.addr, verify=str(lab.ca_cert))
    client.auth.approle.login(role_id=credentials["role_id"], secret_id=credentials["secret_id"],
                              mount_point=vault.APPROLE_MOUNT)
    return client


def _station_csr(station_id: str, organization: str = vault.ORGANIZATION) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, station_id),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)])
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def test_bootstrap_is_idempotent(vault_lab):
    home, first = vault_lab
    paths = LabPaths.resolve(home)
    assert "root CA" in first.changes and "issuing CA" in first.changes
    serials, roles = _ca_serials(paths), _roles(paths, first.addr)
    assert serials["root"] == serials["root_file"]

    again = vault.up(home)

    assert again.changes == []
    assert _ca_serials(paths) == serials
    assert _roles(paths, again.addr) == roles
    assert (again.role_id, again.secret_id, again.token, again.pid) == (first.role_id, first.secret_id, first.token,
                                                                        first.pid)


def test_secrets_stay_private(vault_lab):
    home, lab = vault_lab
    paths = LabPaths.resolve(home)
    for path in (paths.unseal_key, paths.root_token, paths.approle_secret_id, paths.csms_key):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    root_token = paths.root_token.read_text().strip()
    assert root_token not in repr(lab.state())
    assert lab.state()["token"] != root_token


def test_approle_signs_station_csr(vault_lab):
    _, lab = vault_lab
    client = _approle_client(lab)

    signed = client.write_data(f"{vault.PKI_MOUNT}/sign/{vault.STATION_ROLE}",
                               data={"csr": _station_csr(STATION_ID), "common_name": STATION_ID})["data"]

    cert = x509.load_pem_x509_certificate(signed["certificate"].encode())
    issuing = x509.load_pem_x509_certificate(signed["issuing_ca"].encode())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == STATION_ID
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == vault.ORGANIZATION
    assert issuing.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == vault.ISSUING_CA_NAME
    cert.verify_directly_issued_by(issuing)
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CLIENT_AUTH in usages and ExtendedKeyUsageOID.SERVER_AUTH not in usages

    # no_store is false: the certificate is kept, so it can be read back and revoked by serial
    assert client.read(f"{vault.PKI_MOUNT}/cert/{signed['serial_number']}")["data"]["certificate"]
    revoked = client.write_data(f"{vault.PKI_MOUNT}/revoke", data={"serial_number": signed["serial_number"]})
    assert revoked["data"]["revocation_time"] > 0
    crl_der = requests.get(f"{lab.addr}/v1/{vault.PKI_MOUNT}/crl", verify=str(lab.ca_cert), timeout=10).content
    crl = x509.load_der_x509_crl(crl_der)
    assert crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None


@pytest.mark.parametrize("mount", [vault.PKI_MOUNT, vault.PKI_PROD_MOUNT])
def test_each_operator_has_a_station_role(vault_lab, mount):
    """An OpenBao role fixes the subject O: the partner operator's role issues its O, the state maps O -> role."""
    _, lab = vault_lab
    assert lab.state()["station_roles"] == {vault.ORGANIZATION: vault.STATION_ROLE,
                                            vault.PARTNER_ORGANIZATION: vault.PARTNER_STATION_ROLE}
    assert lab.state()["station_role"] == vault.STATION_ROLE
    client = _approle_client(lab, "lab" if mount == vault.PKI_MOUNT else "production")
    for organization, role in lab.state()["station_roles"].items():
        signed = client.write_data(f"{mount}/sign/{role}", data={
            "csr": _station_csr(STATION_ID, vault.PARTNER_ORGANIZATION), "common_name": STATION_ID})["data"]
        cert = x509.load_pem_x509_certificate(signed["certificate"].encode())
        # the role's O wins over the CSR's
        assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == organization
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == STATION_ID
        client.write_data(f"{mount}/revoke", data={"serial_number": signed["serial_number"]})


def test_an_existing_lab_gains_the_partner_role_at_up(vault_lab):
    """A lab home bootstrapped before the partner operator existed gets its role and policy at the next ``up``."""
    home, lab = vault_lab
    paths = LabPaths.resolve(home)
    client = vault.root_client(paths, lab.addr)
    client.delete(f"{vault.PKI_MOUNT}/roles/{vault.PARTNER_STATION_ROLE}")
    older_policy = vault.POLICY_HCL.replace(vault._station_role_policy(vault.PKI_MOUNT, vault.PARTNER_STATION_ROLE), "")
    client.sys.create_or_update_policy(vault.POLICY, older_policy)

    again = vault.up(home)

    assert f"role {vault.PARTNER_STATION_ROLE}" in again.changes and f"policy {vault.POLICY}" in again.changes
    assert vault.up(home).changes == []
    _approle_client(again).write_data(f"{vault.PKI_MOUNT}/sign/{vault.PARTNER_STATION_ROLE}",
                                      data={"csr": _station_csr("LAB-CP-0003", vault.PARTNER_ORGANIZATION),
                                            "common_name": "LAB-CP-0003"})


@pytest.mark.parametrize("method, path", [
    ("post", f"/v1/{vault.PKI_ROOT_MOUNT}/root/generate/internal"),
    ("get", "/v1/sys/mounts"),
    ("post", f"/v1/{vault.PKI_MOUNT}/issue/{vault.CSMS_ROLE}"),
    ("post", f"/v1/{vault.PKI_INFRA_MOUNT}/issue/{vault.CSMS_ROLE}"),
    ("get", "/v1/secret/data/other/thing"),
])
def test_approle_is_least_privilege(vault_lab, method, path):
    _, lab = vault_lab
    client = _approle_client(lab)
    with pytest.raises(hvac.exceptions.Forbidden):
        getattr(client.adapter, method)(path, json={"common_name": "x"} if method == "post" else None)


def test_periodic_token_has_only_the_policy(vault_lab):
    _, lab = vault_lab
    client = hvac.Client(url=lab.addr, token=lab.token, verify=str(lab.ca_cert))
    info = client.auth.token.lookup_self()["data"]
    assert info["policies"] == [vault.POLICY]
    assert info["period"] > 0
    client.secrets.kv.v2.create_or_update_secret("evcs/lab/stations/LAB-CP-0001", secret={"password": "x"},
                                                 mount_point=vault.KV_MOUNT)
    with pytest.raises(hvac.exceptions.Forbidden):
        client.sys.list_policies()


def _serve_one_tls_client(server_ctx: ssl.SSLContext, listener: socket.socket) -> None:
    conn, _ = listener.accept()
    with server_ctx.wrap_socket(conn, server_side=True) as tls:
        tls.sendall(b"ok")


def test_csms_server_certificate_verifies_against_root(vault_lab):
    home, _ = vault_lab
    paths = LabPaths.resolve(home)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(paths.csms_cert, paths.csms_key)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        serving = threading.Thread(target=_serve_one_tls_client, args=(server_ctx, listener), daemon=True)
        serving.start()
        client_ctx = ssl.create_default_context(cafile=str(paths.root_ca))
        with socket.create_connection(listener.getsockname(), timeout=5) as raw, \
                client_ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.recv(2) == b"ok"
        serving.join(5)
    leaf = x509.load_pem_x509_certificates(paths.csms_cert.read_bytes())[0]
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]


def test_restart_keeps_the_pki(vault_lab):
    home, first = vault_lab
    paths = LabPaths.resolve(home)
    serials = _ca_serials(paths)

    assert vault.down(home) is True
    assert vault.status(home)["pid"] is None
    restarted = vault.up(home)

    assert restarted.changes == []
    assert restarted.pid != first.pid and restarted.addr == first.addr
    assert _ca_serials(paths) == serials
    _approle_client(restarted).write_data(f"{vault.PKI_MOUNT}/sign/{vault.STATION_ROLE}",
                                          data={"csr": _station_csr("LAB-CP-0002"), "common_name": "LAB-CP-0002"})
