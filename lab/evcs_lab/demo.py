"""``python -m evcs_lab.demo`` (what ``make demo`` runs): the demo as numbered steps.

Start the lab, provision its chargers from ``inventories/lab`` with ``playbooks/provision.yml``, run it again to show
that nothing changes, then show the commissioning report and the fleet as the CSMS sees it: a mixed fleet of OCPP
2.0.1 stations and an OCPP 1.6J charge point (the version each one negotiated, its security profile and the CN of the
certificate it presents). Each step prints ``[n/N] title ... ok (Xs)``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import yaml
from cryptography import x509
from cryptography.x509.oid import NameOID

from evcs_lab.clients import LabState
from evcs_lab.paths import REPO_ROOT


@dataclass(frozen=True)
class Step:
    title: str
    run: Callable[[], bool]


def command(*argv: str) -> Callable[[], bool]:
    """A step that runs ``argv`` from the repo root with its output shown; succeeds on exit status 0."""
    def _run() -> bool:
        return subprocess.run(list(argv), cwd=REPO_ROOT, check=False).returncode == 0
    return _run


def evcs_lab(*args: str) -> Callable[[], bool]:
    return command(sys.executable, "-m", "evcs_lab.cli", *args)


REPORT_DIR = REPO_ROOT / "reports" / "demo"
_RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)


def _playbook(*args: str, quiet: bool = False) -> subprocess.CompletedProcess:
    argv = [str(Path(sys.executable).with_name("ansible-playbook")), "playbooks/provision.yml", *args]
    env = dict(os.environ, EVCS_REPORT_DIR=str(REPORT_DIR), ANSIBLE_FORCE_COLOR="0")
    if quiet:
        return subprocess.run(argv, cwd=REPO_ROOT, env=env, check=False, capture_output=True, text=True)
    return subprocess.run(argv, cwd=REPO_ROOT, env=env, check=False)


def provision() -> bool:
    """First run: provisions fresh stations; ansible-playbook's own output shows the progress."""
    for old in REPORT_DIR.glob("commissioning-*"):
        old.unlink()
    return _playbook().returncode == 0


def provision_again() -> bool:
    """Second run: must change nothing. Prints the recap lines of the chargers only."""
    run = _playbook(quiet=True)
    recap = [m for m in _RECAP.finditer(run.stdout) if m.group(1) != "localhost"]
    for match in recap:
        print(f"    {match.group(1):<14} changed={match.group(3)} failed={match.group(5)} unreachable={match.group(4)}")
    changed = sum(int(m.group(3)) for m in recap)
    if run.returncode != 0 or not recap:
        print(run.stdout[-4000:], run.stderr[-2000:], sep="\n")
        return False
    print(f"    second run: changed={changed} on {len(recap)} chargers"
          + ("" if changed == 0 else "  <- NOT idempotent"))
    return changed == 0


def show_report() -> bool:
    """The per-site Markdown tables the commission role wrote."""
    tables = sorted(REPORT_DIR.glob("commissioning-*.md"))
    for table in tables:
        print(f"\n--- {table.relative_to(REPO_ROOT)}")
        print(table.read_text())
    return bool(tables)


INVENTORY = REPO_ROOT / "inventories" / "lab"


def _inventory_stations() -> list[tuple[str, str]]:
    """(station id, site id) of every host of ``inventories/lab/hosts.yml``, in its order (the site id from the site
    group's ``evcs_site``, else the group's name)."""
    children = yaml.safe_load((INVENTORY / "hosts.yml").read_text())["all"]["children"]
    stations = []
    for group, members in children.items():
        site_file = INVENTORY / "group_vars" / f"{group}.yml"
        site = (yaml.safe_load(site_file.read_text()) or {}).get("evcs_site", {}) if site_file.is_file() else {}
        stations += [(host, site.get("id", group)) for host in (members.get("hosts") or {})]
    return stations


def _declared_version(station_id: str) -> str:
    host_vars = yaml.safe_load((INVENTORY / "host_vars" / f"{station_id}.yml").read_text())["evcs_station"]
    return str(host_vars.get("ocpp_version", "2.0.1"))


def _certificate_cn(pem: str | None) -> str:
    if not pem:
        return "-"
    names = x509.load_pem_x509_certificate(pem.encode()).subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return ",".join(str(name.value) for name in names) or "-"


def fleet() -> bool:
    """The mixed fleet as the CSMS sees it: per station the OCPP version it negotiated (the websocket subprotocol),
    its security profile and certificate CN. Fails when a station is offline or speaks another version than declared."""
    lab = LabState.load()
    print(f"    {'station':<14} {'site':<11} {'OCPP':<6} {'profile':<8} {'online':<7} certificate CN")
    versions: dict[str, int] = {}
    healthy = True
    for station_id, group in _inventory_stations():
        connection = lab.csms.connection(station_id) or {}
        version = connection.get("ocpp_version", "?")
        declared = _declared_version(station_id)
        versions[version] = versions.get(version, 0) + 1
        online = bool(connection.get("online"))
        healthy = healthy and online and version == declared
        print(f"    {station_id:<14} {group:<11} {version:<6} {str(connection.get('security_profile', '?')):<8} "
              f"{'yes' if online else 'NO':<7} {_certificate_cn(connection.get('client_certificate'))}"
              + ("" if version == declared else f"  <- declared {declared}"))
    print("    fleet: " + ", ".join(f"{count} on OCPP {version}" for version, count in sorted(versions.items())))
    return healthy


STEPS: list[Step] = [
    Step("start the lab (OpenBao PKI, reference CSMS, charger simulator)", evcs_lab("up")),
    Step("provision the lab chargers (playbooks/provision.yml, inventories/lab)", provision),
    Step("provision again: nothing may change", provision_again),
    Step("commissioning report", show_report),
    Step("the mixed fleet (OCPP version, security profile, certificate per station)", fleet),
    Step("lab status (each charger's security profile, slot and station model)", evcs_lab("status")),
]


def run_steps(steps: Sequence[Step]) -> int:
    total = len(steps)
    for number, step in enumerate(steps, start=1):
        print(f"[{number}/{total}] {step.title} ...", flush=True)
        start = time.monotonic()
        succeeded = step.run()
        print(f"[{number}/{total}] {step.title} ... {'ok' if succeeded else 'FAILED'} "
              f"({time.monotonic() - start:.1f}s)", flush=True)
        if not succeeded:
            return 1
    return 0


def main() -> int:
    status = run_steps(STEPS)
    print("\nThe lab keeps running: `make lab-status`, `make lab-down`; reports in reports/, audit trail in audit/.")
    return status


if __name__ == "__main__":
    sys.exit(main())
