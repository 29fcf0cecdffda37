# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One charger, one identity: the serial number a station reports in its BootNotification must be the inventory's
(another one means the wrong box was installed), and a serial number registered in the CSMS to another station is
refused. Both are refused by the backend stage, before any record or station is written."""

from __future__ import annotations

import shutil
import time

import pytest
import yaml

PLAYBOOK = """---
- name: Validate, then register the stations in the CSMS
  hosts: "{{ evcs_test_targets }}"
  gather_facts: false
  roles:
    - role: evcs.provisioning.validate
    - role: evcs.provisioning.backend
"""


def _wait_booted(lab, station_id, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        boot = (lab.csms.connection(station_id) or {}).get("boot")
        if boot:
            return boot
        time.sleep(0.5)
    raise AssertionError(f"{station_id} never booted")


@pytest.fixture()
def inventory(tmp_path):
    """A copy of inventories/lab and the playbook; ``inventory(change)`` applies ``change(path)`` to the copy."""
    target = tmp_path / "lab"
    shutil.copytree("inventories/lab", target)
    playbook = tmp_path / "backend.yml"
    playbook.write_text(PLAYBOOK)

    def _edit(change=None):
        if change:
            change(target)
        return str(target), str(playbook)
    return _edit


def _host_vars(target, host, change):
    path = target / "host_vars" / f"{host}.yml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data))


def test_a_station_reporting_another_serial_is_refused_before_its_record_is_written(lab, run_playbook, inventory):
    station_id = "LAB-CP-0002"
    boot = _wait_booted(lab, station_id)
    assert boot["charging_station"]["serialNumber"] == "SIM-0002"
    lab.csms.delete_record("stations", station_id)
    target, playbook = inventory(lambda path: _host_vars(path, station_id,
                                                         lambda data: data["evcs_station"].update(serial_number="SIM-9999")))
    rc, output, _recap = run_playbook(playbook, inventory=target, extra_vars={"evcs_test_targets": station_id})
    assert rc != 0
    assert (f"station {station_id} reported serial number 'SIM-0002' in its BootNotification" in output
            and "the inventory says 'SIM-9999': the wrong charger is installed under this identity" in output), output[-3000:]
    assert lab.csms.record("stations", station_id) is None, "the record was written for the wrong box"


def _new_charger_with_a_copied_serial(target):
    """LAB-CP-0099: a charger not yet installed (it never booted), given LAB-CP-0001's serial number by mistake."""
    source = yaml.safe_load((target / "host_vars" / "LAB-CP-0004.yml").read_text())
    source["evcs_station"].update(id="LAB-CP-0099", serial_number="SIM-0001")
    (target / "host_vars" / "LAB-CP-0099.yml").write_text(yaml.safe_dump(source))
    hosts = (target / "hosts.yml").read_text().replace("        LAB-CP-0004:\n", "        LAB-CP-0004:\n        LAB-CP-0099:\n")
    (target / "hosts.yml").write_text(hosts)


def test_a_serial_registered_to_another_station_is_refused(lab, run_playbook, inventory):
    target, playbook = inventory(_new_charger_with_a_copied_serial)
    rc, output, _recap = run_playbook(playbook, inventory=target, extra_vars={"evcs_test_targets": "LAB-CP-0001"})
    assert rc == 0, output[-3000:]
    assert lab.csms.record("stations", "LAB-CP-0001")["serial_number"] == "SIM-0001"

    rc, output, _recap = run_playbook(playbook, inventory=target, extra_vars={"evcs_test_targets": "LAB-CP-0099"})
    assert rc != 0
    assert "station LAB-CP-0099: serial number 'SIM-0001' is already registered in the CSMS to station LAB-CP-0001" \
        in output, output[-3000:]
    assert lab.csms.record("stations", "LAB-CP-0099") is None
