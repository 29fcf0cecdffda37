"""``evcs-lab`` end to end: state file, status, idempotent ``up``, ``down`` without orphans."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

from evcs_lab.cli import load_stations
from evcs_lab.paths import LabPaths

FLEET = [station["id"] for station in load_stations()]


def _processes_mentioning(text: str) -> list[int]:
    """Pids of live processes whose command line mentions ``text`` (the lab home path)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (proc / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(int(proc.name))
    return found


def test_state_file_follows_the_contract(lab):
    paths = LabPaths.resolve(lab.home)
    assert stat.S_IMODE(paths.state_file.stat().st_mode) == 0o600
    state = json.loads(paths.state_file.read_text())
    assert set(state) == {"environment", "home", "vault", "csms", "csms_kind", "simulator", "processes", "environments"}
    assert state["csms_kind"] == "reference"
    assert state["environment"] == "lab"
    assert state["simulator"]["stations"] == FLEET
    assert state["csms"]["ws_urls"]["1"].startswith("ws://127.0.0.1:")
    assert state["csms"]["ws_urls"]["3"].startswith("wss://127.0.0.1:")
    assert paths.root_token.read_text().strip() not in paths.state_file.read_text()
    assert set(state["processes"]) == {"vault", "csms", "simulator"}


def test_components_answer(lab):
    health = lab.csms.health()
    assert health["status"] == "ok" and health["time"].endswith("Z")
    stations = {item["id"]: item for item in lab.sim.stations()}
    assert set(FLEET) <= set(stations)
    assert all(stations[station_id]["connected"] for station_id in FLEET)
    assert lab.csms.connection(FLEET[0])["online"] is True


def test_status_lists_every_station_connected(lab, lab_cli):
    shown = lab_cli(lab.home, "status")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    for station_id in FLEET:
        assert f"{station_id} " in shown.stdout
    assert "disconnected" not in shown.stdout


def test_second_up_reuses_everything(lab, lab_cli):
    started = time.monotonic()
    again = lab_cli(lab.home, "up")
    elapsed = time.monotonic() - started
    assert again.returncode == 0, again.stdout + again.stderr
    state = json.loads(LabPaths.resolve(lab.home).state_file.read_text())
    assert state["processes"] == lab["processes"]
    assert state["csms"] == lab["csms"] and state["vault"] == lab["vault"]
    print(f"second evcs-lab up: {elapsed:.1f}s")


def test_down_leaves_no_processes(tmp_path, lab_cli):
    home = tmp_path / "lab"
    started = lab_cli(home, "up", "--count", "1")
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        assert len(_processes_mentioning(str(home))) >= 3
    finally:
        stopped = lab_cli(home, "down")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert _processes_mentioning(str(home)) == []
    assert lab_cli(home, "status").returncode == 1
