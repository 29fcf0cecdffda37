"""The fleet benchmark's OCPP 1.6 fleet (``bench/fleet.py --ocpp-version 1.6``): the lab it starts and the inventory it
writes declare the same 1.6 charge points, and that inventory passes the validate rules."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

# pylint: disable=wrong-import-position
import fleet  # noqa: E402
import inventory  # noqa: E402

from evcs_lab.cli import generated_station  # noqa: E402

from ansible_collections.evcs.provisioning.plugins.module_utils import desired_state  # noqa: E402
from ansible_collections.evcs.provisioning.plugins.module_utils.station import models  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_bench import _lab_environment  # noqa: E402


def test_a_16_fleet_starts_16_lab_stations_and_the_default_stays_201(tmp_path):
    assert fleet.lab_up_options(5, "1.6", tmp_path) == ["--count", "5", "--ocpp-version", "1.6"]
    assert fleet.lab_up_options(5, "2.0.1", tmp_path) == ["--count", "5"]
    assert fleet._parser().parse_args(["--count", "5", "--ocpp-version", "1.6"]).ocpp_version == "1.6"
    assert fleet._parser().parse_args(["--count", "5"]).ocpp_version == "2.0.1"


def test_a_mixed_fleet_is_the_same_stations_in_the_lab_and_the_inventory(tmp_path):
    options = fleet.lab_up_options(12, "mixed", tmp_path)
    assert options[0] == "--stations"
    simulated = yaml.safe_load(Path(options[1]).read_text())
    assert [station["id"] for station in simulated] == [f"LAB-CP-{number:04d}" for number in range(1, 13)]
    inventory.write_inventory(tmp_path / "inv", 12, ocpp_version="mixed")
    versions = []
    for station in simulated:
        declared = yaml.safe_load((tmp_path / "inv" / "host_vars" / f"{station['id']}.yml").read_text())["evcs_station"]
        assert (declared["model"], declared["serial_number"]) == (station["model"], station["serial_number"])
        assert declared.get("ocpp_version", "2.0.1") == station.get("ocpp_version", "2.0.1")
        versions.append(declared.get("ocpp_version", "2.0.1"))
    assert versions.count("1.6") == 12 // inventory.MIXED_16_EVERY and versions.count("2.0.1") == 9


def test_the_16_inventory_declares_the_charge_points_the_lab_simulates(tmp_path):
    inventory.write_inventory(tmp_path, 12, ocpp_version="1.6")
    for number in (1, 5, 7, 12):
        station = yaml.safe_load((tmp_path / "host_vars" / f"LAB-CP-{number:04d}.yml").read_text())["evcs_station"]
        simulated = generated_station(number, "1.6")
        assert station["ocpp_version"] == "1.6" == simulated["ocpp_version"]
        for field in ("id", "serial_number", "vendor", "model", "firmware_version"):
            assert station[field] == simulated[field], field
        assert [connector["max_current_a"] for evse in station["evses"] for connector in evse["connectors"]] == [
            connector["max_current_a"] for evse in simulated["evses"] for connector in evse["connectors"]]
    # the 2.0.1 fleet is what it was
    inventory.write_inventory(tmp_path / "v201", 3)
    station = yaml.safe_load((tmp_path / "v201" / "host_vars" / "LAB-CP-0003.yml").read_text())["evcs_station"]
    assert "ocpp_version" not in station and station["model"] == "SimCharger AC22"


def test_the_16_stations_pass_the_validate_rules_with_the_lab_16_model():
    site = inventory.site_vars(0, 10)
    for number in range(1, 11):
        host = inventory.station_id(number)
        host_vars = {**_lab_environment(), **inventory.station_vars16(number), **site, "inventory_hostname": host}
        station = desired_state.station_from_vars(host, host_vars)
        assert station["ocpp_version"] == "1.6"
        assert models.model_name(host_vars["evcs_station"]) == "evcs-sim-16"
