"""What the fleet benchmark measures, as small pure functions plus two samplers (process memory, Vault audit log)."""

from __future__ import annotations

import json
import os
import re
import signal
import statistics
import threading
import time
from collections import Counter
from pathlib import Path

_STATION_IN_PATH = re.compile(r"LAB-CP-\d+")
_SERIAL_IN_PATH = re.compile(r"(?<=/)[0-9a-f]{2}(?::[0-9a-f]{2})+", re.IGNORECASE)
_WRITE_OPERATIONS = {"create", "update", "delete"}
_AUDIT_DEVICE = "bench"
_AUDIT_READY_TIMEOUT = 15.0


# -- OCPP -------------------------------------------------------------------------------------------------------
def ocpp_counts(stats: dict) -> dict:
    """Split ``GET /api/stats/ocpp`` into reads (Get* calls) and writes (every other CSMS-initiated call)."""
    actions: Counter = Counter()
    for per_action in (stats.get("stations") or {}).values():
        actions.update(per_action)
    reads = sum(count for action, count in actions.items() if action.startswith("Get"))
    return {"reads": reads, "writes": sum(actions.values()) - reads, "by_action": dict(sorted(actions.items()))}


# -- Vault audit log -----------------------------------------------------------------------------------------------
def audit_stanza(log_file: Path) -> str:
    """A declarative file audit device (OpenBao refuses to enable audit devices over the API)."""
    return f'\naudit "file" "{_AUDIT_DEVICE}" {{\n  options {{\n    file_path = "{log_file}"\n  }}\n}}\n'


def enable_vault_audit(config_file: Path, vault_pid: int, log_file: Path) -> None:
    """Add the audit device to the lab's OpenBao config and reload it (SIGHUP); wait until it writes its log.

    The lab is the benchmark's own, started for this run; nothing else reads this config.
    """
    if f'"{_AUDIT_DEVICE}"' not in config_file.read_text():
        with config_file.open("a", encoding="utf-8") as config:
            config.write(audit_stanza(log_file))
    os.kill(vault_pid, signal.SIGHUP)
    deadline = time.monotonic() + _AUDIT_READY_TIMEOUT
    while not log_file.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"OpenBao did not open the audit log {log_file} within {_AUDIT_READY_TIMEOUT:.0f}s "
                               "after SIGHUP: see its vault.log")
        time.sleep(0.2)


def _audit_source(entry: dict) -> str | None:
    """Who made an audited request: ``collection``, ``lab`` (the CSMS fetching the CRL, the bench's own probe)."""
    request = entry.get("request") or {}
    path = request.get("path") or ""
    if path.startswith("sys/audit"):
        return "lab"
    if not (entry.get("auth") or {}).get("client_token") and (path.endswith("/crl") or "/crl/" in path):
        return "lab"
    return "collection"


def vault_counts(lines) -> dict:
    """Count the collection's requests in audit log ``lines``: total, logins, writes (other than logins), by path."""
    paths: Counter = Counter()
    logins = writes = 0
    for line in lines:
        entry = json.loads(line)
        if entry.get("type") != "request" or _audit_source(entry) != "collection":
            continue
        request = entry["request"]
        path = _SERIAL_IN_PATH.sub("<serial>", _STATION_IN_PATH.sub("<station>", request.get("path") or ""))
        paths[f"{request.get('operation')} {path}"] += 1
        if path.startswith("auth/") and path.endswith("/login"):
            logins += 1
        elif request.get("operation") in _WRITE_OPERATIONS:
            writes += 1
    return {"requests": sum(paths.values()), "logins": logins, "writes": writes, "by_path": dict(sorted(paths.items()))}


class AuditLog:
    """The audit log read in slices: ``mark()`` before a run, ``counts_since_mark()`` after it."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0

    def mark(self) -> None:
        self.offset = self.path.stat().st_size if self.path.exists() else 0

    def counts_since_mark(self) -> dict:
        with self.path.open("rb") as log:
            log.seek(self.offset)
            data = log.read()
        return vault_counts(line for line in data.decode("utf-8").splitlines() if line.strip())


# -- tasks -------------------------------------------------------------------------------------------------------
def task_profile(callback_output: dict, stations: list[str]) -> dict:
    """Tasks per station (most common count, min, max) and on localhost, changed total, seconds per role."""
    hosts = callback_output.get("hosts") or {}
    per_station = [sum(hosts.get(station, {}).values()) for station in stations]
    roles: Counter = Counter()
    for task in callback_output.get("tasks") or []:
        roles[task.get("role") or "(playbook)"] += task.get("seconds", 0.0)
    return {
        "tasks_per_station": statistics.mode(per_station) if per_station else 0,
        "tasks_per_station_min": min(per_station, default=0),
        "tasks_per_station_max": max(per_station, default=0),
        "tasks_on_localhost": sum(hosts.get("localhost", {}).values()),
        "changed": sum(counts.get("changed", 0) for counts in hosts.values()),
        "failed": sum(counts.get("failed", 0) + counts.get("unreachable", 0) for counts in hosts.values()),
        "seconds_by_role": {role: round(seconds, 2) for role, seconds in roles.most_common()},
    }


# -- memory ------------------------------------------------------------------------------------------------------
def _status_kb(pid: int, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def vm_hwm_mb(pid: int | None) -> float | None:
    """Peak resident memory (VmHWM) of a running process in MB; None when it is gone."""
    kb = _status_kb(pid, "VmHWM") if pid else None
    return round(kb / 1024, 1) if kb is not None else None


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


def tree_rss_kb(root: int) -> int:
    """Resident memory of ``root`` and all its descendants now (shared copy-on-write pages counted per process)."""
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        total += _status_kb(pid, "VmRSS") or 0
        pending.extend(_children(pid))
    return total


class TreeSampler(threading.Thread):
    """Samples the resident memory of a process tree until ``stop()``; ``peak_mb`` is the highest sum seen."""

    def __init__(self, root: int, interval: float = 0.5):
        super().__init__(daemon=True)
        self.root = root
        self.interval = interval
        self.peak_kb = 0
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.is_set():
            self.peak_kb = max(self.peak_kb, tree_rss_kb(self.root))
            self._stopped.wait(self.interval)

    def stop(self) -> float:
        self._stopped.set()
        self.join()
        return round(self.peak_kb / 1024, 1)


# -- summary ----------------------------------------------------------------------------------------------------
def per_station(value: float | None, stations: int) -> float | None:
    return round(value / stations, 2) if value is not None and stations else None


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    return round(numerator / denominator, 2) if numerator is not None and denominator else None


def slope(results: list[dict], key: str, low: int = 100, high: int = 500) -> dict | None:
    """Seconds per extra station of ``key`` between N=low and N=high, else between the two largest N measured."""
    measured = {result["stations"]: result[key] for result in results if result.get(key) is not None}
    if low in measured and high in measured:
        pair = (low, high)
    elif len(measured) >= 2:
        pair = tuple(sorted(measured)[-2:])
    else:
        return None
    small, large = pair
    return {"from": small, "to": large, "seconds_per_station": round((measured[large] - measured[small]) / (large - small), 4)}
