"""OCPP 1.6J charge points with the Security Extension against the lab (issue 20 items 3, 4 and 8): the real playbooks
take a factory 1.6 charge point to profile 3 with a Vault certificate made from its own CSR (CN = its serial number),
rotate its AuthorizationKey from Vault without ever showing it, refuse bad input before any write, leave a charge
point that cannot reach its new endpoint connected and reported, renew and decommission it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import hvac
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import PLAYBOOK_TIMEOUT, REPO_ROOT, VENV_BIN, lab_env, parse_recap  # noqa: E402
from security_helpers import wait_for, write_inventory  # noqa: E402

pytestmark = pytest.mark.integration

PLAYBOOK = "playbooks/security_upgrade.yml"
ORGANIZATION = "EVCS Lab Operator"
ENROLLED, KEYED, UNREACHABLE, SHORT = "S16-CP-0001", "S16-CP-0002", "S16-CP-0003", "S16-CP-0004"
#: a charge point that keeps its connection after the Accepted and takes the new profile at its next Reset
AT_RESET = "S16-CP-0005"
#: what a valid inventory declares for the lab's 1.6 charge point model (station model evcs-sim-16)
STATION16 = {"vendor": "EVCS Sim", "model": "SimCharger AC11-16", "ocpp_version": "1.6",
             "evses": [{"id": 1, "max_current_a": 16, "phases": 3, "voltage_v": 230,
                        "connectors": [{"id": 1, "type": "cType2", "format": "Socket", "max_current_a": 16}]}]}


def serial(station_id: str) -> str:
    """The serial number the lab's simulator gives a charge point it adds (``SN-<id>``)."""
    return f"SN-{station_id}"


def add16(lab, ids: list[str]) -> None:
    """Factory-fresh 1.6 charge points (profile 1, the staging AuthorizationKey), registered in the CSMS, online."""
    for station_id in ids:
        lab.csms.put_record("stations", station_id, {"status": "active", "serial_number": serial(station_id)})
    lab.sim.add(ids, ocpp_version="1.6")
    wait_for(lambda: all((lab.csms.connection(station_id) or {}).get("online") for station_id in ids),
             "1.6 charge points online", 30)


def inventory16(directory: Path, stations: dict[str, dict]) -> str:
    return write_inventory(directory, {station_id: {**STATION16, "serial_number": serial(station_id), **overrides}
                                       for station_id, overrides in stations.items()})


def kv(lab, station_id: str) -> dict:
    vault = lab["vault"]
    client = hvac.Client(url=vault["addr"], token=vault["token"], verify=vault["ca_cert"])
    return client.secrets.kv.v2.read_secret_version(path=f"evcs/lab/stations/{station_id}", mount_point="secret",
                                                    raise_on_deleted_version=False)["data"]["data"]


def admitted(lab, station_id: str, password: str) -> bool:
    return lab.csms.http.request("POST", f"/api/stations/{station_id}/credentials/verify",
                                 json={"password": password})["valid"]


def decommission(lab, inventory: str, station_id: str):
    """decommission.yml --limit <station> (the playbook refuses a run without --limit): ``(rc, output, recap)``."""
    argv = [str(VENV_BIN / "ansible-playbook"), "-i", inventory, "playbooks/decommission.yml", "--limit", station_id,
            "-e", json.dumps({"evcs_decommission_confirmed": True})]
    done = subprocess.run(argv, env=lab_env(lab.home), cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=PLAYBOOK_TIMEOUT, check=False)
    return done.returncode, done.stdout + done.stderr, parse_recap(done.stdout)


def vault_certificates(lab, common_name: str) -> list[tuple[str, bool]]:
    """(serial, revoked) of every certificate of the lab's issuing mount with that CN."""
    vault = lab["vault"]
    client = hvac.Client(url=vault["addr"], token=vault["token"], verify=vault["ca_cert"])
    found = []
    for number in client.secrets.pki.list_certificates(mount_point=vault["pki_mount"])["data"]["keys"]:
        data = client.secrets.pki.read_certificate(number, mount_point=vault["pki_mount"])["data"]
        cert = x509.load_pem_x509_certificate(data["certificate"].encode())
        if [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)] == [common_name]:
            found.append((number, bool(data.get("revocation_time"))))
    return found


def calls(lab, station_id: str) -> dict:
    return (lab.csms.stats().get("stations") or {}).get(station_id) or {}


@pytest.fixture(scope="module")
def fleet(lab):
    add16(lab, [ENROLLED, KEYED, UNREACHABLE, SHORT])


def _subject(pem: str) -> tuple:
    cert = x509.load_pem_x509_certificate(pem.encode())
    first = (lambda name, oid: [a.value for a in name.get_attributes_for_oid(oid)])
    return (first(cert.subject, NameOID.COMMON_NAME), first(cert.subject, NameOID.ORGANIZATION_NAME),
            first(cert.issuer, NameOID.COMMON_NAME))


def test_factory_to_profile_3_with_a_certificate_from_its_own_csr(lab, fleet, run_playbook, tmp_path):
    from evcs_lab import vault as lab_vault
    inventory = inventory16(tmp_path / "inv", {ENROLLED: {"security_profile": 3}})
    rc, output, recap = run_playbook(PLAYBOOK, inventory=inventory, extra_vars={"security_timeout": 60})
    assert rc == 0 and recap[ENROLLED]["failed"] == 0, output[-5000:]
    connection = lab.csms.connection(ENROLLED)
    assert connection["ocpp_version"] == "1.6" and connection["online"] and connection["security_profile"] == 3
    # the certificate the charge point presents: CN = its serial (A00.FR.405), O = the CPO name, from the lab's issuer
    assert _subject(connection["client_certificate"]) == ([serial(ENROLLED)], [ORGANIZATION],
                                                          [lab_vault.ISSUING_CA_NAME])
    # made from its own CSR: the CSMS received a SignCertificate from the charge point
    assert lab.csms.csr(ENROLLED)
    rc, output, recap = run_playbook(PLAYBOOK, inventory=inventory, extra_vars={"security_timeout": 60})
    assert rc == 0 and recap[ENROLLED]["changed"] == 0, output[-5000:]


def test_renewal_and_decommission(lab, fleet, run_playbook, tmp_path):
    inventory = inventory16(tmp_path / "inv", {ENROLLED: {"security_profile": 3}})
    before = lab.csms.connection(ENROLLED)["client_certificate"]
    rc, output, recap = run_playbook("playbooks/renew_certificates.yml", inventory=inventory,
                                     extra_vars={"identity_force": True, "identity_revoke_previous": True})
    assert rc == 0 and recap[ENROLLED]["failed"] == 0, output[-5000:]
    assert "renewed" in output
    wait_for(lambda: lab.csms.connection(ENROLLED)["client_certificate"] not in (None, before),
             "the renewed certificate presented", 60)
    assert _subject(lab.csms.connection(ENROLLED)["client_certificate"])[0] == [serial(ENROLLED)]
    signed = vault_certificates(lab, serial(ENROLLED))
    assert len(signed) >= 2 and sum(1 for _serial, revoked in signed if not revoked) == 1, signed
    lab.csms.reset_stats()
    rc, output, recap = decommission(lab, inventory, ENROLLED)
    assert rc == 0 and recap[ENROLLED]["failed"] == 0, output[-5000:]
    assert lab.csms.record("stations", ENROLLED)["status"] == "retired"
    assert all(revoked for _serial, revoked in vault_certificates(lab, serial(ENROLLED)))
    assert "DeleteCertificate" not in calls(lab, ENROLLED), "a 1.6 charge point's own certificate is never deleted"
    rc, output, recap = decommission(lab, inventory, ENROLLED)
    assert rc == 0 and recap[ENROLLED]["changed"] == 0, output[-5000:]


def test_authorization_key_from_vault_never_shows(lab, fleet, run_playbook, tmp_path):
    inventory = inventory16(tmp_path / "inv", {KEYED: {"security_profile": 1}})
    audit = tmp_path / "audit.jsonl"
    env = {"EVCS_AUDIT_FILE": str(audit), "ANSIBLE_CALLBACKS_ENABLED": "evcs.provisioning.audit"}
    rc, first, recap = run_playbook(PLAYBOOK, inventory=inventory, diff=True, verbosity=3, env=env)
    assert rc == 0 and recap[KEYED]["failed"] == 0, first[-5000:]
    key = kv(lab, KEYED)["basic_auth_password"]
    assert len(key) == 40 and bytes.fromhex(key)
    staging = lab["csms"]["staging_password"]
    assert admitted(lab, KEYED, key), "the CSMS admits the key from Vault"
    assert not admitted(lab, KEYED, staging.encode().hex().upper()), "the factory key is retired"
    sim_keys = {item["key"]: item for item in lab.sim.station(KEYED)["configuration_keys"]}
    assert sim_keys["AuthorizationKey"].get("value") in (None, key), "the charge point holds the key from Vault"
    assert lab.csms.connection(KEYED)["online"] and lab.csms.connection(KEYED)["security_profile"] == 1
    rc, rotated, recap = run_playbook(PLAYBOOK, inventory=inventory, diff=True, verbosity=3, env=env,
                                      extra_vars={"security_rotate_password": True})
    assert rc == 0 and recap[KEYED]["changed"] >= 1, rotated[-5000:]
    new = kv(lab, KEYED)["basic_auth_password"]
    assert new != key and admitted(lab, KEYED, new) and not admitted(lab, KEYED, key)
    assert "(rotated)" in rotated
    trail = audit.read_text()
    for secret in (key, new, staging.encode().hex().upper()):
        for spelling in (secret, secret.lower()):
            assert spelling not in first and spelling not in rotated and spelling not in trail
    rc, output, recap = run_playbook(PLAYBOOK, inventory=inventory)
    assert rc == 0 and recap[KEYED]["changed"] == 0, output[-5000:]


def test_an_authorization_key_outside_the_allowed_length_is_refused_before_any_write(lab, fleet, run_playbook,
                                                                                        tmp_path):
    inventory = inventory16(tmp_path / "inv", {SHORT: {"security_profile": 1}})
    lab.csms.reset_stats()
    rc, output, recap = run_playbook(PLAYBOOK, inventory=inventory, extra_vars={"security_password_length": 21})
    assert rc != 0 and recap[SHORT]["failed"] == 1, output[-5000:]
    assert "16 to 20 bytes" in output and SHORT in output
    assert "ChangeConfiguration" not in calls(lab, SHORT)


def test_unreachable_new_endpoint_leaves_the_charge_point_connected_and_reported(lab, fleet, run_playbook, tmp_path):
    # profile 2 pointed at the mTLS endpoint: TLS works from the controller, the charge point (no certificate) is
    # refused there and falls back to its previous profile (A05.FR.08)
    inventory = inventory16(tmp_path / "inv", {UNREACHABLE: {"security_profile": 2}})
    hosts = Path(inventory) / "host_vars"
    hosts.mkdir()
    (hosts / f"{UNREACHABLE}.yml").write_text(f"security_csms_url: {lab['csms']['ws_urls']['3']}\n")
    rc, output, recap = run_playbook(PLAYBOOK, inventory=inventory, extra_vars={"security_timeout": 60})
    assert rc != 0 and recap[UNREACHABLE]["failed"] == 1, output[-5000:]
    assert "A05.FR.08" in output and "previous security profile 1" in output
    connection = lab.csms.connection(UNREACHABLE)
    assert connection["online"] and connection["security_profile"] == 1


def test_a_charge_point_that_takes_the_new_profile_only_at_a_reset_gets_one_reset_hard(lab, run_playbook, tmp_path):
    # the other behaviour a Central System meets (OCTT TC_083_CSMS sends Reset Hard after the Accepted); the
    # collection waits a while for the reconnect of A05.FR.07, then sends one Reset (Hard)
    add16(lab, [AT_RESET])
    lab.sim.faults(AT_RESET, security_profile_at_reset=True)
    inventory = inventory16(tmp_path / "inv", {AT_RESET: {"security_profile": 2}})
    rc, output, recap = run_playbook(PLAYBOOK, inventory=inventory, extra_vars={"security_timeout": 60})
    assert rc == 0 and recap[AT_RESET]["failed"] == 0, output[-5000:]
    connection = lab.csms.connection(AT_RESET)
    assert connection["online"] and connection["security_profile"] == 2
    assert connection["endpoint"] == f"{lab['csms']['ws_urls']['2']}/{AT_RESET}"
    assert lab.sim.station(AT_RESET)["resets"] == 1
    rc, output, recap = run_playbook(PLAYBOOK, inventory=inventory, extra_vars={"security_timeout": 60})
    assert rc == 0 and recap[AT_RESET]["changed"] == 0, output[-5000:]
    assert lab.sim.station(AT_RESET)["resets"] == 1


# -- a bad CSR, against the lab's real OpenBao -------------------------------------------------------------------------
class _Crafted16(object):
    """A CSMS backend whose 1.6 charge point answers ExtendedTriggerMessage with a crafted CSR."""

    NAME = "crafted"

    def __init__(self, csr_pem, reported_serial):
        self.csr = {"action": "SignCertificate", "received_at": "later", "payload": {"csr": csr_pem}}
        self.reported_serial = reported_serial
        self.calls = []

    def has(self, capability):
        return capability in ("station_messages",)

    def now(self):
        return "2026-12-07T12:00:00.000Z"

    def connection(self, station_id):
        return {"online": True, "ocpp_version": "1.6",
                "boot": {"charge_point": {"chargePointSerialNumber": self.reported_serial}}}

    def wait_for_message(self, station_id, action, since, timeout, request_id=None):
        assert ("ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"}) in self.calls
        return [self.csr]

    def call(self, station_id, action, payload):
        self.calls.append((action, payload))
        if action == "GetConfiguration":
            return {"configurationKey": [{"key": "CpoName", "readonly": False, "value": ORGANIZATION}]}
        return {"status": "Accepted"}


def _csr(cn):
    key = ec.generate_private_key(ec.SECP256R1())
    return (x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
                                     x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode())


@pytest.mark.parametrize("cn", ["LAB-CP-0105", "SN-OTHER-0001"], ids=["station-id", "another-serial"])
def test_a_csr_that_does_not_name_the_serial_is_refused_before_vault(vault_lab, monkeypatch, cn):
    from evcs_lab import vault as lab_vault
    from evcs_lab.paths import LabPaths

    from ansible_collections.evcs.provisioning.plugins.module_utils import identity
    from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure, RunContext

    home, openbao = vault_lab
    station = _Crafted16(_csr(cn), "SN-LAB-CP-0105")
    monkeypatch.setattr(identity, "task_backend", lambda params, context: station)
    root = lab_vault.root_client(LabPaths.resolve(home), openbao.addr)
    count = (lambda: len(((root.list(f"{lab_vault.PKI_MOUNT}/certs") or {}).get("data") or {}).get("keys") or []))
    before = count()
    params = {"vault_url": openbao.addr, "vault_ca_path": str(openbao.ca_cert), "vault_validate_certs": True,
              "vault_timeout": 10, "vault_retries": 0, "vault_auth_method": "approle", "vault_role_id": openbao.role_id,
              "vault_secret_id": openbao.secret_id, "vault_pki_mount": lab_vault.PKI_MOUNT,
              "vault_pki_role": lab_vault.STATION_ROLE, "vault_kv_mount": "secret", "environment": "lab",
              "station_id": "LAB-CP-0105", "serial_number": "SN-LAB-CP-0105", "ocpp_version": "1.6",
              "state": "present", "mode": "station", "organization": ORGANIZATION, "ttl": None, "renew_before": 30,
              "renew_at_fraction": 0.6667, "force": True, "revoke_previous": False, "key_policy": {},
              "csr_timeout": 5, "dest": None}
    with pytest.raises(ModuleFailure) as failure:
        identity.run_station_certificate(params, RunContext())
    assert "breaks policy, nothing was signed" in str(failure.value) and "A00.FR.405" in str(failure.value)
    assert count() == before
    assert not [action for action, _ in station.calls if action == "CertificateSigned"]
    assert json.dumps(station.calls).count("SignChargePointCertificate") == 1
