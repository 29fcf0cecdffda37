"""One snapshot per station (issue 22 item 1): the idempotent re-run of provision.yml reads each OCPP 2.0.1 station once
per kind of read, as the reference CSMS counts the calls (``/api/stats/ocpp``, reset before the run), and a change made
on the station between runs is still found and fixed (the snapshot does not outlive its run).

Before: the re-run made 14 reads per station (9 GetVariables: each stage read what it compares, commissioning read it
all again; GetChargingProfiles and GetLocalListVersion twice). Now: the message limits, the declared variables in as
few GetVariables as ItemsPerMessage allows, and one each of GetLocalListVersion, GetInstalledCertificateIds and
GetChargingProfiles.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import ansible_playbook, running_lab  # noqa: E402

#: a station of the standard model (GetVariables ItemsPerMessage 16) and one of the quirky model (ItemsPerMessage 4,
#: no ChargingStationMaxProfile)
STATIONS = ["LAB-CP-0001", "LAB-CP-0003"]
#: GetVariables a re-run may make per station: one for the message limits, then the variables the run declares (16 on
#: LAB-CP-0001, 23 on LAB-CP-0003) in as few requests as ItemsPerMessage allows
MAX_GET_VARIABLES = {"LAB-CP-0001": 2, "LAB-CP-0003": 7}
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


@pytest.fixture(scope="module")
def provisioned(lab):
    _provision(lab)
    return {station_id: _heartbeat(lab, station_id) for station_id in STATIONS}


def test_rerun_reads_each_station_once_per_kind(lab, provisioned):
    lab.csms.reset_stats()
    _output, recap = _provision(lab)
    for station_id in STATIONS:
        assert recap[station_id]["changed"] == 0, recap
        reads, writes = _counts(lab, station_id)
        assert reads.get("GetVariables", 0) <= MAX_GET_VARIABLES[station_id], (station_id, reads)
        assert set(reads) <= {"GetVariables", "GetLocalListVersion", "GetInstalledCertificateIds",
                              "GetChargingProfiles"}, (station_id, reads)
        for action in ("GetLocalListVersion", "GetInstalledCertificateIds", "GetChargingProfiles"):
            assert reads.get(action, 0) <= 1, (station_id, reads)
        # nothing is written, not even a TriggerMessage: the stations reported their connectors since they connected
        assert writes == {}, (station_id, writes)


def test_change_between_runs_is_found_and_fixed(lab, provisioned):
    station_id = STATIONS[0]
    wanted = provisioned[station_id]
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
