"""One snapshot per station (issue 22 item 1): the idempotent re-run of provision.yml reads each OCPP 2.0.1 station at
most 3 times on a station whose message limits hold the variables the run declares, as the reference CSMS counts the
calls (``/api/stats/ocpp``, reset before the run), and a change made on the station between runs (a device-model
variable, its local authorization list) is still found and fixed (the snapshot does not outlive its run).

Before: the re-run made 14 reads per station (9 GetVariables: each stage read what it compares, commissioning read it
all again; GetChargingProfiles and GetLocalListVersion twice), then 5 (GetVariables 2: the message limits, then the
declared variables; GetLocalListVersion, GetInstalledCertificateIds, GetChargingProfiles 1 each). Now: one GetVariables
of every declared variable (the message limits come from the validate role's capability fact), the installed
certificate ids and the charging profiles; the local list version from the CSMS's memory, checked against the
station's LocalAuthListCtrlr.Entries in that GetVariables.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import yaml  # noqa: E402
from conftest import ansible_playbook, running_lab  # noqa: E402
from security_helpers import REPO_ROOT, add_stations, write_inventory  # noqa: E402

#: a station of the standard model (GetVariables ItemsPerMessage 16) and one of the quirky model on Wi-Fi
#: (ItemsPerMessage 4, no ChargingStationMaxProfile)
STATIONS = ["LAB-CP-0001", "LAB-CP-0003"]
#: a cellular station of the standard model, from an inventory of its own
CELLULAR = "LAB-CP-0201"
LAB = REPO_ROOT / "inventories" / "lab"
#: OCPP reads (every Get* call) a re-run may make per station: on the standard model (16 items a GetVariables) one
#: GetVariables of the 16 variables the run declares, the installed certificate ids and the charging profiles; on the
#: quirky model (4 items, no ChargingStationMaxProfile) the 23 declared variables in ceil(23 / 4) = 6 GetVariables and
#: the certificate ids
MAX_READS = {"LAB-CP-0001": 3, CELLULAR: 3, "LAB-CP-0003": 7}
MAX_GET_VARIABLES = {"LAB-CP-0001": 1, CELLULAR: 1, "LAB-CP-0003": 6}
HEARTBEAT = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """The module's own lab: it provisions and changes its stations."""
    with running_lab(tmp_path_factory.mktemp("snapshot-lab")) as state:
        yield state


def _provision(lab):
    rc, output, recap = ansible_playbook(lab.home, "playbooks/provision.yml",
                                         extra_vars={"evcs_targets": ",".join(STATIONS)})
    assert rc == 0, output[-4000:]
    return output, recap


def _counts(lab, station_id):
    per_action = (lab.csms.stats().get("stations") or {}).get(station_id) or {}
    reads = dict((action, count) for action, count in per_action.items() if action.startswith("Get"))
    writes = dict((action, count) for action, count in per_action.items() if not action.startswith("Get"))
    return reads, writes


def _heartbeat(lab, station_id):
    answer = lab.csms.call(station_id, "GetVariables", {"getVariableData": [HEARTBEAT]})
    return answer["getVariableResult"][0]["attributeValue"]


def _cellular_inventory(lab, directory):
    """An inventory of one cellular station of the standard model (LAB-CP-0001's hardware and site)."""
    station = yaml.safe_load((LAB / "host_vars" / "LAB-CP-0001.yml").read_text())["evcs_station"]
    station.update(id=CELLULAR, serial_number=f"SN-{CELLULAR}", security_profile=1,
                   network={"mode": "cellular", "addressing": "dhcp", "cellular": {"apn": "iot.example"}})
    inventory = write_inventory(directory / "inventory", {CELLULAR: station})
    shutil.copy(LAB / "group_vars" / "lab_depot.yml", Path(inventory) / "group_vars" / "all" / "site.yml")
    add_stations(lab, [CELLULAR])
    return inventory


@pytest.fixture(scope="module")
def provisioned(lab, tmp_path_factory):
    _provision(lab)
    cellular = _cellular_inventory(lab, tmp_path_factory.mktemp("cellular"))
    rc, output, _recap = ansible_playbook(lab.home, "playbooks/provision.yml", inventory=cellular)
    assert rc == 0, output[-4000:]
    heartbeats = {station_id: _heartbeat(lab, station_id) for station_id in STATIONS}
    return {"heartbeats": heartbeats, "cellular": cellular}


def _assert_reads(lab, station_id, recap):
    assert recap[station_id]["changed"] == 0, recap
    reads, writes = _counts(lab, station_id)
    assert sum(reads.values()) <= MAX_READS[station_id], (station_id, reads)
    assert reads.get("GetVariables", 0) <= MAX_GET_VARIABLES[station_id], (station_id, reads)
    # the local list version comes from the CSMS's memory, checked against LocalAuthListCtrlr.Entries
    assert "GetLocalListVersion" not in reads, (station_id, reads)
    assert set(reads) <= {"GetVariables", "GetInstalledCertificateIds", "GetChargingProfiles"}, (station_id, reads)
    for action in ("GetInstalledCertificateIds", "GetChargingProfiles"):
        assert reads.get(action, 0) <= 1, (station_id, reads)
    # nothing is written, not even a TriggerMessage: the stations reported their connectors since they connected
    assert writes == {}, (station_id, writes)


def test_rerun_reads_each_station_at_most_three_times(lab, provisioned):
    lab.csms.reset_stats()
    _output, recap = _provision(lab)
    for station_id in STATIONS:
        _assert_reads(lab, station_id, recap)
    lab.csms.reset_stats()
    rc, output, recap = ansible_playbook(lab.home, "playbooks/provision.yml", inventory=provisioned["cellular"])
    assert rc == 0, output[-4000:]
    _assert_reads(lab, CELLULAR, recap)


def test_change_between_runs_is_found_and_fixed(lab, provisioned):
    station_id = STATIONS[0]
    wanted = provisioned["heartbeats"][station_id]
    changed = str(int(wanted) + 7)
    answer = lab.csms.call(station_id, "SetVariables",
                           {"setVariableData": [dict(HEARTBEAT, attributeValue=changed)]})
    assert answer["setVariableResult"][0]["attributeStatus"] == "Accepted"
    assert _heartbeat(lab, station_id) == changed

    output, recap = _provision(lab)
    assert recap[station_id]["changed"] >= 1, output[-4000:]
    assert recap[STATIONS[1]]["changed"] == 0, recap
    assert _heartbeat(lab, station_id) == wanted

    lab.csms.reset_stats()
    _output, recap = _provision(lab)
    assert recap[station_id]["changed"] == 0, recap


def _local_list(lab, station_id):
    return lab.csms.call(station_id, "GetLocalListVersion", {})["versionNumber"]


def _verify(lab, station_id):
    rc, output, _recap = ansible_playbook(lab.home, "playbooks/verify.yml", extra_vars={"evcs_targets": station_id})
    return rc, output[output.index("PLAY [Report the drift]"):] if "PLAY [Report the drift]" in output else output


@pytest.mark.parametrize("foreign", [
    {"versionNumber": 50, "updateType": "Full"},                                     # the list wiped
    {"versionNumber": 60, "updateType": "Full", "localAuthorizationList": [          # another party's list
        {"idToken": {"idToken": "FOREIGN01", "type": "ISO14443"}, "idTokenInfo": {"status": "Accepted"}}]},
], ids=["wiped", "foreign"])
def test_local_list_changed_on_the_station_is_found_and_fixed(lab, provisioned, foreign):
    """The re-run takes the list version from the CSMS's memory only while the station counts as many entries as the
    CSMS sent: a list wiped or replaced behind the collection's back is reported by verify.yml and sent again."""
    station_id = STATIONS[0]
    sent = _local_list(lab, station_id)
    assert sent >= 1
    answer = lab.csms.call(station_id, "SendLocalList", foreign)
    assert answer["status"] == "Accepted", answer
    assert _local_list(lab, station_id) == foreign["versionNumber"]

    rc, report = _verify(lab, station_id)
    assert rc != 0, report[-4000:]
    assert "local_list" in report, report[-4000:]

    lab.csms.reset_stats()
    output, recap = _provision(lab)
    assert recap[station_id]["changed"] >= 1, output[-4000:]
    reads, writes = _counts(lab, station_id)
    # the station was asked (the count differed), sent the list, and asked again by commissioning after that write
    assert reads.get("GetLocalListVersion", 0) >= 1 and writes.get("SendLocalList", 0) >= 1, (reads, writes)
    assert _local_list(lab, station_id) == foreign["versionNumber"] + 1

    lab.csms.reset_stats()
    _output, recap = _provision(lab)
    _assert_reads(lab, station_id, recap)
