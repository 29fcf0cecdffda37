"""verify.yml's fleet mode (issue 22 item 2) against the lab: the same drift as the per-host verify, from one task.

Three stations of their own are provisioned; one of them then gets a variable changed behind the collection's back
(SetVariables through the lab CSMS). Both modes must fail exactly that station, name the variable, exit non-zero and
print the same drift; the audit trail records the drifted field for that station; no secret reaches the output.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from security_helpers import REPO_ROOT, add_stations, write_inventory  # noqa: E402

STATIONS = ["FLEET-CP-0001", "FLEET-CP-0002", "FLEET-CP-0003"]
DRIFTED = STATIONS[1]
HEARTBEAT = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}


@pytest.fixture(scope="module")
def provisioned(lab, run_playbook, tmp_path_factory):
    """The three stations provisioned (profile 1) from an inventory of their own."""
    directory = tmp_path_factory.mktemp("fleet-verify")
    inventory = write_inventory(directory / "inventory",
                                {station: {"serial_number": f"SN-{station}"} for station in STATIONS})
    # the lab depot site declares its heartbeat interval (the CSMS record and the station agree on it after a boot)
    shutil.copy(REPO_ROOT / "inventories" / "lab" / "group_vars" / "lab_depot.yml",
                Path(inventory) / "group_vars" / "all" / "site.yml")
    add_stations(lab, STATIONS)
    rc, output, recap = run_playbook("playbooks/provision.yml", inventory=inventory,
                                     env={"EVCS_REPORT_DIR": str(directory / "reports")})
    assert rc == 0 and all(recap[station]["failed"] == 0 for station in STATIONS), output[-4000:]
    return inventory, directory


def _heartbeat(lab, value: str) -> None:
    answer = lab.csms.call(DRIFTED, "SetVariables", {"setVariableData": [dict(HEARTBEAT, attributeValue=value)]})
    assert answer["setVariableResult"][0]["attributeStatus"] == "Accepted", answer


def _verify(run_playbook, provisioned, mode: str, audit: Path | None = None):
    inventory, directory = provisioned
    env = {"EVCS_REPORT_DIR": str(directory / f"reports-{mode}")}
    if audit is not None:
        env.update(EVCS_AUDIT_FILE=str(audit), ANSIBLE_CALLBACKS_ENABLED="evcs.provisioning.audit")
    return run_playbook("playbooks/verify.yml", inventory=inventory, extra_vars={"evcs_verify_mode": mode}, env=env)


def _drift_report(output: str) -> list[str]:
    """The lines of the drift table verify.yml prints (the debug task's msg list)."""
    section = output[output.index("TASK [Show every drifted field per station]"):]
    lines = [line.strip(" '\"") for line in re.findall(r"^\s+- (.*)$", section[:section.index("TASK [", 10)], re.MULTILINE)]
    assert lines, section[:2000]
    return lines


def test_fleet_verify_reports_what_per_host_verify_reports(lab, provisioned, run_playbook, tmp_path):
    rc, output, recap = _verify(run_playbook, provisioned, "fleet")
    assert rc == 0, output[-4000:]
    assert all(recap[station]["failed"] == 0 for station in STATIONS), recap
    assert f"no drift on {len(STATIONS)} station(s)" in output, output[-3000:]

    _heartbeat(lab, "77")
    try:
        host_rc, host_output, host_recap = _verify(run_playbook, provisioned, "host")
        audit = tmp_path / "audit.jsonl"
        fleet_rc, fleet_output, fleet_recap = _verify(run_playbook, provisioned, "fleet", audit=audit)
    finally:
        _heartbeat(lab, "300")

    for rc, output, recap in ((host_rc, host_output, host_recap), (fleet_rc, fleet_output, fleet_recap)):
        assert rc != 0, output[-4000:]
        assert recap[DRIFTED]["failed"] == 1, recap
        assert all(recap[station]["failed"] == 0 for station in STATIONS if station != DRIFTED), recap
        assert f"drift on {DRIFTED}: " in output and "OCPPCommCtrlr.HeartbeatInterval" in output, output[-4000:]
    fleet_report = _drift_report(fleet_output)
    assert fleet_report == _drift_report(host_output)
    assert "3 station(s) checked, 1 drifted or failed" in fleet_report, fleet_report
    assert any('OCPPCommCtrlr.HeartbeatInterval: "77" -> "300" (ocpp_result)' in line for line in fleet_report), fleet_report
    # the fleet task ran once for the batch: its stage calls are not per-host tasks
    assert "TASK [evcs.provisioning.ocpp" not in fleet_output and "TASK [Check the stations of the batch" in fleet_output

    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    drifted = [line for line in lines if line.get("host") == DRIFTED and line.get("diff")]
    assert drifted and "OCPPCommCtrlr.HeartbeatInterval" in json.dumps(drifted), lines[-5:]
    assert not [line for line in lines if line.get("host") in STATIONS and line.get("host") != DRIFTED
                and line.get("diff")]

    for secret in (lab["csms"]["api_token"], lab["csms"]["staging_password"], lab["vault"]["token"]):
        assert secret not in fleet_output and secret not in audit.read_text()


def test_fleet_verify_refuses_an_unknown_mode(provisioned, run_playbook):
    rc, output, _recap = _verify(run_playbook, provisioned, "fast")
    assert rc != 0 and "evcs_verify_mode=fast is not a verify mode" in output, output[-3000:]


def _reads(lab, stations) -> dict:
    """``{action: calls}`` of the CSMS-initiated reads (Get*) of ``stations`` since the last stats reset."""
    counts: dict = {}
    for station, per_action in (lab.csms.stats().get("stations") or {}).items():
        if station in stations:
            for action, calls in per_action.items():
                if action.startswith("Get"):
                    counts[action] = counts.get(action, 0) + calls
    return counts


def test_fleet_verify_reads_each_station_once_through_its_snapshot(lab, provisioned, run_playbook):
    """The stage calls of one station share its snapshot, as the per-host tasks do through the host fact: the device
    model is read in one GetVariables batch for every stage (the lab's stations take every declared variable in one
    message), not once per stage; a drifted station is still reported."""
    lab.csms.reset_stats()
    rc, output, _recap = _verify(run_playbook, provisioned, "fleet")
    assert rc == 0, output[-4000:]
    reads = _reads(lab, STATIONS)
    # one snapshot a station: every declared variable in one GetVariables (the message limits come from the
    # capability cache the provisioning run wrote, the lab's stations take the variables in one message), the
    # charging profiles once; without it each stage read again (8 reads a station on main, bench/README.md), and
    # without the capability fact the limits rode in a first request the station refused (3 GetVariables)
    assert reads.get("GetVariables", 0) <= len(STATIONS), reads
    assert sum(reads.values()) <= 3 * len(STATIONS), reads

    _heartbeat(lab, "77")
    try:
        rc, output, recap = _verify(run_playbook, provisioned, "fleet")
    finally:
        _heartbeat(lab, "300")
    assert rc != 0 and recap[DRIFTED]["failed"] == 1, output[-4000:]
    assert all(recap[station]["failed"] == 0 for station in STATIONS if station != DRIFTED), recap
    assert f"drift on {DRIFTED}: OCPPCommCtrlr.HeartbeatInterval" in output, output[-4000:]
