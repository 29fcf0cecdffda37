"""verify.yml names a station broken behind the collection's back (issue 7: "wrong CSMS URL, expired certificate").

A station of its own is provisioned from an inventory of its own (LAB-CP-0001's hardware, profile 3, the lab depot
site); then its CSMS connection profile is rewritten through the CSMS passthrough, or its certificate falls inside the
renewal window, and verify.yml (check mode) exits non-zero naming it.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from security_helpers import REPO_ROOT, add_stations, write_inventory  # noqa: E402

STATION = "DRIFT-CP-0001"
LAB = REPO_ROOT / "inventories" / "lab"
# the lab issues station certificates for 90 days: with a renewal window of a year the current one is due
RENEW_BEFORE_DAYS = 365


@pytest.fixture(scope="module")
def provisioned(lab, run_playbook, tmp_path_factory):
    """The station provisioned on profile 3; verify.yml passes on it before any test breaks it."""
    directory = tmp_path_factory.mktemp("verify-drift")
    station = yaml.safe_load((LAB / "host_vars" / "LAB-CP-0001.yml").read_text())["evcs_station"]
    station.update(id=STATION, serial_number=f"SN-{STATION}", security_profile=3)
    inventory = write_inventory(directory / "inventory", {STATION: station})
    shutil.copy(LAB / "group_vars" / "lab_depot.yml", Path(inventory) / "group_vars" / "all" / "site.yml")
    add_stations(lab, [STATION])
    rc, output, recap = run_playbook("playbooks/provision.yml", inventory=inventory,
                                     env={"EVCS_REPORT_DIR": str(directory / "reports")})
    assert rc == 0 and recap[STATION]["failed"] == 0, output[-4000:]
    rc, output = _verify(run_playbook, inventory)
    assert rc == 0, output[-4000:]
    return inventory


def _verify(run_playbook, inventory: str, **extra_vars) -> tuple[int, str]:
    """verify.yml limited to the station: ``(rc, the drift report)``."""
    rc, output, _recap = run_playbook("playbooks/verify.yml", inventory=inventory,
                                      extra_vars=dict(extra_vars, evcs_targets=STATION))
    return rc, output[output.index("PLAY [Report the drift]"):] if "PLAY [Report the drift]" in output else output


def _set_network_profile(lab, slot: int, connection_data: dict) -> None:
    answer = lab.csms.call(STATION, "SetNetworkProfile", {"configurationSlot": slot, "connectionData": connection_data})
    assert answer["status"] == "Accepted", answer


def test_verify_names_a_station_whose_csms_connection_was_changed(lab, provisioned, run_playbook):
    station = lab.sim.station(STATION)
    slot = station["slot"]
    original = station["network_profiles"][str(slot)]
    wrong_url = original["ocppCsmsUrl"].replace("/ocpp", "/wrong-csms/ocpp")
    _set_network_profile(lab, slot, dict(original, ocppCsmsUrl=wrong_url,
                                         messageTimeout=original["messageTimeout"] + 17))
    try:
        rc, report = _verify(run_playbook, provisioned)
    finally:
        _set_network_profile(lab, slot, original)
    assert rc != 0, report
    assert f"{STATION}:" in report and "1 drifted or failed" in report and f"drift on {STATION}" in report, report
    # the security stage compares the connection profile of the slot the station runs on with the inventory's
    assert "connection_profile.ocppCsmsUrl" in report and wrong_url in report, report
    assert "connection_profile.messageTimeout" in report, report


def test_verify_names_a_station_whose_certificate_is_due(provisioned, run_playbook):
    rc, report = _verify(run_playbook, provisioned, identity_renew_before=RENEW_BEFORE_DAYS)
    assert rc != 0, report
    assert f"{STATION}:" in report and "1 drifted or failed" in report and f"drift on {STATION}" in report, report
    assert "certificate:" in report and f"(a new certificate for CN={STATION}, O=EVCS Lab Operator from " in report, report
