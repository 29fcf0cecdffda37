"""Integration tests run real processes: OpenBao, the reference CSMS, the charger simulator, ansible-playbook.

Fixtures:
- ``lab``: a whole lab in a temporary ``EVCS_LAB_HOME`` for the session (``evcs-lab up`` / ``down``), as a
  ``LabState`` (the state dict plus ``.csms``, ``.sim``, ``.home``).
- ``vault_lab``: only the lab's OpenBao, bootstrapped (for tests that need nothing else).
- ``run_playbook``: runs ``.venv/bin/ansible-playbook`` from the repo root against the ``lab`` home.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from evcs_lab import vault
from evcs_lab.cli import missing_components
from evcs_lab.clients import LabState

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = REPO_ROOT / ".venv" / "bin"
INTEGRATION_DIR = Path(__file__).resolve().parent
LAB_UP_TIMEOUT = 300
PLAYBOOK_TIMEOUT = 900
_RECAP_LINE = re.compile(r"^(?P<host>\S+)\s*:\s*(?P<counts>(?:\w+=\d+\s*)+)$")


#: ``make integration`` runs two shards at once (``--lab-shard``): the modules that share the session's ``lab`` (one
#: lab, changed by those modules in collection order, so they stay together and in order), and every other module
#: (each starts its own lab, or needs none). Two static shards keep each run's order the same as the last one's.
LAB_SHARDS = ("session-lab", "others")


def pytest_addoption(parser):
    parser.addoption("--lab-shard", choices=LAB_SHARDS, default=None,
                     help="run only the integration modules of this shard (make integration runs both at once)")


def _uses_session_lab(module_items):
    for item in module_items:
        definitions = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {}).get("lab")
        if definitions and definitions[-1].scope == "session":
            return True
    return False


def pytest_collection_modifyitems(config, items):
    modules: dict = {}
    for item in items:
        if INTEGRATION_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.integration)
            modules.setdefault(str(item.path), []).append(item)
    shard = config.getoption("--lab-shard", default=None)
    if not shard:
        return
    wanted = {path for path, module_items in modules.items()
              if (_uses_session_lab(module_items) == (shard == "session-lab"))}
    kept = [item for item in items if str(item.path) in wanted]
    deselected = [item for item in items if str(item.path) not in wanted]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


def lab_env(home: Path, extra: dict | None = None) -> dict:
    """The environment of a lab command: the venv first on PATH, the repo's ansible.cfg, this lab's home, and the
    audit trail and commissioning reports kept in the lab home (tests never write into the working tree)."""
    env = dict(os.environ)
    env.update({
        "EVCS_LAB_HOME": str(home),
        "EVCS_AUDIT_FILE": str(Path(home) / "audit" / "audit.jsonl"),
        "EVCS_REPORT_DIR": str(Path(home) / "reports"),
        "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
    })
    env.update(extra or {})
    return env


def evcs_lab(home: Path, *args: str, timeout: float = LAB_UP_TIMEOUT) -> subprocess.CompletedProcess:
    """Run the ``evcs-lab`` console script against ``home``; output captured as text."""
    return subprocess.run([str(VENV_BIN / "evcs-lab"), *args], env=lab_env(home), cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=timeout, check=False)


def skip_unless_components() -> None:
    missing = missing_components()
    if missing:
        pytest.skip(f"lab component(s) not available yet: {', '.join('evcs_lab.' + name for name in missing)} "
                    "(python -m evcs_lab.<name> does not run)")


@contextlib.contextmanager
def running_lab(home: Path):
    """``evcs-lab up`` in ``home`` (stations from lab/stations.yml), yielding its ``LabState``; always taken down."""
    skip_unless_components()
    try:
        started = evcs_lab(home, "up")
        if started.returncode != 0:
            pytest.fail(f"evcs-lab up failed ({started.returncode}):\n{started.stdout}\n{started.stderr}")
        yield LabState.load(home)
    finally:
        evcs_lab(home, "down", timeout=120)


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """A running lab for the whole session."""
    with running_lab(tmp_path_factory.mktemp("evcs-lab")) as state:
        yield state


@pytest.fixture(scope="module")
def vault_lab(tmp_path_factory):
    """Only the lab's OpenBao, started and bootstrapped in its own home: ``(home, VaultLab)``."""
    home = tmp_path_factory.mktemp("vault-lab")
    try:
        yield home, vault.up(home)
    finally:
        vault.down(home)


def parse_recap(output: str) -> dict:
    """PLAY RECAP per host: ``{host: {"ok": n, "changed": n, "failed": n, "unreachable": n, ...}}``."""
    recap: dict = {}
    in_recap = False
    for line in output.splitlines():
        if line.startswith("PLAY RECAP"):
            in_recap = True
            continue
        match = _RECAP_LINE.match(line.strip()) if in_recap else None
        if match:
            counts = dict(pair.split("=") for pair in match.group("counts").split())
            recap[match.group("host")] = {key: int(value) for key, value in counts.items()}
    return recap


def ansible_playbook(home: Path, playbook: str, inventory: str = "inventories/lab", extra_vars: dict | None = None,
                     check: bool = False, diff: bool = False, verbosity: int = 0, env: dict | None = None):
    """Run ansible-playbook from the repo root; return ``(rc, stdout + stderr, recap)``."""
    argv = [str(VENV_BIN / "ansible-playbook"), "-i", inventory, playbook]
    if extra_vars:
        argv += ["-e", json.dumps(extra_vars)]
    if check:
        argv.append("--check")
    if diff:
        argv.append("--diff")
    if verbosity:
        argv.append("-" + "v" * verbosity)
    done = subprocess.run(argv, env=lab_env(home, env), cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=PLAYBOOK_TIMEOUT, check=False)
    output = done.stdout + done.stderr
    return done.returncode, output, parse_recap(done.stdout)


CITRINEOS_UP_TIMEOUT = 2400  # a cold build (npm ci + tsc) takes 3-5 minutes on 2 cores; a cached one seconds


@pytest.fixture(scope="session")
def citrineos_lab(tmp_path_factory):
    """A lab whose stations are onboarded to a real CitrineOS (``evcs-lab up --csms citrineos``), built once and
    started once per test session; skipped, with how to enable it, when no CitrineOS source is available."""
    from evcs_lab import citrineos
    from evcs_lab.paths import LabPaths

    skip_unless_components()
    reason = citrineos.unavailable_reason()
    if reason:
        pytest.skip(f"CitrineOS tests skipped: {reason}. Enable them with CITRINEOS_SRC=<citrineos-core v1.8.3 "
                    "tarball or checkout> (the Debian packages are installed when running as root)")
    home = tmp_path_factory.mktemp("citrineos-lab")
    try:
        started = evcs_lab(home, "up", "--csms", "citrineos", timeout=CITRINEOS_UP_TIMEOUT)
        print(started.stdout)
        if started.returncode != 0:
            pytest.fail(f"evcs-lab up --csms citrineos failed ({started.returncode}):\n{started.stdout}\n"
                        f"{started.stderr}")
        yield LabState.load(home)
    finally:
        evcs_lab(home, "down", timeout=120)
        citrineos.down(LabPaths(home), purge=True)


@pytest.fixture(scope="session")
def run_playbook(lab):
    """``run_playbook(playbook, inventory='inventories/lab', extra_vars=None, check=False, diff=False,
    verbosity=0, env=None) -> (rc, output, recap)`` against the session's lab."""
    def _run(playbook: str, **options):
        return ansible_playbook(lab.home, playbook, **options)
    return _run


@pytest.fixture(scope="session")
def lab_cli():
    """``lab_cli(home, *args)``: run the ``evcs-lab`` console script against a lab home."""
    skip_unless_components()
    return evcs_lab
