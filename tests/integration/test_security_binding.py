"""Least privilege per environment and a certificate bound to its station, against the lab's real OpenBao (issue 17).

Each attack here succeeded with the lab (and the policy docs/SECURITY.md prescribed) before issue 17: the lab AppRole
signed from the production mount, signed CN=csms.evil.example, revoked the CSMS's server certificate, wrote production
KV records; a CSR with two CNs came back with the second CN, a CSR with SANs was signed with them.
"""

from __future__ import annotations

import ipaddress

import hvac
import hvac.exceptions
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtensionOID, NameOID

from evcs_lab import vault as lab_vault
from evcs_lab.paths import LabPaths

from ansible_collections.evcs.provisioning.plugins.module_utils import identity
from ansible_collections.evcs.provisioning.plugins.module_utils import vault
from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure, RunContext

ORGANIZATION = "EVCS Lab Operator"


@pytest.fixture(scope="module")
def openbao(vault_lab):
    home, lab = vault_lab
    return home, lab


def _login(lab, environment="lab"):
    credentials = lab.credentials[environment]
    client = hvac.Client(url=lab.addr, verify=str(lab.ca_cert))
    client.auth.approle.login(role_id=credentials["role_id"], secret_id=credentials["secret_id"],
                              mount_point=lab_vault.APPROLE_MOUNT)
    return client


def _root(home, lab):
    return lab_vault.root_client(LabPaths.resolve(home), lab.addr)


def _csr(*cns, sans=(), key=None):
    key = key or ec.generate_private_key(ec.SECP256R1())
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION)]
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name(attributes + [x509.NameAttribute(NameOID.COMMON_NAME, cn) for cn in cns]))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def _refused(action):
    with pytest.raises((hvac.exceptions.Forbidden, hvac.exceptions.InvalidRequest)):
        action()


# -- least privilege per environment ---------------------------------------------------------------------------------
def test_each_environment_has_its_own_approle_policy_and_token(openbao):
    _home, lab = openbao
    lab_creds, prod_creds = lab.credentials["lab"], lab.credentials["production"]
    assert lab_creds["role_id"] != prod_creds["role_id"] and lab_creds["secret_id"] != prod_creds["secret_id"]
    assert lab_creds["token"] != prod_creds["token"]
    for environment in ("lab", "production"):
        info = _login(lab, environment).auth.token.lookup_self()["data"]
        assert info["policies"] == [lab_vault.POLICIES[environment]]


def test_the_lab_approle_cannot_sign_from_the_production_mount(openbao):
    _home, lab = openbao
    client = _login(lab)
    _refused(lambda: client.write_data(f"{lab_vault.PKI_PROD_MOUNT}/sign/{lab_vault.STATION_ROLE}",
                                       data={"csr": _csr("LAB-X-0001"), "common_name": "LAB-X-0001"}))
    # and its own mount still works
    answer = client.write_data(f"{lab_vault.PKI_MOUNT}/sign/{lab_vault.STATION_ROLE}",
                               data={"csr": _csr("LAB-X-0001"), "common_name": "LAB-X-0001", "exclude_cn_from_sans": True})
    assert "CERTIFICATE" in answer["data"]["certificate"]


@pytest.mark.parametrize("common_name", ["csms.evil.example", "csms-evil.example", "localhost", "evil/../x"])
def test_a_foreign_common_name_is_refused(openbao, common_name):
    _home, lab = openbao
    client = _login(lab)
    _refused(lambda: client.write_data(f"{lab_vault.PKI_MOUNT}/sign/{lab_vault.STATION_ROLE}",
                                       data={"csr": _csr(common_name), "common_name": common_name}))
    _refused(lambda: client.write_data(f"{lab_vault.PKI_MOUNT}/issue/{lab_vault.STATION_ROLE}",
                                       data={"common_name": common_name}))


@pytest.mark.parametrize("extra", [{"alt_names": "LAB-CP-0002"}, {"ip_sans": "127.0.0.1"},
                                   {"uri_sans": "urn:x"}, {"other_sans": "1.2.3.4;UTF8:x"}])
def test_names_beside_the_common_name_are_refused(openbao, extra):
    _home, lab = openbao
    client = _login(lab)
    _refused(lambda: client.write_data(f"{lab_vault.PKI_MOUNT}/sign/{lab_vault.STATION_ROLE}",
                                       data=dict(extra, csr=_csr("LAB-X-0002"), common_name="LAB-X-0002")))


def test_the_csms_server_certificate_cannot_be_revoked_by_an_environment(openbao):
    home, lab = openbao
    paths = LabPaths.resolve(home)
    serial = x509.load_pem_x509_certificates(paths.csms_cert.read_bytes())[0].serial_number
    text = format(serial, "x")
    vault_serial = ":".join((("0" + text) if len(text) % 2 else text)[i:i + 2] for i in range(0, len(text) + len(text) % 2, 2))
    for environment in ("lab", "production"):
        client = _login(lab, environment)
        _refused(lambda: client.write_data(f"{lab_vault.PKI_INFRA_MOUNT}/revoke", data={"serial_number": vault_serial}))
        for mount, _name in lab_vault.ISSUING_CAS.values():
            try:
                client.write_data(f"{mount}/revoke", data={"serial_number": vault_serial})
            except hvac.exceptions.VaultError:
                pass  # refused or unknown on that mount: either way not revoked
    stored = _root(home, lab).read(f"{lab_vault.PKI_INFRA_MOUNT}/cert/{vault_serial}")["data"]
    assert not stored.get("revocation_time"), "the CSMS server certificate was revoked"


def test_kv_is_limited_to_the_environments_stations(openbao):
    _home, lab = openbao
    client = _login(lab)
    kv = client.secrets.kv.v2
    _refused(lambda: kv.create_or_update_secret("evcs/production/stations/PRD-1", secret={"x": "1"}, mount_point="secret"))
    _refused(lambda: kv.read_secret_version("evcs/production/stations/PRD-1", mount_point="secret",
                                            raise_on_deleted_version=False))
    _refused(lambda: kv.create_or_update_secret("evcs/lab/tariffs/T1", secret={"x": "1"}, mount_point="secret"))
    _refused(lambda: kv.create_or_update_secret("other/lab/stations/X", secret={"x": "1"}, mount_point="secret"))
    # its own stations' secrets, with check-and-set, and a lease below a station (issue 18) stay possible
    path = "evcs/lab/stations/KV-CP-0001/lease"
    kv.create_or_update_secret(path, secret={"holder": "run-1"}, cas=0, mount_point="secret")
    with pytest.raises(hvac.exceptions.InvalidRequest):
        kv.create_or_update_secret(path, secret={"holder": "run-2"}, cas=0, mount_point="secret")
    assert kv.read_secret_version(path, mount_point="secret", raise_on_deleted_version=True)["data"]["data"] == {"holder": "run-1"}
    kv.read_secret_metadata(path, mount_point="secret")
    kv.delete_metadata_and_all_versions(path, mount_point="secret")
    client.list("secret/metadata/evcs/lab/stations")


# -- the issued certificate names exactly its station ------------------------------------------------------------------
def _sign_as_collection(lab, csr_pem, common_name):
    params = {"vault_url": lab.addr, "vault_ca_path": str(lab.ca_cert), "vault_auth_method": "approle",
              "vault_role_id": lab.role_id, "vault_secret_id": lab.secret_id, "vault_retries": 0}
    answer = vault.vault_pki(dict(params, vault_pki_mount=lab_vault.PKI_MOUNT)).sign(
        lab_vault.STATION_ROLE, csr_pem, common_name, "1h")
    return x509.load_pem_x509_certificate(answer["certificate"].encode())


def _names(cert):
    try:
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    except x509.ExtensionNotFound:
        san = []
    return [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)], [str(n.value) for n in san]


def test_the_pki_role_ignores_a_second_cn_in_the_csr(openbao):
    _home, lab = openbao
    cert = _sign_as_collection(lab, _csr("LAB-CP-0001", "LAB-CP-0002"), "LAB-CP-0001")
    assert _names(cert) == (["LAB-CP-0001"], [])


def test_the_pki_role_ignores_sans_in_the_csr(openbao):
    _home, lab = openbao
    sans = [x509.DNSName("LAB-CP-0002"), x509.DNSName("csms.example.net"), x509.IPAddress(ipaddress.ip_address("10.1.1.1"))]
    cert = _sign_as_collection(lab, _csr("LAB-CP-0003", sans=sans), "LAB-CP-0003")
    assert _names(cert) == (["LAB-CP-0003"], [])


class _CraftedStation(object):
    """A CSMS backend whose station answers the CSR trigger with a crafted CSR; records CertificateSigned."""

    NAME = "crafted"

    def __init__(self, csr_pem):
        self.csr = {"action": "SignCertificate", "received_at": "later", "payload": {"csr": csr_pem}}
        self.calls = []

    def has(self, capability):
        return capability in ("station_messages",)

    def now(self):
        return "2026-12-07T12:00:00.000Z"

    def connection(self, station_id):
        return None

    def wait_for_message(self, station_id, action, since, timeout, request_id=None):
        assert any(call == "TriggerMessage" for call, _ in self.calls), "a CSR is awaited only after the trigger"
        return [self.csr]

    def call(self, station_id, action, payload):
        self.calls.append((action, payload))
        if action == "GetVariables":
            return {"getVariableResult": [{"attributeStatus": "Accepted", "attributeValue": ORGANIZATION}]}
        return {"status": "Accepted"}


@pytest.mark.parametrize("csr", [
    lambda: _csr("LAB-CP-0001", "LAB-CP-0002"),
    lambda: _csr("LAB-CP-0002", "LAB-CP-0001"),
    lambda: _csr("LAB-CP-0001", sans=[x509.DNSName("LAB-CP-0002")]),
    lambda: _csr("LAB-CP-0001", sans=[x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
    lambda: _csr("LAB-CP-0001", key=ec.generate_private_key(ec.SECP521R1())),
], ids=["two-cn", "two-cn-reversed", "san-station", "san-ip", "p521"])
def test_the_collection_refuses_a_crafted_csr_before_vault(openbao, monkeypatch, csr):
    home, lab = openbao
    station = _CraftedStation(csr())
    monkeypatch.setattr(identity, "task_backend", lambda params, context: station)
    root = _root(home, lab)
    before = len(root.list(f"{lab_vault.PKI_MOUNT}/certs")["data"]["keys"])
    params = {"vault_url": lab.addr, "vault_ca_path": str(lab.ca_cert), "vault_validate_certs": True,
              "vault_timeout": 10, "vault_retries": 0, "vault_auth_method": "approle", "vault_role_id": lab.role_id,
              "vault_secret_id": lab.secret_id, "vault_pki_mount": lab_vault.PKI_MOUNT,
              "vault_pki_role": lab_vault.STATION_ROLE, "vault_kv_mount": "secret", "environment": "lab",
              "station_id": "LAB-CP-0001", "state": "present", "mode": "station", "organization": ORGANIZATION,
              "ttl": None, "renew_before": 30, "renew_at_fraction": 0.6667, "force": True, "revoke_previous": False,
              "key_policy": {}, "csr_timeout": 5, "dest": None}
    with pytest.raises(ModuleFailure, match="breaks policy, nothing was signed"):
        identity.run_station_certificate(params, RunContext())
    assert len(root.list(f"{lab_vault.PKI_MOUNT}/certs")["data"]["keys"]) == before
    assert not [action for action, _ in station.calls if action == "CertificateSigned"]


def test_a_certificate_vault_signs_with_another_name_is_revoked_not_installed(openbao, monkeypatch):
    """A PKI role that takes the CSR's CN (as the lab's did): the collection finds out after signing and revokes."""
    home, lab = openbao
    root = _root(home, lab)
    loose = dict(lab_vault.station_role_settings(ORGANIZATION), use_csr_common_name=True, use_csr_sans=True,
                 allowed_domains=["*"])
    root.write_data(f"{lab_vault.PKI_MOUNT}/roles/{lab_vault.STATION_ROLE}", data=loose)
    try:
        station = _CraftedStation(_csr("LAB-CP-0001"))
        monkeypatch.setattr(identity, "task_backend", lambda params, context: station)
        monkeypatch.setattr(identity.certs, "csr_problems", lambda *args, **kwargs: [])
        station.csr = {"action": "SignCertificate", "received_at": "later", "payload": {"csr": _csr("LAB-CP-0002")}}
        params = {"vault_url": lab.addr, "vault_ca_path": str(lab.ca_cert), "vault_validate_certs": True,
                  "vault_timeout": 10, "vault_retries": 0, "vault_auth_method": "approle", "vault_role_id": lab.role_id,
                  "vault_secret_id": lab.secret_id, "vault_pki_mount": lab_vault.PKI_MOUNT,
                  "vault_pki_role": lab_vault.STATION_ROLE, "vault_kv_mount": "secret", "environment": "lab",
                  "station_id": "LAB-CP-0001", "state": "present", "mode": "station", "organization": ORGANIZATION,
                  "ttl": None, "renew_before": 30, "renew_at_fraction": 0.6667, "force": True, "revoke_previous": False,
                  "key_policy": {}, "csr_timeout": 5, "dest": None}
        with pytest.raises(ModuleFailure, match="does not name exactly the station") as failure:
            identity.run_station_certificate(params, RunContext())
        serial = str(failure.value).split("(serial ")[1].split(")")[0]
        text = serial if len(serial) % 2 == 0 else "0" + serial
        stored = root.read(f"{lab_vault.PKI_MOUNT}/cert/{':'.join(text[i:i + 2] for i in range(0, len(text), 2))}")
        assert stored["data"]["revocation_time"], "the wrongly named certificate must be revoked"
        assert not [action for action, _ in station.calls if action == "CertificateSigned"]
    finally:
        lab_vault.up(home)  # the bootstrap puts the pinned role back


def test_the_bootstrap_is_idempotent_and_builds_the_documented_policy(openbao):
    home, lab = openbao
    assert lab_vault.up(home).changes == []
    root = _root(home, lab)
    for environment in ("lab", "production"):
        rules = root.read(f"sys/policy/{lab_vault.POLICIES[environment]}")["data"]["rules"]
        assert rules == lab_vault.policy_hcl(environment)
        other = "production" if environment == "lab" else "lab"
        assert f"evcs/{other}/" not in rules and lab_vault.PKI_INFRA_MOUNT not in rules


def test_station_password_writes_use_check_and_set(openbao):
    """A station-password write on a version another writer replaced meanwhile fails instead of overwriting it."""
    _home, lab = openbao
    params = {"vault_url": lab.addr, "vault_ca_path": str(lab.ca_cert), "vault_auth_method": "approle",
              "vault_role_id": lab.role_id, "vault_secret_id": lab.secret_id, "vault_retries": 0}
    kv = vault.VaultKv(vault.vault_session(params), "secret")
    path = "evcs/lab/stations/CAS-CP-0001"
    data, version = kv.current(path)
    assert (data, version) == ({}, 0)
    first = kv.replace(path, {"basic_auth_password": "first-password-0123"}, version)
    kv.replace(path, {"basic_auth_password": "someone-else-0123"}, first)
    with pytest.raises(vault.VaultError, match="changed by another writer"):
        kv.replace(path, {"basic_auth_password": "stale-writer-0123"}, first)
    assert kv.current(path)[0] == {"basic_auth_password": "someone-else-0123"}


def test_factory_key_files_never_follow_a_planted_symlink(openbao, tmp_path):
    """Item 7: a symlink planted at the key path is replaced, the file it points to is never written; directory 0700."""
    import os
    import stat
    _home, lab = openbao
    dest, victim = tmp_path / "factory", tmp_path / "victim.txt"
    dest.mkdir(mode=0o755)
    victim.write_text("operator data\n")
    (dest / "FACTORY-CP-0009.key").symlink_to(victim)
    params = {"vault_url": lab.addr, "vault_ca_path": str(lab.ca_cert), "vault_validate_certs": True,
              "vault_timeout": 10, "vault_retries": 0, "vault_auth_method": "approle", "vault_role_id": lab.role_id,
              "vault_secret_id": lab.secret_id, "vault_pki_mount": lab_vault.PKI_MOUNT,
              "vault_pki_role": lab_vault.STATION_ROLE, "vault_kv_mount": "secret", "environment": "lab",
              "station_id": "FACTORY-CP-0009", "state": "present", "mode": "factory", "organization": ORGANIZATION,
              "ttl": "24h", "renew_before": 0, "renew_at_fraction": 0.9, "force": False, "revoke_previous": False,
              "key_policy": {}, "csr_timeout": 5, "dest": str(dest)}
    result = identity.run_station_certificate(params, RunContext())
    assert result["changed"]
    key = dest / "FACTORY-CP-0009.key"
    assert victim.read_text() == "operator data\n"
    assert not key.is_symlink() and "PRIVATE KEY" in key.read_text()
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600 and stat.S_IMODE(os.stat(dest).st_mode) == 0o700
    assert not [name for name in os.listdir(dest) if name.endswith(".tmp")]
