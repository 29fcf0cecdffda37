"""The verify benchmark's figures (issue 22 item 2): per-host against fleet verify, slope, projection, registration."""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

# pylint: disable=wrong-import-position
import fleet  # noqa: E402
import lab_idle  # noqa: E402
import measure  # noqa: E402
import report  # noqa: E402


def _run(seconds, cpu, reads, rc=0):
    return {"seconds": seconds, "controller_cpu_s": cpu, "rc": rc, "controller_peak_process_mb": 100.0,
            "ocpp": {"reads": reads, "writes": 0}}


def _row(count, host_s, fleet_s, rc=0):
    runs = {"provision": _run(1, 1, 0), "verify_host": _run(host_s, host_s / 2, 8 * count),
            "verify_fleet": _run(fleet_s, fleet_s / 4, 8 * count, rc)}
    return fleet.verify_row(count, min(count, 50), runs, {"csms": 50.0, "simulator": 60.0, "vault": 99.0})


def test_the_verify_row_holds_both_modes_and_their_ratio():
    row = _row(100, 150.0, 30.0)
    assert (row["verify_host_s"], row["verify_fleet_s"], row["host_over_fleet"]) == (150.0, 30.0, 5.0)
    assert row["host_over_fleet_cpu"] == 10.0 and row["verify_fleet_ocpp_reads_per_station"] == 8
    assert row["all_ok"] and row["lab_peak_mb"] == 110.0
    assert not _row(100, 150.0, 30.0, rc=2)["all_ok"]  # drift found or a failure: not a valid figure


def test_the_slope_and_the_projection_to_10000_are_labelled_as_such():
    rows = [_row(10, 20.0, 10.0), _row(50, 60.0, 12.0), _row(200, 210.0, 18.0)]
    slopes = {key: measure.slope(rows, key) for key in ("verify_host_s", "verify_fleet_s")}
    assert slopes["verify_fleet_s"] == {"from": 50, "to": 200, "seconds_per_station": 0.04}
    assert report.projection(rows, slopes, "verify_fleet_s") == round(18.0 + 0.04 * 9800, 1)
    text = report.render_verify({"cpus": 2, "sizes": [{"row": row} for row in rows], "slope": slopes})
    assert "PROJECTION to N=10000" in text and "(not measured)" in text
    assert any(line.startswith("| 200 ") and "210.0" in line and "11.67" in line for line in text.splitlines()), text
    failed = report.render_verify({"cpus": 2, "sizes": [{"row": _row(10, 20.0, 10.0, rc=2)}], "slope": {}})
    assert "attention: N=10" in failed


def _seeded_row(count, fleet_s):
    runs = {"seed": {"seconds": 5.0, "rc": 0}, "verify_fleet": dict(_run(fleet_s, fleet_s / 4, 4 * count),
                                                                    controller_peak_tree_mb=300.0)}
    return fleet.verify_row(count, 50, runs, {"csms": 50.0, "simulator": 60.0}, modes=("fleet",))


def test_a_seeded_fleet_is_verified_in_fleet_mode_only_and_10000_is_measured_not_projected():
    rows = [_seeded_row(1000, 100.0), _seeded_row(10000, 700.0)]
    assert rows[1]["known_state"] == "seed" and "verify_host_s" not in rows[1] and rows[1]["all_ok"]
    assert rows[1]["verify_fleet_peak_tree_mb"] == 300.0 and rows[1]["host_over_fleet"] is None
    slopes = {key: measure.slope(rows, key) for key in ("verify_host_s", "verify_fleet_s")}
    assert slopes["verify_fleet_s"] == {"from": 1000, "to": 10000, "seconds_per_station": round(600.0 / 9000, 4)}
    text = report.render_verify({"cpus": 2, "sizes": [{"row": row} for row in rows], "slope": slopes})
    assert "N=10000 MEASURED" in text and "PROJECTION" not in text
    assert any(line.startswith("| 10000 ") and "700.0" in line and "seed 5 s" in line for line in text.splitlines())


def test_the_bench_registers_every_lab_station_with_its_serial():
    class _Csms:
        def __init__(self):
            self.records = {}

        def put_record(self, collection, record_id, record):
            self.records[(collection, record_id)] = record

    class _Lab(dict):
        csms = _Csms()
    lab = _Lab(simulator={"stations": ["LAB-CP-0001", "LAB-CP-0012"]})
    with ThreadPoolExecutor(max_workers=2) as pool:
        assert fleet.register_stations(lab, pool) == 2
    assert lab.csms.records[("stations", "LAB-CP-0012")] == {"status": "active", "serial_number": "SIM-0012"}


def test_idle_cpu_is_read_from_proc():
    assert lab_idle.cpu_seconds(os.getpid()) > 0
    assert lab_idle.cpu_seconds(2 ** 22 + 7) is None
    shares = lab_idle.sample({"me": os.getpid()}, 0.2)
    assert set(shares) == {"me"} and shares["me"] >= 0
