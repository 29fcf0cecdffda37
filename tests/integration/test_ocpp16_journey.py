"""Issue 20 "Done when", end to end with the real playbooks: a factory OCPP 1.6J charge point (lab model v16, made
with ``lab.sim.add(..., ocpp_version="1.6")``) goes to its declared security profile 3 with a Vault certificate made
from its own CSR (CN = its serial number), its local list and its share of the site limit; the second run reports
changed=0; verify names a key changed on the station; renewal and decommission work."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.x509.oid import NameOID

sys.path.insert(0, str(Path(__file__).resolve().parent))

from security_helpers import REPO_ROOT, ocpp_writes, wait_for  # noqa: E402
from test_ocpp16_security import decommission, serial, vault_certificates  # noqa: E402

pytestmark = pytest.mark.integration

STATION = "J16-CP-0001"
LIMIT_A = 10
ORGANIZATION = "EVCS Lab Operator"


def _keys(lab):
    return {item["key"]: item.get("value") for item in lab.sim.station(STATION)["configuration_keys"]}


def _names(pem):
    cert = x509.load_pem_x509_certificate(pem.encode())
    return ([a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)],
            [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)],
            [a.value for a in cert.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)])


@pytest.fixture(scope="module")
def inventory(lab, tmp_path_factory):
    """inventories/lab plus a factory 1.6 charge point of its own in the lab depot, declared on profile 3."""
    lab.csms.put_record("stations", STATION, {"status": "active", "serial_number": serial(STATION)})
    lab.sim.add([STATION], ocpp_version="1.6")
    wait_for(lambda: (lab.csms.connection(STATION) or {}).get("online"), f"{STATION} online", 30)
    target = tmp_path_factory.mktemp("journey16") / "lab"
    shutil.copytree(REPO_ROOT / "inventories" / "lab", target)
    hosts = yaml.safe_load((target / "hosts.yml").read_text())
    hosts["all"]["children"]["lab_depot"]["hosts"][STATION] = None
    (target / "hosts.yml").write_text(yaml.safe_dump(hosts))
    station = yaml.safe_load((target / "host_vars" / "LAB-CP-0005.yml").read_text())
    station["evcs_station"].update(id=STATION, serial_number=serial(STATION), security_profile=3)
    station["evcs_station"]["load_management"]["max_current_a"] = LIMIT_A
    station["evcs_station"]["asset"] = {key: str(value) for key, value in station["evcs_station"]["asset"].items()}
    (target / "host_vars" / f"{STATION}.yml").write_text(yaml.safe_dump(station))
    return str(target)


def test_factory_to_profile_3_local_list_limit_then_verify_renew_decommission(lab, run_playbook, inventory):
    from evcs_lab import vault as lab_vault
    base = {"evcs_targets": STATION, "security_timeout": 60}
    assert lab.csms.connection(STATION)["security_profile"] == 1

    rc, output, recap = run_playbook("playbooks/provision.yml", inventory=inventory, extra_vars=base)
    assert rc == 0 and recap[STATION]["failed"] == 0, output[-6000:]
    connection = lab.csms.connection(STATION)
    assert connection["ocpp_version"] == "1.6" and connection["online"] and connection["security_profile"] == 3
    assert _names(connection["client_certificate"]) == ([serial(STATION)], [ORGANIZATION], [lab_vault.ISSUING_CA_NAME])
    assert lab.csms.csr(STATION), "the certificate was made from the charge point's own CSR"
    station = lab.sim.station(STATION)
    assert {entry["idTag"] for entry in station["local_list"]["entries"]} == {"04A2B3C4D5E6F7", "04A2B3C4D5E6F8"}
    profiles = [stored for stored in station["charging_profiles"]
                if stored["profile"]["chargingProfilePurpose"] == "ChargePointMaxProfile"]
    assert len(profiles) == 1 and profiles[0]["connector_id"] == 0
    assert float(profiles[0]["profile"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]) == LIMIT_A
    assert _keys(lab)["HeartbeatInterval"] == "300"

    lab.csms.reset_stats()
    rc, output, recap = run_playbook("playbooks/provision.yml", inventory=inventory, extra_vars=base)
    assert rc == 0 and recap[STATION]["changed"] == 0, output[-6000:]
    assert not ocpp_writes(lab.csms.stats(), STATION), lab.csms.stats()

    lab.sim.local_change_keys(STATION, {"HeartbeatInterval": "999"})
    rc, output, _recap = run_playbook("playbooks/verify.yml", inventory=inventory, extra_vars=base)
    assert rc != 0 and "HeartbeatInterval" in output and "999" in output, output[-6000:]

    before = lab.csms.connection(STATION)["client_certificate"]
    rc, output, recap = run_playbook("playbooks/renew_certificates.yml", inventory=inventory,
                                     extra_vars=dict(base, identity_force=True, identity_revoke_previous=True))
    assert rc == 0 and recap[STATION]["failed"] == 0 and "renewed" in output, output[-6000:]
    wait_for(lambda: lab.csms.connection(STATION)["client_certificate"] not in (None, before),
             "the renewed certificate presented", 60)
    assert _names(lab.csms.connection(STATION)["client_certificate"])[0] == [serial(STATION)]

    rc, output, recap = decommission(lab, inventory, STATION)
    assert rc == 0 and recap[STATION]["failed"] == 0, output[-6000:]
    assert lab.csms.record("stations", STATION)["status"] == "retired"
    assert all(revoked for _serial, revoked in vault_certificates(lab, serial(STATION)))
