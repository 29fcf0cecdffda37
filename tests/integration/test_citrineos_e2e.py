"""The lab inventory end to end on a real CitrineOS 1.8.3 (``evcs_csms.backend: citrineos``).

One CitrineOS per test session (fixture ``citrineos_lab``: ``evcs-lab up --csms citrineos``, skipped with how to
enable it when no CitrineOS source is available). In order: provision.yml brings every station to its declared
security profile through CitrineOS (certificates signed by Vault, sent by CitrineOS), a second run changes nothing,
verify.yml finds no drift and names every stage CitrineOS cannot do, renew_certificates.yml renews a certificate
near expiry, decommission.yml takes a station out (and changes nothing the second time). A CitrineOS that signs CSRs
itself is refused before the collection sends anything. The lab inventory's OCPP 1.6J charge points are left out of
these runs (``evcs_targets``): the citrineos backend does not speak OCPP 1.6 yet and the CitrineOS lab does not run them.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import hvac
import pytest
import yaml
from cryptography import x509

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import REPO_ROOT, ansible_playbook  # noqa: E402

from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CsmsError  # noqa: E402
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.connection import csms_backend  # noqa: E402

HOST_VARS = REPO_ROOT / "inventories" / "lab" / "host_vars"
#: the stations of inventories/lab (its hosts.yml; a host_vars file of a station not listed there is not one of them)
_HOSTS = yaml.safe_load((HOST_VARS.parent / "hosts.yml").read_text())["all"]["children"]
_STATIONS = {path.stem: yaml.safe_load(path.read_text())["evcs_station"] for path in sorted(HOST_VARS.glob("*.yml"))
             if any(path.stem in (group.get("hosts") or {}) for group in _HOSTS.values())}
#: the lab fleet is mixed, but the citrineos backend does not speak OCPP 1.6 yet (and the CitrineOS lab leaves its 1.6
#: charge points out, `evcs-lab up --csms citrineos`): the runs here target the lab's OCPP 2.0.1 stations only
OCPP16 = sorted(station_id for station_id, station in _STATIONS.items() if str(station.get("ocpp_version")) == "1.6")
DECLARED = {station_id: station["security_profile"] for station_id, station in _STATIONS.items()
            if station_id not in OCPP16}
TARGETS = ":".join(["all", *(f"!{station_id}" for station_id in OCPP16)])
RENEWED = "LAB-CP-0001"
RETIRED = "LAB-CP-0004"
#: what CitrineOS 1.8.3 cannot do, as the run must report it (never silently skipped)
UNVERIFIABLE = (
    "not verifiable with backend citrineos: tariff lab-standard: backend citrineos cannot keep tariff records",
    "backend citrineos cannot send a local authorization list",
    "backend citrineos cannot remember the network connection profiles a station accepted",
)


def _sql(lab, query: str) -> list[list[str]]:
    """Rows of ``query`` run by the lab's database superuser (the test's own view into CitrineOS)."""
    from evcs_lab import citrineos
    from evcs_lab.paths import LabPaths

    paths = citrineos.CitrinePaths(LabPaths(lab.home))
    settings = json.loads(paths.settings.read_text())
    return [line.split("\t") for line in citrineos.psql(paths, settings, query, citrineos.DB_NAME).splitlines()]


def _ocpp_calls(lab, since_id: int) -> dict:
    """OCPP calls CitrineOS sent each station after message ``since_id`` (CALL frames, origin csms)."""
    rows = _sql(lab, 'SELECT "stationId", count(*) FROM "OCPPMessages" WHERE origin = \'csms\' AND '
                     f"message->>0 = '2' AND id > {since_id} GROUP BY 1")
    return {station: int(count) for station, count in rows}


def _last_message_id(lab) -> int:
    return int(_sql(lab, 'SELECT coalesce(max(id), 0) FROM "OCPPMessages"')[0][0])


def _stations(recap):
    return {host: counts for host, counts in recap.items() if host != "localhost"}


def _timed_playbook(lab, playbook, **options):
    options["extra_vars"] = {"evcs_targets": TARGETS, **(options.get("extra_vars") or {})}
    start = time.monotonic()
    rc, output, recap = ansible_playbook(lab.home, playbook, **options)
    return rc, output, recap, time.monotonic() - start


@pytest.fixture(scope="module")
def provisioned(citrineos_lab):
    """provision.yml once on the CitrineOS lab: ``(rc, output, recap, seconds, ocpp calls per station)``."""
    mark = _last_message_id(citrineos_lab)
    rc, output, recap, seconds = _timed_playbook(citrineos_lab, "playbooks/provision.yml")
    return rc, output, recap, seconds, _ocpp_calls(citrineos_lab, mark)


def test_provision_brings_every_station_to_its_declared_profile_through_citrineos(citrineos_lab, provisioned):
    rc, output, recap, seconds, calls = provisioned
    print(f"\nprovision on CitrineOS: {seconds:.1f}s, OCPP calls per station {calls}")
    assert rc == 0, output[-6000:]
    assert all(counts["failed"] == 0 and counts["changed"] > 0 for counts in _stations(recap).values()), recap
    for line in UNVERIFIABLE:
        assert line in output, f"not reported: {line}"
    options = citrineos_lab["csms"]["options"]
    secrets = [options["message_store"]["password"], options["registrar"]["password"],
               citrineos_lab["csms"]["staging_password"]]
    assert [secret for secret in secrets if secret in output] == [], "a database password or the staging password leaked"
    for station_id, profile in DECLARED.items():
        connections = [item for item in citrineos_lab.sim.stations() if item["id"] == station_id]
        assert connections and connections[0]["connected"] and connections[0]["security_profile"] == profile
    # the certificates CitrineOS delivered are the ones Vault issued
    delivered = _sql(citrineos_lab, "SELECT replace(message->3->>'certificateChain', chr(10), '|') FROM "
                                    "\"OCPPMessages\" WHERE action = 'CertificateSigned' AND origin = 'csms'")
    assert delivered, "no CertificateSigned went through CitrineOS"
    issued = _vault_serials(citrineos_lab)
    for (chain,) in delivered:
        leaf = x509.load_pem_x509_certificate(chain.replace("|", "\n").encode())
        assert _vault_serial(leaf) in issued, f"CitrineOS delivered a certificate Vault did not issue: {leaf.subject}"


def _vault_serial(certificate) -> str:
    digits = format(certificate.serial_number, "x")
    digits = "0" * (len(digits) % 2) + digits
    return ":".join(digits[index:index + 2] for index in range(0, len(digits), 2))


def _vault_serials(lab) -> set:
    vault_state = lab["vault"]
    client = hvac.Client(url=vault_state["addr"], token=(lab.home / "vault" / "root-token").read_text().strip(),
                         verify=vault_state["ca_cert"])
    return set(client.secrets.pki.list_certificates(mount_point=vault_state["pki_mount"])["data"]["keys"])


def test_a_second_provision_changes_nothing_on_citrineos(citrineos_lab, provisioned):
    assert provisioned[0] == 0, provisioned[1][-3000:]
    mark = _last_message_id(citrineos_lab)
    rc, output, recap, seconds = _timed_playbook(citrineos_lab, "playbooks/provision.yml")
    calls = _ocpp_calls(citrineos_lab, mark)
    print(f"\nre-run on CitrineOS: {seconds:.1f}s, OCPP calls per station {calls}")
    assert rc == 0, output[-6000:]
    assert {host: counts["changed"] for host, counts in _stations(recap).items()} == dict.fromkeys(DECLARED, 0)
    writes = _sql(citrineos_lab, 'SELECT "stationId", action FROM "OCPPMessages" WHERE origin = \'csms\' AND '
                                 f"message->>0 = '2' AND id > {mark} AND action IN ('SetVariables', "
                                 "'SetNetworkProfile', 'CertificateSigned', 'InstallCertificate', 'Reset', "
                                 "'SetChargingProfile')")
    assert writes == [], f"the re-run wrote to stations: {writes}"


def test_verify_finds_no_drift_and_names_what_citrineos_cannot_check(citrineos_lab, provisioned):
    assert provisioned[0] == 0, provisioned[1][-3000:]
    rc, output, recap, _seconds = _timed_playbook(citrineos_lab, "playbooks/verify.yml")
    assert rc == 0, output[-6000:]
    assert f"no drift on {len(DECLARED)} station(s)" in output
    for line in UNVERIFIABLE:
        assert line in output, f"verify does not report: {line}"


def test_renew_certificates_renews_through_citrineos_with_vault_as_signer(citrineos_lab, provisioned):
    assert provisioned[0] == 0, provisioned[1][-3000:]
    certificate = citrineos_lab.home / "simulator" / "stations" / f"{RENEWED}.crt"
    before = x509.load_pem_x509_certificate(certificate.read_bytes()).serial_number
    rc, output, recap, _seconds = _timed_playbook(citrineos_lab, "playbooks/renew_certificates.yml",
                                                  extra_vars={"evcs_targets": RENEWED, "identity_renew_before": 3650})
    assert rc == 0 and recap[RENEWED]["changed"] >= 1, output[-4000:]
    assert "renewed" in output
    after = x509.load_pem_x509_certificate(certificate.read_bytes())
    assert after.serial_number != before
    assert _vault_serial(after) in _vault_serials(citrineos_lab), "the station holds a certificate Vault did not issue"
    assert after.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)[0].value == RENEWED
    again = ansible_playbook(citrineos_lab.home, "playbooks/renew_certificates.yml",
                             extra_vars={"evcs_targets": RENEWED})
    assert again[0] == 0 and again[2][RENEWED]["changed"] == 0, again[1][-3000:]


def test_decommission_takes_a_station_out_once(citrineos_lab, provisioned):
    assert provisioned[0] == 0, provisioned[1][-3000:]
    argv = dict(evcs_decommission_confirmed=True)
    first = _decommission(citrineos_lab, argv)
    assert first[0] == 0 and first[2][RETIRED]["changed"] > 0, first[1][-4000:]
    second = _decommission(citrineos_lab, argv)
    assert second[0] == 0 and second[2][RETIRED]["changed"] == 0, second[1][-4000:]


def _decommission(lab, extra_vars):
    import subprocess

    from conftest import PLAYBOOK_TIMEOUT, VENV_BIN, lab_env, parse_recap

    done = subprocess.run([str(VENV_BIN / "ansible-playbook"), "-i", "inventories/lab", "playbooks/decommission.yml",
                           "--limit", RETIRED, "-e", json.dumps(extra_vars)], env=lab_env(lab.home), cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=PLAYBOOK_TIMEOUT, check=False)
    return done.returncode, done.stdout + done.stderr, parse_recap(done.stdout)


def test_a_citrineos_that_signs_csrs_itself_is_refused(citrineos_lab):
    """A CertificateSigned that CitrineOS sent on its own after a station's CSR (it holds a CA key) stops the
    collection before it sends anything: that certificate bypassed the operator's Vault PKI."""
    station = "SELF-SIGNED-CP"
    _sql(citrineos_lab, 'INSERT INTO "OCPPMessages" ("stationId", "correlationId", origin, protocol, action, message, '
                        'timestamp, "createdAt", "updatedAt", "tenantId") VALUES '
                        f"('{station}', 'c1', 'cs', 'ocpp2.0.1', 'SignCertificate', "
                        """'[2, "c1", "SignCertificate", {"csr": "x"}]', now() - interval '1 minute', now(), now(), 1), """
                        f"('{station}', 'c2', 'csms', 'ocpp2.0.1', 'CertificateSigned', "
                        """'[2, "c2", "CertificateSigned", {"certificateChain": "y"}]', now(), now(), now(), 1)""")
    csms = citrineos_lab["csms"]
    backend = csms_backend({"csms_backend": "citrineos", "csms_url": csms["api_url"], "csms_timeout": 10,
                            "csms_retries": 0, "csms_options": csms["options"]})
    mark = _last_message_id(citrineos_lab)
    with pytest.raises(CsmsError, match="CitrineOS signed the CSR of station SELF-SIGNED-CP itself") as raised:
        backend.call(station, "CertificateSigned", {"certificateChain": "z", "certificateType": "ChargingStationCertificate"})
    assert raised.value.kind == "self_signing_csms"
    assert _last_message_id(citrineos_lab) == mark, "something was sent"
