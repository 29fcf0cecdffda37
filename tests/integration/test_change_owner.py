"""change_owner.yml: a profile-3 station passes from "EVCS Lab Operator" to "EVCS Partner Operator" (issue 7): it
presents a certificate with the new O, the previous owner's certificate is revoked in Vault, SecurityCtrlr.OrganizationName
and the CSMS records follow, check mode changes nothing, a second run changes nothing, and an organization without a
PKI role that issues it (given with -e evcs_new_operator) is refused before a new certificate is installed.

The change itself is the GitOps flow: the site's operator is edited in the inventory. The site is one of the test's
own, so the shared lab-depot record of the other tests is left alone."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import requests
import yaml
from cryptography import x509
from cryptography.x509.oid import NameOID

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ansible_collections.evcs.provisioning.plugins.module_utils.x509 import vault_serial  # noqa: E402
from security_helpers import REPO_ROOT, add_stations, write_inventory  # noqa: E402

STATION = "OWN-CP-0001"
SITE_ID = "owner-depot"
LAB = REPO_ROOT / "inventories" / "lab"
OLD_O, NEW_O, UNKNOWN_O = "EVCS Lab Operator", "EVCS Partner Operator", "Unknown Operator Ltd"
_ORGANIZATION_NAME = {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "OrganizationName"}}


def _inventory(directory: Path) -> str:
    """LAB-CP-0001's hardware (profile 3) under this station's id, at a copy of the lab depot site of its own."""
    station = yaml.safe_load((LAB / "host_vars" / "LAB-CP-0001.yml").read_text())["evcs_station"]
    station.update(id=STATION, serial_number=f"SN-{STATION}", security_profile=3)
    inventory = write_inventory(directory, {STATION: station})
    _write_site(inventory, OLD_O)
    return inventory


def _write_site(inventory: str, organization: str) -> None:
    """The site's group_vars with ``organization`` as its operator (what a GitOps change edits)."""
    site = yaml.safe_load((LAB / "group_vars" / "lab_depot.yml").read_text())
    site["evcs_site"].update(id=SITE_ID, name="Owner depot", operator={"name": organization, "organization": organization})
    (Path(inventory) / "group_vars" / "all" / "site.yml").write_text(yaml.safe_dump(site))


def _new_operator(organization: str) -> dict:
    return {"evcs_new_operator": {"name": organization, "organization": organization}}


def _presented(lab) -> x509.Certificate:
    return x509.load_pem_x509_certificate(lab.csms.connection(STATION)["client_certificate"].encode())


def _attribute(cert: x509.Certificate, oid) -> str:
    return cert.subject.get_attributes_for_oid(oid)[0].value


def _organization_name(lab) -> str:
    answer = lab.csms.call(STATION, "GetVariables", {"getVariableData": [_ORGANIZATION_NAME]})
    return answer["getVariableResult"][0]["attributeValue"]


def _vault_certificate(lab, serial_number: int) -> dict:
    """``pki_lab/cert/<serial>`` read with the lab's provisioning token (the collection's least-privilege policy)."""
    vault = lab["vault"]
    answer = requests.get(f"{vault['addr']}/v1/{vault['pki_mount']}/cert/{vault_serial(serial_number)}",
                          verify=vault["ca_cert"],
                          headers={"X-Vault-Token": vault["token"]}, timeout=10)
    answer.raise_for_status()
    return answer.json()["data"]


def _state(lab) -> dict:
    """What a run may change: the certificate presented, OrganizationName, the station record's operator."""
    return {"serial": _presented(lab).serial_number, "organization_name": _organization_name(lab),
            "operator": (lab.csms.record("stations", STATION) or {}).get("operator"),
            "site_operator": (lab.csms.record("locations", SITE_ID) or {}).get("operator")}


@pytest.fixture(scope="module")
def owner_change(lab, run_playbook, tmp_path_factory):
    """A station provisioned on profile 3 under OLD_O, then: the refused change to UNKNOWN_O (-e evcs_new_operator);
    the site's operator edited to NEW_O, the plan (check mode), the change and a second run. Returns the state and the
    playbook's (rc, output, recap) of each step."""
    directory = tmp_path_factory.mktemp("change-owner")
    add_stations(lab, [STATION])
    inventory = _inventory(directory / "inventory")
    rc, output, recap = run_playbook("playbooks/provision.yml", inventory=inventory,
                                     env={"EVCS_REPORT_DIR": str(directory / "reports")})
    assert rc == 0 and recap[STATION]["failed"] == 0, output[-4000:]
    steps = {"provisioned": _state(lab)}

    def change(name, extra_vars=None, **options):
        steps[name] = run_playbook("playbooks/change_owner.yml", inventory=inventory,
                                   extra_vars=dict(evcs_owner_stations=STATION, **(extra_vars or {})),
                                   env={"EVCS_REPORT_DIR": str(directory / "reports")}, **options)
        steps[name + "_state"] = _state(lab)

    change("unknown", _new_operator(UNKNOWN_O))
    _write_site(inventory, NEW_O)
    change("plan", check=True, diff=True)
    change("changed")
    change("again")
    return steps


def test_the_station_starts_under_the_lab_operator(lab, owner_change):
    before = owner_change["provisioned"]
    assert before["organization_name"] == OLD_O
    assert before["operator"]["organization"] == OLD_O and before["site_operator"]["organization"] == OLD_O
    assert lab.csms.connection(STATION)["security_profile"] == 3


def test_an_organization_without_a_pki_role_is_refused_and_changes_nothing(owner_change):
    rc, output, recap = owner_change["unknown"]
    assert rc != 0 and recap[STATION]["failed"] == 1, output[-4000:]
    assert STATION in output and "evcs_vault.station_roles['%s']" % UNKNOWN_O in output, output[-4000:]
    assert "O='%s'" % OLD_O in output and "pki_lab/sign/charging-station" in output, output[-4000:]
    # the station keeps its certificate and its organization, the CSMS record its operator
    assert owner_change["unknown_state"] == owner_change["provisioned"]


def test_check_mode_shows_the_plan_and_changes_nothing(owner_change):
    rc, output, recap = owner_change["plan"]
    assert rc == 0 and recap[STATION]["failed"] == 0, output[-4000:]
    assert recap[STATION]["changed"] > 0, output[-4000:]
    assert "O=%s" % NEW_O in output and "Ownership result" in output, output[-4000:]
    assert "+        organization: %s" % NEW_O in output, output[-4000:]   # the CSMS records' diff
    assert owner_change["plan_state"] == owner_change["provisioned"]


def test_the_station_presents_a_certificate_of_the_new_owner(lab, owner_change):
    rc, output, recap = owner_change["changed"]
    assert rc == 0 and recap[STATION]["failed"] == 0, output[-6000:]
    presented = _presented(lab)
    assert _attribute(presented, NameOID.ORGANIZATION_NAME) == NEW_O
    assert _attribute(presented, NameOID.COMMON_NAME) == STATION
    assert presented.serial_number != owner_change["provisioned"]["serial"]
    assert lab.csms.connection(STATION)["security_profile"] == 3 and lab.csms.connection(STATION)["online"]
    state = owner_change["changed_state"]
    assert state["organization_name"] == NEW_O
    assert state["operator"]["organization"] == NEW_O and state["site_operator"]["organization"] == NEW_O, state
    assert "organization_before" in output and format(owner_change["provisioned"]["serial"], "x") in output


def test_the_previous_owners_certificate_is_revoked(lab, owner_change):
    old = _vault_certificate(lab, owner_change["provisioned"]["serial"])
    assert old["revocation_time"] > 0
    assert _vault_certificate(lab, owner_change["changed_state"]["serial"])["revocation_time"] == 0


def test_a_second_run_changes_nothing(owner_change):
    rc, output, recap = owner_change["again"]
    assert rc == 0 and recap[STATION]["failed"] == 0, output[-4000:]
    assert recap[STATION]["changed"] == 0, output[-6000:]
    assert owner_change["again_state"] == owner_change["changed_state"]
