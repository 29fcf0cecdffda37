"""Helpers of the security and promotion tests: stations of their own, and an inventory of just those stations."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import yaml

from evcs_lab.clients import CsmsApi

REPO_ROOT = Path(__file__).resolve().parents[2]
SITE = {"id": "sec-lab", "name": "Security lab", "operator": {"name": "EVCS Lab Operator",
                                                            "organization": "EVCS Lab Operator"},
        "address": {"street": "Laborweg 1", "city": "Berlin", "postal_code": "10115", "country": "DE"},
        "grid_connection": {"max_current_a": 400, "phases": 3, "voltage_v": 230}}
#: what a valid inventory declares for a station of the simulator's default model (every writing playbook validates
#: the inventory before it changes anything)
STATION = {"vendor": "EVCS Sim", "model": "SimCharger AC22", "security_profile": 1,
           "evses": [{"id": 1, "max_current_a": 16, "phases": 3, "voltage_v": 230,
                      "connectors": [{"id": 1, "type": "cType2", "format": "Socket", "max_current_a": 16}]}]}


def add_stations(lab, ids: list[str], csms: CsmsApi | None = None) -> None:
    """Factory-fresh simulated stations with an active record in the (lab) CSMS, each online on profile 1."""
    csms = csms or lab.csms
    lab.sim.add(ids)
    for station_id in ids:
        csms.put_record("stations", station_id, {"status": "active", "serial_number": f"SN-{station_id}"})
    wait_for(lambda: all((lab.csms.connection(station_id) or {}).get("online") for station_id in ids),
             "stations online", 30)


def wait_for(predicate, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not reached within {timeout:.0f}s")
        time.sleep(0.3)


def write_inventory(directory: Path, stations: dict[str, dict], source: str = "inventories/lab") -> str:
    """An inventory of ``stations`` ({id: evcs_station overrides}) with the group_vars/all of ``source``."""
    if directory.exists():
        shutil.rmtree(directory)
    shutil.copytree(REPO_ROOT / source / "group_vars" / "all", directory / "group_vars" / "all")
    hosts = {"all": {"vars": {"ansible_connection": "local", "evcs_site": SITE},
                     "hosts": {station_id: {"evcs_station": {**STATION, "id": station_id, "serial_number": station_id[-25:],
                                                            **overrides}}
                               for station_id, overrides in stations.items()}}}
    (directory / "hosts.yml").write_text(yaml.safe_dump(hosts))
    return str(directory)


def ocpp_writes(stats: dict, station_id: str) -> dict:
    """CSMS-initiated calls that change something (Set*, Reset, Install*, and OCPP 1.6's ChangeConfiguration and
    SendLocalList), counted per action."""
    actions = (stats.get("stations") or {}).get(station_id) or {}
    return {action: count for action, count in actions.items()
            if action.startswith(("Set", "Reset", "Install", "CertificateSigned", "Delete", "ChangeConfiguration",
                                  "SendLocalList"))}
