"""The fleet benchmark's pure helpers: generated inventory, floor playbook, traffic counts, slope and table."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

# pylint: disable=wrong-import-position
import inventory  # noqa: E402
import measure  # noqa: E402
import report  # noqa: E402

from ansible_collections.evcs.provisioning.plugins.module_utils import desired_state  # noqa: E402


def _audit(path: str, operation: str = "read", token: str | None = "hmac-sha256:x", kind: str = "request") -> str:
    entry = {"type": kind, "request": {"path": path, "operation": operation}}
    if token:
        entry["auth"] = {"client_token": token}
    return json.dumps(entry)


def test_sites_of_ten_and_a_shorter_last_site():
    assert [len(site) for site in inventory.sites_of(25)] == [10, 10, 5]
    assert inventory.sites_of(25)[2] == [21, 22, 23, 24, 25]


def test_written_inventory_holds_every_station_once_in_its_site(tmp_path):
    inventory.write_inventory(tmp_path, 23)
    hosts = yaml.safe_load((tmp_path / "hosts.yml").read_text())["all"]["children"]
    assert list(hosts) == ["bench_site_001", "bench_site_002", "bench_site_003"]
    assert sum(len(group["hosts"]) for group in hosts.values()) == 23
    assert (tmp_path / "group_vars" / "all" / "lab.yml").is_file()
    station = yaml.safe_load((tmp_path / "host_vars" / "LAB-CP-0023.yml").read_text())["evcs_station"]
    assert station["id"] == "LAB-CP-0023" and station["serial_number"] == "SIM-0023"


def _lab_environment() -> dict:
    """``group_vars/all`` of inventories/lab with literal endpoints instead of the state-file lookups."""
    environment = yaml.safe_load((inventory.LAB_INVENTORY / "group_vars" / "all" / "environment.yml").read_text())
    environment["evcs_csms"] = {"backend": "reference", "url": "https://127.0.0.1:8443", "token": "t",
                                "ca_path": "/tmp/ca.pem", "root_ca_path": "/tmp/root.pem",
                                "ws_urls": {"1": "ws://127.0.0.1:9001/ocpp", "2": "wss://127.0.0.1:9002/ocpp",
                                            "3": "wss://127.0.0.1:9003/ocpp"}}
    environment["evcs_vault"] = {"url": "https://127.0.0.1:8200", "ca_path": "/tmp/ca.pem", "auth_method": "token",
                                 "token": "t", "pki_mount": "pki_lab", "station_role": "charging-station",
                                 "kv_mount": "secret"}
    return environment


def test_generated_stations_and_sites_pass_the_validate_rules():
    site = inventory.site_vars(0, 10)
    stations = {inventory.station_id(number): {**_lab_environment(), **inventory.station_vars(number), **site,
                                                "inventory_hostname": inventory.station_id(number)}
                for number in range(1, 11)}
    modes = set()
    for host, host_vars in stations.items():
        station = desired_state.station_from_vars(host, host_vars)
        modes.add(station["network"]["mode"])
    assert modes == {"ethernet", "wifi", "cellular"}
    assert site["evcs_site"]["grid_connection"]["max_current_a"] == 10 * inventory.STATION_CURRENT_A


def test_floor_playbook_has_the_task_counts_asked():
    plays = inventory.floor_playbook(26, 2)
    assert [len(play["tasks"]) for play in plays] == [26, 2]
    assert all(set(task) == {"name", "ansible.builtin.set_fact"} for play in plays for task in play["tasks"])
    assert len(inventory.floor_playbook(5)) == 1


def test_ocpp_counts_split_get_calls_from_writes():
    stats = {"stations": {"LAB-CP-0001": {"GetVariables": 3, "SetVariables": 1, "TriggerMessage": 1},
                          "LAB-CP-0002": {"GetVariables": 2, "GetInstalledCertificateIds": 1}}}
    counts = measure.ocpp_counts(stats)
    assert (counts["reads"], counts["writes"]) == (6, 2)
    assert measure.ocpp_counts({"stations": {}})["reads"] == 0


def test_vault_counts_keep_the_collection_requests_only():
    lines = [
        _audit("sys/audit/test", "update", token=None),
        _audit("pki_lab/crl", token=None),                       # the CSMS refreshing its CRL
        _audit("auth/approle/login", "update", token=None),
        _audit("pki_lab/sign/charging-station", "update"),
        _audit("pki_lab/cert/0f:68:06", "read"),
        _audit("pki_lab/cert/1d:28:89", "read"),
        _audit("secret/data/evcs/lab/stations/LAB-CP-0007", "read"),
        _audit("pki_lab/cert/1d:28:89", "read", kind="response"),
    ]
    counts = measure.vault_counts(lines)
    assert (counts["requests"], counts["logins"], counts["writes"]) == (5, 1, 1)
    assert counts["by_path"]["read pki_lab/cert/<serial>"] == 2
    assert counts["by_path"]["read secret/data/evcs/lab/stations/<station>"] == 1


def test_audit_log_counts_only_what_came_after_the_mark(tmp_path):
    log = tmp_path / "audit.log"
    log.write_text(_audit("pki_lab/cert/ca") + "\n")
    audit = measure.AuditLog(log)
    audit.mark()
    with log.open("a") as handle:
        handle.write(_audit("pki_lab/cert/ca") + "\n" + _audit("pki_lab/issue/x", "update") + "\n")
    assert audit.counts_since_mark()["requests"] == 2


def test_task_profile_counts_tasks_per_station_and_time_per_role():
    callback = {"hosts": {"A": {"ok": 20, "skipped": 5}, "B": {"ok": 22, "changed": 3},
                          "C": {"ok": 25}, "localhost": {"ok": 2}},
                "tasks": [{"role": "network", "seconds": 1.5}, {"role": "network", "seconds": 0.5},
                          {"role": None, "seconds": 0.25}]}
    profile = measure.task_profile(callback, ["A", "B", "C"])
    assert profile["tasks_per_station"] == 25
    assert (profile["tasks_on_localhost"], profile["changed"]) == (2, 3)
    assert profile["seconds_by_role"] == {"network": 2.0, "(playbook)": 0.25}


def test_slope_prefers_100_to_500_then_the_two_largest_sizes():
    rows = [{"stations": 10, "t": 10.0}, {"stations": 100, "t": 40.0}, {"stations": 500, "t": 240.0}]
    assert measure.slope(rows, "t")["seconds_per_station"] == 0.5
    assert measure.slope(rows[:2], "t") == {"from": 10, "to": 100, "seconds_per_station": 0.3333}
    assert measure.slope(rows[:1], "t") is None


def test_vm_hwm_of_this_process_and_of_no_process():
    assert measure.vm_hwm_mb(None) is None
    assert measure.vm_hwm_mb(os.getpid()) > 1


def test_report_table_shows_missing_figures_as_dashes():
    text = report.render({"playbook": "playbooks/provision.yml", "cpus": 2,
                          "sizes": [{"row": {"stations": 10, "forks": 10, "error": "lab did not start"}}], "slope": {}})
    assert any(line.startswith("| 10 |") and line.count(" - ") >= 8 for line in text.splitlines())
    assert "lab did not start" in text
    assert "needs two fleet sizes" in text
