# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""evcs_station.monitoring.monitors reaches the station as SetVariableMonitoring through the ocpp role: read back with
GetMonitoringReport, a second run writes nothing, a changed value replaces the monitor, a removed one is cleared."""

from __future__ import annotations

import shutil

import pytest
import yaml

STATION = "LAB-CP-0003"
PLAYBOOK = """---
- name: Validate, then apply the OCPP settings and monitors
  hosts: "{{ evcs_test_targets }}"
  gather_facts: false
  roles:
    - role: evcs.provisioning.validate
    - role: evcs.provisioning.ocpp
"""
POWER = {"component": {"name": "EVSE", "evse": 1}, "variable": {"name": "Power"}, "type": "UpperThreshold",
         "value": 23000, "severity": 4}
OFFLINE = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}, "type": "Delta",
           "value": 1, "severity": 8}


def _station_monitors(lab):
    return sorted((m["component"]["name"], m["variable"]["name"], m["type"], float(m["value"]), m["severity"])
                  for m in lab.sim.station(STATION)["monitors"])


@pytest.fixture()
def declare(tmp_path):
    target = tmp_path / "lab"
    shutil.copytree("inventories/lab", target)
    playbook = tmp_path / "ocpp.yml"
    playbook.write_text(PLAYBOOK)

    def _declare(monitors):
        path = target / "host_vars" / f"{STATION}.yml"
        data = yaml.safe_load(path.read_text())
        data["evcs_station"].setdefault("monitoring", {})["monitors"] = monitors
        path.write_text(yaml.safe_dump(data))
        return str(target), str(playbook)
    return _declare


def _run(run_playbook, target, playbook, **options):
    return run_playbook(playbook, inventory=target, extra_vars={"evcs_test_targets": STATION, "evcs_reboot": "never"},
                        **options)


def test_declared_monitors_reach_the_station_and_follow_the_inventory(lab, run_playbook, declare):
    target, playbook = declare([POWER, OFFLINE])
    rc, output, recap = _run(run_playbook, target, playbook, check=True, diff=True)
    assert rc == 0, output[-3000:]
    assert "EVSE@evse1.Power UpperThreshold" in output and _station_monitors(lab) == []

    rc, output, recap = _run(run_playbook, target, playbook)
    assert rc == 0, output[-3000:]
    assert _station_monitors(lab) == [("EVSE", "Power", "UpperThreshold", 23000.0, 4),
                                      ("OCPPCommCtrlr", "HeartbeatInterval", "Delta", 1.0, 8)]

    rc, output, recap = _run(run_playbook, target, playbook)
    assert rc == 0 and recap[STATION]["changed"] == 0, output[-3000:]

    target, playbook = declare([dict(POWER, value=11000)])
    rc, output, recap = _run(run_playbook, target, playbook, diff=True)
    assert rc == 0 and recap[STATION]["changed"] >= 1, output[-3000:]
    assert _station_monitors(lab) == [("EVSE", "Power", "UpperThreshold", 11000.0, 4)]

    target, playbook = declare([])
    rc, output, recap = _run(run_playbook, target, playbook)
    assert rc == 0, output[-3000:]
    assert _station_monitors(lab) == []
    rc, output, recap = _run(run_playbook, target, playbook)
    assert rc == 0 and recap[STATION]["changed"] == 0, output[-3000:]


def test_a_monitor_on_a_variable_the_station_lacks_is_refused_clearly(lab, run_playbook, declare):
    target, playbook = declare([dict(POWER, variable={"name": "NoSuchVariable"})])
    rc, output, recap = _run(run_playbook, target, playbook)
    assert rc != 0
    assert f"station {STATION} refused variable monitor(s): EVSE@evse1.NoSuchVariable UpperThreshold: UnknownVariable" in output
