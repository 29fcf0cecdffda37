"""Safe runs for real operations (issue 18): honest exit codes whatever --limit/--tags/serial, the environment guard
and the production confirmation on every writing playbook, issuer_common_names enforced, environments of any name, and
one writing run per station at a time (the per-station lease in Vault KV).

Stations of this module's own, in an inventory of their own (LAB-CP-0001's hardware at the lab depot site):
SAFE-OFF-1 is in the inventory but not in the simulator (it never answers), SAFE-NEW-1 is factory-fresh (everything
drifted), SAFE-LEASE-1 is provisioned by two concurrent runs.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import hvac
import pytest
import yaml
from evcs_lab.paths import LabPaths

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import PLAYBOOK_TIMEOUT, REPO_ROOT, VENV_BIN, lab_env, parse_recap  # noqa: E402
from security_helpers import add_stations, ocpp_writes, wait_for  # noqa: E402

LAB = REPO_ROOT / "inventories" / "lab"
OFFLINE = "SAFE-OFF-1"
FRESH = "SAFE-NEW-1"
LEASED = "SAFE-LEASE-1"
GUARDED = "SAFE-GUARD-1"
STATIONS = [OFFLINE, FRESH, LEASED, GUARDED]


def _station(station_id: str) -> dict:
    station = yaml.safe_load((LAB / "host_vars" / "LAB-CP-0001.yml").read_text())["evcs_station"]
    # four stations of 20 A fit the depot's grid cap of 100 A
    station.update(id=station_id, serial_number="SN-" + station_id, security_profile=2,
                   load_management=dict(station["load_management"], max_current_a=20))
    return station


def _inventory(directory: Path, environment: dict | None = None, lab_vars: dict | None = None,
               stations: dict | None = None) -> str:
    """The lab's group_vars (environment, endpoints, the depot site) and this module's stations; ``environment``
    overrides keys of group_vars/all/environment.yml, ``lab_vars`` replaces text of group_vars/all/lab.yml."""
    if directory.exists():
        shutil.rmtree(directory)
    shutil.copytree(LAB / "group_vars" / "all", directory / "group_vars" / "all")
    shutil.copy(LAB / "group_vars" / "lab_depot.yml", directory / "group_vars" / "lab_depot.yml")
    if environment:
        path = directory / "group_vars" / "all" / "environment.yml"
        path.write_text(yaml.safe_dump(dict(yaml.safe_load(path.read_text()), **environment)))
    for old, new in (lab_vars or {}).items():
        path = directory / "group_vars" / "all" / "lab.yml"
        text = path.read_text()
        assert old in text, old
        path.write_text(text.replace(old, new))
    (directory / "host_vars").mkdir()
    stations = stations if stations is not None else {station_id: {} for station_id in STATIONS}
    for station_id, overrides in stations.items():
        (directory / "host_vars" / f"{station_id}.yml").write_text(
            yaml.safe_dump({"evcs_station": dict(_station(station_id), **overrides)}))
    hosts = {"all": {"vars": {"ansible_connection": "local"},
                     "children": {"lab_depot": {"hosts": {station_id: None for station_id in stations}}}}}
    (directory / "hosts.yml").write_text(yaml.safe_dump(hosts))
    return str(directory)


def _argv(inventory: str, playbook: str, *args: str, extra_vars: dict | None = None) -> list[str]:
    argv = [str(VENV_BIN / "ansible-playbook"), "-i", inventory, playbook, *args]
    if extra_vars:
        argv += ["-e", json.dumps(extra_vars)]
    return argv


def _run(lab, inventory: str, playbook: str, *args: str, extra_vars: dict | None = None, env: dict | None = None):
    """ansible-playbook with any arguments (--limit, --tags): ``(rc, output, recap)``."""
    done = subprocess.run(_argv(inventory, playbook, *args, extra_vars=extra_vars), env=lab_env(lab.home, env),
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=PLAYBOOK_TIMEOUT, check=False)
    return done.returncode, done.stdout + done.stderr, parse_recap(done.stdout)


@pytest.fixture(scope="module")
def inventory(lab, tmp_path_factory):
    add_stations(lab, [FRESH, LEASED, GUARDED])
    return _inventory(tmp_path_factory.mktemp("safe-runs") / "inventory")


def _root_vault(lab) -> hvac.Client:
    """The lab's OpenBao with its root token (the state's token is the lab environment's, which sees no other mount)."""
    vault = lab["vault"]
    root = LabPaths.resolve(lab.home).root_token.read_text().strip()
    return hvac.Client(url=vault["addr"], token=root, verify=vault["ca_cert"])


def _certificates(lab, mount: str) -> set:
    try:
        return set(_root_vault(lab).secrets.pki.list_certificates(mount_point=mount)["data"]["keys"])
    except hvac.exceptions.InvalidPath:
        return set()


def _lease(lab, station_id: str, environment: str = "lab") -> dict:
    answer = _root_vault(lab).secrets.kv.v2.read_secret_version(
        path=f"evcs/{environment}/stations/{station_id}/lease", mount_point=lab["vault"]["kv_mount"],
        raise_on_deleted_version=False)
    return answer["data"]["data"]


# -- 1. exit codes ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [(), ("--tags", "network"), ("-e", "evcs_batch_size=1")],
                         ids=["limit", "limit+tags", "limit+serial"])
def test_provision_limited_to_a_failing_station_exits_non_zero_and_prints_the_summary(lab, inventory, args):
    rc, output, recap = _run(lab, inventory, "playbooks/provision.yml", "--limit", OFFLINE, *args)
    assert rc != 0, output[-3000:]
    assert "stations: 1 targeted, 0 provisioned" in output and "1 failed" in output, output[-3000:]
    assert f"FAILED  {OFFLINE} in " in output and recap[OFFLINE]["failed"] == 1, output[-3000:]


def test_verify_limited_to_a_drifted_station_exits_non_zero(lab, inventory):
    rc, output, recap = _run(lab, inventory, "playbooks/verify.yml", "--limit", FRESH)
    assert rc != 0 and recap[FRESH]["failed"] == 1, output[-3000:]
    assert "1 station(s) checked, 1 drifted or failed" in output and f"drift on {FRESH}" in output, output[-3000:]


def test_verify_limited_to_a_failing_station_exits_non_zero(lab, inventory):
    rc, output, recap = _run(lab, inventory, "playbooks/verify.yml", "--limit", OFFLINE, "--tags", "network")
    assert rc != 0 and recap[OFFLINE]["failed"] == 1, output[-3000:]
    assert "check failed" in output and f"drift on {OFFLINE}" in output, output[-3000:]


# -- 2. the guard and the confirmation on every writing playbook --------------------------------------------------

WRITING = {
    "provision": ("playbooks/provision.yml", ("--limit", GUARDED), {}),
    "renew_certificates": ("playbooks/renew_certificates.yml", ("--limit", GUARDED), {"identity_force": True}),
    "security_upgrade": ("playbooks/security_upgrade.yml", ("--limit", GUARDED), {"security_profile_target": 3}),
    "decommission": ("playbooks/decommission.yml", ("--limit", GUARDED), {"evcs_decommission_confirmed": True}),
    "move": ("playbooks/move.yml", (), {"evcs_move_stations": GUARDED, "evcs_move_to_site": "lab_depot"}),
    "change_owner": ("playbooks/change_owner.yml", (), {"evcs_owner_stations": GUARDED, "evcs_new_operator": {
        "name": "EVCS Partner Operator", "organization": "EVCS Partner Operator"}}),
}


def _refused_without_writes(lab, inventory, name, check, fragments, allowed_writes=()):
    playbook, args, extra = WRITING[name]
    lab.csms.reset_stats()
    before = {mount: _certificates(lab, mount) for mount in ("pki_lab", "pki_prod")}
    rc, output, _recap = _run(lab, inventory, playbook, *args, *(("--check", "--diff") if check else ()),
                              extra_vars=extra)
    assert rc != 0, output[-3000:]
    for fragment in fragments:
        assert fragment in output, (fragment, output[-3000:])
    assert "pki_prod/sign" not in output, output[-3000:]
    writes = ocpp_writes(lab.csms.stats(), GUARDED)
    assert {action: count for action, count in writes.items() if action not in allowed_writes} == {}, writes
    assert {mount: _certificates(lab, mount) for mount in ("pki_lab", "pki_prod")} == before
    return output


@pytest.fixture(scope="module")
def pointed_at_production_pki(inventory, tmp_path_factory):
    """A lab (non-production) inventory whose Vault PKI mount is the production one."""
    return _inventory(tmp_path_factory.mktemp("safe-prod-pki") / "inventory",
                      lab_vars={'pki_mount: "{{ evcs_lab_state.vault.pki_mount }}"': "pki_mount: pki_prod"})


@pytest.mark.parametrize("name", sorted(WRITING))
def test_a_test_inventory_pointed_at_the_production_pki_is_refused_by_every_writing_playbook(
        lab, pointed_at_production_pki, name):
    _refused_without_writes(lab, pointed_at_production_pki, name, False,
                            [f"{GUARDED}: evcs_vault.pki_mount = 'pki_prod': is not a PKI mount of the lab environment"])


def test_the_plan_of_a_renewal_against_the_production_pki_is_refused(lab, pointed_at_production_pki):
    _refused_without_writes(lab, pointed_at_production_pki, "renew_certificates", True,
                            ["is not a PKI mount of the lab environment"])


@pytest.fixture(scope="module")
def pilot_production(inventory, tmp_path_factory):
    """An environment of another name that its inventory declares production."""
    return _inventory(tmp_path_factory.mktemp("safe-pilot") / "inventory",
                      environment={"evcs_environment": "eu-pilot", "evcs_environment_production": True})


@pytest.mark.parametrize("name", sorted(WRITING))
def test_every_writing_playbook_needs_the_production_confirmation(lab, pilot_production, name):
    _refused_without_writes(lab, pilot_production, name, False,
                            ["evcs_production_confirmed = False: a production run must be confirmed (environment "
                             "'eu-pilot' is production"])


def test_an_issuing_ca_the_environment_does_not_allow_signs_nothing(lab, tmp_path_factory):
    """The mount is allowed, but its issuing CA is not one of evcs_environment_rules.issuer_common_names."""
    inventory = _inventory(tmp_path_factory.mktemp("safe-issuer") / "inventory",
                           environment={"evcs_environment_rules": {
                               "csms_hosts": ["127.0.0.1", "localhost"], "vault_hosts": ["127.0.0.1", "localhost"],
                               "vault_pki_mounts": ["pki_lab"], "issuer_common_names": ["EVCS Prod Charger Issuing CA"]}})
    output = _refused_without_writes(lab, inventory, "renew_certificates", False,
                                     ["the issuing CA of Vault PKI mount pki_lab is CN=EVCS Lab Charger Issuing CA, "
                                      "which this environment does not allow"],
                                     # the CSMS root is installed before the certificate step; nothing is signed
                                     allowed_writes=("InstallCertificate",))
    assert f"{GUARDED}" in output and "failed: " in output


# -- 3. a plan that works on pull requests -------------------------------------------------------------------------

PLANNED = "SAFE-PLAN-1"
ADDED = "SAFE-PLAN-2"


def _plan(lab, inventory):
    rc, output, recap = _run(lab, inventory, "playbooks/provision.yml", "--check", "--diff")
    return rc, output, recap


def test_the_plan_exits_0_and_shows_every_change(lab, tmp_path_factory):
    """Fresh stations, then a pending variable change, then a new station in the inventory: each plan exits 0, shows
    the changes and what commissioning checks after the apply, and writes nothing."""
    add_stations(lab, [PLANNED, ADDED])
    directory = tmp_path_factory.mktemp("safe-plan")
    inventory = _inventory(directory / "inventory", stations={PLANNED: {}})
    lab.csms.reset_stats()
    rc, output, recap = _plan(lab, inventory)
    assert rc == 0 and recap[PLANNED]["failed"] == 0, output[-4000:]
    assert "certificate" in output and f"checked after the apply {PLANNED}: station_online" in output, output[-4000:]
    assert ocpp_writes(lab.csms.stats(), PLANNED) == {}
    rc, output, recap = _run(lab, inventory, "playbooks/provision.yml")
    assert rc == 0, output[-4000:]

    changed = _inventory(directory / "changed", stations={PLANNED: {"ocpp": {"heartbeat_interval": 420}}})
    lab.csms.reset_stats()
    rc, output, recap = _plan(lab, changed)
    assert rc == 0 and recap[PLANNED]["failed"] == 0, output[-4000:]
    assert "OCPPCommCtrlr.HeartbeatInterval" in output and "420" in output, output[-4000:]
    assert f"checked after the apply {PLANNED}: device_model" in output, output[-4000:]
    assert ocpp_writes(lab.csms.stats(), PLANNED) == {}

    grown = _inventory(directory / "grown", stations={PLANNED: {}, ADDED: {}})
    rc, output, recap = _plan(lab, grown)
    assert rc == 0 and recap[PLANNED]["failed"] == 0 and recap[ADDED]["failed"] == 0, output[-4000:]
    assert recap[PLANNED]["changed"] == 0 and recap[ADDED]["changed"] > 0, output[-4000:]
    assert f"changed {ADDED}: " in output and f"changed {PLANNED}" not in output, output[-4000:]
    assert ocpp_writes(lab.csms.stats(), ADDED) == {}


def test_the_plan_still_fails_on_what_no_apply_can_fix(lab, inventory):
    rc, output, recap = _run(lab, inventory, "playbooks/provision.yml", "--check", "--diff", "--limit", OFFLINE)
    assert rc != 0 and recap[OFFLINE]["failed"] == 1, output[-3000:]


# -- 6. a report people look at ------------------------------------------------------------------------------------

INJECTED = '<img src=x id=injected onerror="document.title=1">'


def _chromium() -> str:
    """The headless Chromium of the Debian package; skipped outside CI when it is missing, a failure in CI."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    message = "headless Chromium is not installed: apt-get install -y chromium (make venv does it as root)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


class _Text(HTMLParser):
    """The text a person sees, and the elements the page really has."""

    def __init__(self):
        super().__init__()
        self.parts, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        if not self.tags or self.tags[-1][0] not in ("style", "title"):
            self.parts.append(data)


def _render(page: Path, directory: Path) -> tuple[str, list]:
    """The page as headless Chromium renders it (DOM after any script) and a screenshot of it."""
    chromium = _chromium()
    flags = ["--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={directory / 'chromium'}"]
    dom = subprocess.run([chromium, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120,
                         check=True).stdout
    shot = directory / (page.stem + ".png")
    subprocess.run([chromium, *flags, f"--screenshot={shot}", "--window-size=1400,1000", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 10000
    parser = _Text()
    parser.feed(dom)
    return " ".join(" ".join(parser.parts).split()), parser.tags


def test_the_html_fleet_report_shows_what_a_person_needs_and_what_stations_report_stays_text(
        lab, inventory, tmp_path):
    answer = lab.csms.call(FRESH, "SetVariables", {"setVariableData": [{
        "attributeValue": INJECTED, "component": {"name": "ClockCtrlr"},
        "variable": {"name": "NtpServerUri", "instance": "1"}}]})
    assert answer["setVariableResult"][0]["attributeStatus"] == "Accepted", answer
    reports = {"EVCS_REPORT_DIR": str(tmp_path / "reports")}
    rc, output, _recap = _run(lab, inventory, "playbooks/verify.yml", "--limit", FRESH, env=reports)
    assert rc != 0, output[-3000:]
    rc, output, _recap = _run(lab, inventory, "playbooks/provision.yml", "--limit", OFFLINE, env=reports)
    assert rc != 0, output[-3000:]

    text, tags = _render(tmp_path / "reports" / "fleet-verify.html", tmp_path)
    assert "Fleet report - verify" in text and "Lab depot" in text and "environment lab" in text, text[:2000]
    assert f"{FRESH} failed 2" in text, text[:3000]
    assert f"ClockCtrlr.NtpServerUri[1] : {INJECTED} → pool.ntp.org" in text, text[:3000]
    assert "certificate : null → (a new certificate for CN=SAFE-NEW-1" in text, text[:3000]
    assert not [tag for tag, attrs in tags if tag == "img" or attrs.get("id") == "injected"], tags
    assert not [tag for tag, _attrs in tags if tag == "script"]

    text, _tags = _render(tmp_path / "reports" / "fleet-provision.html", tmp_path)
    assert "Fleet report - provision" in text and f"{OFFLINE} failed" in text, text[:3000]
    assert f"station {OFFLINE} is not connected to the CSMS" in text and "bring it online" in text, text[:3000]


# -- 7. two runs never work on one station at once ---------------------------------------------------------------

def test_two_concurrent_provisions_of_one_station(lab, inventory):
    """The first run takes the lease; a second run that waits 3 s fails naming the first, before any write; a third
    that may wait long enough provisions after the first released it and finds nothing to change."""
    first = subprocess.Popen(_argv(inventory, "playbooks/provision.yml", "--limit", LEASED), env=lab_env(lab.home),
                             cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        holder = wait_for(lambda: _holder(lab, LEASED), "the first run's lease", 120)
        patient = subprocess.Popen(_argv(inventory, "playbooks/provision.yml", "--limit", LEASED,
                                         extra_vars={"evcs_lease_wait": 600}),
                                   env=lab_env(lab.home), cwd=REPO_ROOT, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        rc, output, recap = _run(lab, inventory, "playbooks/provision.yml", "--limit", LEASED,
                                 extra_vars={"evcs_lease_wait": 3})
        first_output = first.communicate(timeout=PLAYBOOK_TIMEOUT)[0]
        patient_output = patient.communicate(timeout=PLAYBOOK_TIMEOUT)[0]
    finally:
        for process in (first,):
            if process.poll() is None:
                process.kill()
    assert rc != 0 and recap[LEASED]["failed"] == 1, output[-3000:]
    assert f"station {LEASED} is being worked on by run {holder}" in output and "provision.yml" in output, output[-3000:]
    assert "evcs.provisioning.backend :" not in output and "evcs.provisioning.identity :" not in output, output[-3000:]
    assert first.returncode == 0, first_output[-3000:]
    assert patient.returncode == 0, patient_output[-3000:]
    assert parse_recap(patient_output)[LEASED]["changed"] == 0, patient_output[-3000:]
    lease = _lease(lab, LEASED)
    assert lease["released_at"] and lease["run_id"] != holder, lease
    rc, output, _recap = _run(lab, inventory, "playbooks/verify.yml", "--limit", LEASED)
    assert rc == 0, output[-3000:]


def test_the_lease_of_a_run_that_died_expires(lab, inventory):
    """A run killed while it holds the lease stops renewing it; the next run waits for the expiry and takes over."""
    dead = subprocess.Popen(_argv(inventory, "playbooks/provision.yml", "--limit", LEASED, "--tags", "identity",
                                  extra_vars={"evcs_lease_ttl": 8}),
                            env=lab_env(lab.home), cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        wait_for(lambda: _holder(lab, LEASED), "the lease of the run that dies", 120)
    finally:
        dead.send_signal(signal.SIGKILL)
        dead.wait(30)
    held = _lease(lab, LEASED)
    assert not held.get("released_at"), held
    started = time.monotonic()
    rc, output, recap = _run(lab, inventory, "playbooks/provision.yml", "--limit", LEASED, "--tags", "identity",
                             extra_vars={"evcs_lease_wait": 60})
    assert rc == 0 and recap[LEASED]["failed"] == 0, output[-3000:]
    assert time.monotonic() - started < 60
    assert _lease(lab, LEASED)["run_id"] != held["run_id"]


def test_a_run_renews_the_lease_only_when_it_runs_short(lab, inventory):
    """provision.yml renews the lease between stages only when less than half its ttl is left (issue 22: two Vault
    writes a station on every run for nothing): a run well within the ttl writes the lease twice (taken, released), a
    run whose ttl runs out between the stages renews it each time (four writes), and both release it."""
    before = _lease_version(lab, LEASED)
    rc, output, recap = _run(lab, inventory, "playbooks/provision.yml", "--limit", LEASED)
    assert rc == 0 and recap[LEASED]["failed"] == 0, output[-3000:]
    assert _lease_version(lab, LEASED) == before + 2, output[-3000:]
    assert _lease(lab, LEASED)["released_at"]
    rc, output, recap = _run(lab, inventory, "playbooks/provision.yml", "--limit", LEASED,
                             extra_vars={"evcs_lease_ttl": 2})
    assert rc == 0 and recap[LEASED]["failed"] == 0, output[-3000:]
    assert _lease_version(lab, LEASED) == before + 6, output[-3000:]
    assert _lease(lab, LEASED)["released_at"]


def _lease_version(lab, station_id, environment="lab"):
    """How many times the station's lease was written (its KV v2 version; 0 before the first)."""
    try:
        answer = _root_vault(lab).secrets.kv.v2.read_secret_metadata(
            path=f"evcs/{environment}/stations/{station_id}/lease", mount_point=lab["vault"]["kv_mount"])
    except hvac.exceptions.InvalidPath:
        return 0
    return int(answer["data"]["current_version"])


def _holder(lab, station_id):
    """The run id of the run that holds the station's lease now, else None."""
    try:
        lease = _lease(lab, station_id)
    except hvac.exceptions.InvalidPath:
        return None
    return None if lease.get("released_at") else lease.get("run_id")


# -- 5. move.yml is safe ------------------------------------------------------------------------------------------

MOVING, STAYING, RESIDENT = "MOVE-CP-0001", "MOVE-CP-0002", "MOVE-CP-0003"


def _move_inventory(directory: Path, office_cap: int) -> str:
    """Two sites of their own: the depot (MOVING, STAYING) and the office (RESIDENT) with a grid cap of ``office_cap``."""
    if directory.exists():
        shutil.rmtree(directory)
    shutil.copytree(LAB / "group_vars" / "all", directory / "group_vars" / "all")
    for group, site_id, cap in (("move_depot", "move-depot", 100), ("move_office", "move-office", office_cap)):
        source = "lab_depot.yml" if group == "move_depot" else "lab_office.yml"
        data = yaml.safe_load((LAB / "group_vars" / source).read_text())
        data["evcs_site"].update(id=site_id, name=f"Move {group[5:]}")
        data["evcs_site"]["grid_connection"]["max_current_a"] = cap
        data["evcs_site"]["tariff"]["id"] = f"{site_id}-tariff"
        data["evcs_site"].pop("station_model", None)        # these stations are the simulator's default model
        (directory / "group_vars" / f"{group}.yml").write_text(yaml.safe_dump(data))
    (directory / "host_vars").mkdir()
    for station_id in (MOVING, STAYING, RESIDENT):
        station = yaml.safe_load((LAB / "host_vars" / "LAB-CP-0001.yml").read_text())["evcs_station"]
        station.update(id=station_id, serial_number="SN-" + station_id, security_profile=1)
        station.pop("station_model", None)
        (directory / "host_vars" / f"{station_id}.yml").write_text(yaml.safe_dump({"evcs_station": station}))
    hosts = {"all": {"vars": {"ansible_connection": "local"}, "children": {
        "move_depot": {"hosts": {MOVING: None, STAYING: None}}, "move_office": {"hosts": {RESIDENT: None}}}}}
    (directory / "hosts.yml").write_text(yaml.safe_dump(hosts))
    return str(directory)


def test_move_is_validated_against_the_target_site_before_any_write_and_then_moves(lab, tmp_path_factory):
    add_stations(lab, [MOVING, STAYING, RESIDENT])
    directory = tmp_path_factory.mktemp("safe-move")
    small = _move_inventory(directory / "small", office_cap=40)
    rc, output, _recap = _run(lab, small, "playbooks/provision.yml")
    assert rc == 0, output[-3000:]
    records = {sid: lab.csms.record("stations", sid) for sid in (MOVING, STAYING, RESIDENT)}
    move = {"evcs_move_stations": MOVING, "evcs_move_to_site": "move_office"}

    lab.csms.reset_stats()
    rc, output, recap = _run(lab, small, "playbooks/move.yml", extra_vars=move)
    assert rc != 0, output[-3000:]
    assert "evcs_site.grid_connection.max_current_a = 40" in output and "move-office" in output, output[-3000:]
    assert MOVING in output and RESIDENT in output, output[-3000:]
    assert all(ocpp_writes(lab.csms.stats(), sid) == {} for sid in (MOVING, STAYING, RESIDENT)), lab.csms.stats()
    assert {sid: lab.csms.record("stations", sid) for sid in records} == records
    assert all(counts["changed"] == 0 for counts in recap.values()), output[-3000:]

    large = _move_inventory(directory / "large", office_cap=80)
    rc, output, recap = _run(lab, large, "playbooks/move.yml", extra_vars=move)
    assert rc == 0 and recap[MOVING]["failed"] == 0, output[-3000:]
    assert recap[MOVING]["changed"] > 0, output[-3000:]
    moved = lab.csms.record("stations", MOVING)
    assert moved != records[MOVING] and "move-office" in json.dumps(moved), moved
    rc, output, recap = _run(lab, large, "playbooks/move.yml", extra_vars=move)
    assert rc == 0 and all(counts["changed"] == 0 for counts in recap.values()), output[-3000:]
