"""Start and stop `python -m evcs_lab.simulator` as a subprocess for the tests."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from sim_csms import free_port

REPO_ROOT = Path(__file__).resolve().parents[3]


#: the station model each test station runs (default: spec, standard components only)
LAB_MODELS = {"SIM-CP-0003": "quirky"}


def station_definition(station_id: str) -> dict:
    return {"id": station_id, "serial_number": f"SN-{station_id}", "vendor": "EVCS Lab", "model": "LabCharger 22",
            "firmware_version": "1.4.2", "site": "lab-site", "lab_model": LAB_MODELS.get(station_id, "spec"),
            "evses": [{"id": 1, "max_current_a": 32, "phases": 3,
                       "connectors": [{"id": 1, "type": "cType2", "format": "Socket", "max_current_a": 32}]},
                      {"id": 2, "max_current_a": 32, "phases": 3,
                       "connectors": [{"id": 1, "type": "cType2", "format": "Cable", "max_current_a": 32}]}]}


class SimulatorProcess:
    """One simulator with its own state directory, control port and log."""

    def __init__(self, home: Path, csms_url: str, password: str, station_ids: list[str]):
        self.home = home
        self.home.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.control_url = f"http://127.0.0.1:{self.port}"
        self.state_dir = home / "stations"
        self.log = home / "simulator.log"
        self.config_path = home / "config.json"
        self.config_path.write_text(json.dumps({
            "host": "127.0.0.1", "control_port": self.port, "state_dir": str(self.state_dir),
            "stations": [station_definition(station_id) for station_id in station_ids],
            "factory": {"csms_url": csms_url, "staging_password": password, "security_profile": 1},
            "csms_root_ca": str(home / "unused-root-ca.pem"), "log": str(self.log)}))
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = dict(os.environ, PYTHONPATH=str(REPO_ROOT / "lab"))
        self.process = subprocess.Popen([sys.executable, "-m", "evcs_lab.simulator", "--config", str(self.config_path)],
                                        env=env, cwd=self.home, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"simulator exited: {self.process.stderr.read().decode()}")
            try:
                requests.get(f"{self.control_url}/sim/health", timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("simulator control API did not come up")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def get(self, path: str):
        response = requests.get(f"{self.control_url}{path}", timeout=10)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: dict):
        response = requests.post(f"{self.control_url}{path}", json=body, timeout=10)
        response.raise_for_status()
        return response.json()


def wait_for(predicate, timeout: float = 20, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
