# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""evcs_station.logging.level reaches a station whose model maps a log level (the lab's quirky model: a vendor
component), and is refused before any write on a station whose model maps none."""

from __future__ import annotations

import shutil

import pytest
import yaml

PLAYBOOK = """---
- name: Validate, then apply the OCPP settings
  hosts: "{{ evcs_test_targets }}"
  gather_facts: false
  roles:
    - role: evcs.provisioning.validate
    - role: evcs.provisioning.ocpp
"""


def _log_level(lab, station_id):
    for item in lab.sim.station(station_id)["device_model"]:
        if item["component"]["name"] == "VendorDiagnostics" and item["variable"]["name"] == "LogLevel":
            return item["attributes"]["value"]
    return None


@pytest.fixture()
def declare(tmp_path):
    target = tmp_path / "lab"
    shutil.copytree("inventories/lab", target)
    playbook = tmp_path / "ocpp.yml"
    playbook.write_text(PLAYBOOK)

    def _declare(station_id, level):
        path = target / "host_vars" / f"{station_id}.yml"
        data = yaml.safe_load(path.read_text())
        data["evcs_station"]["logging"] = {"level": level}
        path.write_text(yaml.safe_dump(data))
        return str(target), str(playbook)
    return _declare


def test_a_declared_level_reaches_a_model_that_maps_one(lab, run_playbook, declare):
    station_id = "LAB-CP-0003"          # the quirky model: VendorDiagnostics.LogLevel
    assert _log_level(lab, station_id) == "Info"
    target, playbook = declare(station_id, "debug")
    extra = {"evcs_test_targets": station_id, "evcs_reboot": "never"}
    rc, output, recap = run_playbook(playbook, inventory=target, extra_vars=extra)
    assert rc == 0, output[-3000:]
    assert _log_level(lab, station_id) == "Debug"
    rc, output, recap = run_playbook(playbook, inventory=target, extra_vars=extra)
    assert rc == 0 and recap[station_id]["changed"] == 0, output[-3000:]


def test_a_level_on_a_model_without_one_is_refused_before_any_write(lab, run_playbook, declare):
    station_id = "LAB-CP-0001"          # the spec model: standard components only
    target, playbook = declare(station_id, "debug")
    lab.csms.reset_stats()
    rc, output, recap = run_playbook(playbook, inventory=target, extra_vars={"evcs_test_targets": station_id})
    assert rc != 0
    assert (f"{station_id}: evcs_station.logging.level = 'debug': is not standardized by OCPP 2.0.1 and station model "
            "evcs-sim-ac22 maps no logging level variable") in output, output[-3000:]
    writes = {action: count for action, count in (lab.csms.stats().get("stations") or {}).get(station_id, {}).items()
              if action.startswith("Set")}
    assert writes == {}
