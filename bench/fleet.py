"""Fleet benchmark (``make bench``): provisioning time, re-run time, the Ansible floor, OCPP and Vault traffic, memory.

For each N in ``--counts`` it starts a fresh lab of N simulated stations in a temporary ``EVCS_LAB_HOME``, writes an
inventory of N stations (sites of 10) and measures, on the same lab:

1. provision: ``ansible-playbook playbooks/provision.yml`` on factory-fresh stations;
2. re-run: the same playbook again (idempotent: its changed count must be 0);
3. floor: a playbook with as many ``ansible.builtin.set_fact`` tasks per host as the re-run executed, same forks;

with the CSMS-initiated OCPP calls (``/api/stats/ocpp``, reset before each run), the Vault requests (a file audit
device on the lab's OpenBao) and peak memory of the controller and the lab processes. It prints a table, writes
every figure to ``bench/results/fleet-<timestamp>.json`` and always takes its labs down, on failure and Ctrl-C too.
It is a benchmark, not a test: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import configparser
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# pylint: disable=wrong-import-position
import baseline  # noqa: E402
import plot  # noqa: E402
from inventory import REPO_ROOT, pin_lab_endpoints, pin_lab_state, write_floor_playbook, write_inventory  # noqa: E402
from inventory import FLEET_VERSIONS, MIXED_16_EVERY, write_lab_stations  # noqa: E402
from measure import (AuditLog, TreeSampler, enable_vault_audit, ocpp_counts, per_station, ratio, slope,  # noqa: E402
                     task_profile, vm_hwm_mb)
from report import render, render_verify  # noqa: E402

from evcs_lab.cli import generated_station  # noqa: E402
from evcs_lab.clients import LabState  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
VENV_BIN = REPO_ROOT / ".venv" / "bin"
DEFAULT_COUNTS = (10, 100, 500)
MAX_DEFAULT_FORKS = 50
#: the largest fleet the bench starts (the verify target of issue 22: 10,000 stations)
MAX_STATIONS = 10000
#: the largest N at which the verify benchmark also runs the per-host verify (and so provisions per host first): per
#: host costs seconds a station (bench/README.md), hours at 10,000
DEFAULT_HOST_VERIFY_MAX = 50
LAB_DOWN_TIMEOUT = 120
PLAYBOOK_STOP_TIMEOUT = 15
#: the OCPP version of a fleet's stations (``--ocpp-version``): the lab's and the inventory's
DEFAULT_OCPP_VERSION = "2.0.1"
#: options of the whole benchmark run: Ansible settings for every run (``--ansible-env``), the re-run variants
#: (``--rerun-variant``) and whether the controller is profiled (``--profile``)
SETTINGS = {"ansible_env": {}, "variants": {}, "profile": False}


def _log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


# -- the lab ------------------------------------------------------------------------------------------------------
def _lab_env(home: Path, extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env.update({"EVCS_LAB_HOME": str(home), "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
                "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"})
    env.update(extra or {})
    return env


def _evcs_lab(home: Path, *args: str, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run([str(VENV_BIN / "evcs-lab"), *args, "--home", str(home)], env=_lab_env(home), cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=timeout, check=False)


def lab_up_options(count: int, ocpp_version: str, home: Path) -> list[str]:
    """``evcs-lab up`` options of a fleet of ``count`` stations of ``ocpp_version`` (2.0.1: the lab's default; mixed: a
    station list written into the lab's ``home``)."""
    if ocpp_version == "mixed":
        return ["--stations", str(write_lab_stations(home / "bench-stations.yml", count, ocpp_version))]
    return ["--count", str(count)] + ([] if ocpp_version == DEFAULT_OCPP_VERSION else ["--ocpp-version", ocpp_version])


@contextmanager
def fresh_lab(count: int, ocpp_version: str = DEFAULT_OCPP_VERSION):
    """A lab of stations LAB-CP-0001..count (of ``ocpp_version``) in a temporary home; taken down and deleted whatever
    happens."""
    home = Path(tempfile.mkdtemp(prefix=f"evcs-bench-{count}-"))
    try:
        started = time.monotonic()
        options = lab_up_options(count, ocpp_version, home)
        up = _evcs_lab(home, "up", *options, timeout=120 + 2 * count)
        if up.returncode != 0:
            raise RuntimeError(f"evcs-lab up {' '.join(options)} failed ({up.returncode}):\n{up.stdout[-2000:]}\n"
                               f"{up.stderr[-2000:]}")
        _log(f"lab of {count} stations up in {time.monotonic() - started:.1f}s ({home})")
        yield LabState.load(home)
    finally:
        down = _evcs_lab(home, "down", timeout=LAB_DOWN_TIMEOUT)
        _log(f"lab of {count} stations down" + ("" if down.returncode == 0 else f" (rc {down.returncode})"))
        shutil.rmtree(home, ignore_errors=True)


def register_stations(lab: LabState, pool) -> int:
    """Register every station of the lab in its CSMS (an active record with the station's serial number), as an
    operator's CSMS knows its fleet before it connects: a station without a record retries BootNotification every few
    seconds (Pending), which at thousands of stations saturates the machine (issue 22). The record-activation trigger
    of the CSMS boots the connected stations. Returns how many were registered."""
    ids = list((lab.get("simulator") or {}).get("stations") or [])

    def _one(station_id: str) -> None:
        number = int(station_id.rsplit("-", 1)[1])
        lab.csms.put_record("stations", station_id,
                            {"status": "active", "serial_number": generated_station(number)["serial_number"]})
    started = time.monotonic()
    list(pool.map(_one, ids))
    _log(f"{len(ids)} stations registered in the CSMS in {time.monotonic() - started:.1f}s")
    return len(ids)


def _lab_memory(lab: LabState) -> dict:
    processes = lab.get("processes") or {}
    return {name: vm_hwm_mb(pid) for name, pid in processes.items()}


# -- one ansible-playbook run ------------------------------------------------------------------------------------
def _progress_line(line: str, tasks: bool) -> str | None:
    """The lines worth echoing while a run goes: plays, tasks (when ``tasks``), handlers and a failure's first line."""
    if line.startswith(("PLAY [", "RUNNING HANDLER [")) or (tasks and line.startswith("TASK [")):
        return line.rstrip(" *\n")
    if line.startswith(("fatal:", "ERROR!", "[ERROR]")):
        return "  " + line.rstrip()[:200]
    return None


def _stop(process: subprocess.Popen) -> None:
    """End an interrupted ansible-playbook and its workers: the process group it leads (started in its own session)."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, signum)
            process.wait(timeout=PLAYBOOK_STOP_TIMEOUT)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def configured_callbacks() -> str:
    """``callbacks_enabled`` of the repository's ansible.cfg, read from it (so the benchmark runs what a user of the
    collection runs: the audit trail, the preload and the run's one Vault login, ``vault_tokens``)."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(REPO_ROOT / "ansible.cfg")
    return config.get("defaults", "callbacks_enabled", fallback="")


def _callbacks(profile: bool = False) -> str:
    """The callbacks of the repository's ansible.cfg (the environment variable replaces that list) plus the bench's
    own task timer (and its profiler with ``profile``); EVCS_BENCH_CALLBACKS replaces the first part (e.g. to measure
    without the preload)."""
    configured = os.environ.get("EVCS_BENCH_CALLBACKS", configured_callbacks())
    bench = ["bench_tasks"] + (["bench_profile"] if profile else [])
    return ",".join([name.strip() for name in configured.split(",") if name.strip()] + bench)


def run_playbook(lab: LabState, inventory: Path, playbook: Path, forks: int, log_file: Path, label: str,
                 show_tasks: bool = True, extra_env: dict | None = None, extra_vars: dict | None = None) -> dict:
    """Run one playbook; its wall time, exit status, task profile and controller peak memory (``extra_env`` replaces
    the Ansible settings it names)."""
    tasks_file = log_file.with_suffix(".tasks.json")
    profile = {"EVCS_BENCH_PROFILE_DIR": str(log_file.with_suffix(".profile"))} if SETTINGS["profile"] else {}
    env = _lab_env(lab.home, {"ANSIBLE_CALLBACK_PLUGINS": str(BENCH_DIR / "callback_plugins"),
                              "ANSIBLE_CALLBACKS_ENABLED": _callbacks(bool(profile)),
                              "EVCS_BENCH_TASKS_FILE": str(tasks_file),
                              "EVCS_AUDIT_FILE": str(log_file.with_suffix(".audit.jsonl")), **profile,
                              **SETTINGS["ansible_env"], **(extra_env or {})})
    argv = [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), "-f", str(forks), str(playbook)]
    if extra_vars:
        argv += ["-e", json.dumps(extra_vars)]
    started = time.monotonic()
    with log_file.open("w", encoding="utf-8") as log, subprocess.Popen(
            argv, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True) as process:
        sampler = TreeSampler(process.pid)
        sampler.start()
        try:
            for line in process.stdout:
                log.write(line)
                shown = _progress_line(line, show_tasks)
                if shown:
                    _log(f"  {label} +{time.monotonic() - started:5.0f}s {shown}")
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
        except BaseException:
            _stop(process)
            raise
        finally:
            tree_peak_mb = sampler.stop()
    seconds = round(time.monotonic() - started, 2)
    callback = json.loads(tasks_file.read_text()) if tasks_file.exists() else {}
    stations = [host for host in callback.get("hosts", {}) if host != "localhost"]
    result = {"seconds": seconds, "rc": process.returncode, "log": str(log_file),
              "controller_peak_process_mb": round(usage.ru_maxrss / 1024, 1), "controller_peak_tree_mb": tree_peak_mb,
              # CPU of ansible-playbook and every worker it forked and waited for: what the controller itself costs,
              # less disturbed than wall time by the lab sharing the cores
              "controller_cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
              **task_profile(callback, stations)}
    _log(f"{label}: {seconds:.1f}s (controller CPU {result['controller_cpu_s']:.1f}s) rc={result['rc']} "
         f"tasks/station={result['tasks_per_station']} "
         f"changed={result['changed']} failed={result['failed']}")
    return result


def measured_run(lab: LabState, audit: AuditLog, inventory: Path, playbook: Path, forks: int, log_file: Path,
                 label: str, show_tasks: bool = True, extra_env: dict | None = None,
                 extra_vars: dict | None = None) -> dict:
    """``run_playbook`` with the OCPP calls and Vault requests it caused."""
    lab.csms.reset_stats()
    audit.mark()
    result = run_playbook(lab, inventory, playbook, forks, log_file, label, show_tasks, extra_env, extra_vars)
    result["ocpp"] = ocpp_counts(lab.csms.stats())
    result["vault"] = audit.counts_since_mark()
    return result


# -- one fleet size ------------------------------------------------------------------------------------------------
def _flatten(count: int, forks: int, runs: dict, lab_memory: dict) -> dict:
    """The figures of the table for one N (the runs stay in the JSON in full)."""
    provision, rerun, floor = runs["provision"], runs["rerun"], runs["floor"]
    lab_processes = [lab_memory.get(name) for name in ("csms", "simulator")]
    row = {
        "stations": count, "forks": forks,
        "provision_s": provision["seconds"], "rerun_s": rerun["seconds"], "floor_s": floor["seconds"],
        "rerun_over_floor": ratio(rerun["seconds"], floor["seconds"]),
        "rerun_changed": rerun["changed"],
        "provision_cpu_s": provision.get("controller_cpu_s"), "rerun_cpu_s": rerun.get("controller_cpu_s"),
        "floor_cpu_s": floor.get("controller_cpu_s"),
        "all_ok": all(run["rc"] == 0 for run in runs.values()) and rerun["changed"] == 0,
        "controller_peak_mb": max(run["controller_peak_process_mb"] for run in runs.values()),
        "controller_peak_tree_mb": max(run["controller_peak_tree_mb"] for run in runs.values()),
        "lab_peak_mb": round(sum(mb for mb in lab_processes if mb is not None), 1),
        "lab_peak_mb_by_process": lab_memory,
    }
    for name in ("provision", "rerun"):
        run = runs[name]
        row[f"{name}_ocpp_reads_per_station"] = per_station(run["ocpp"]["reads"], count)
        row[f"{name}_ocpp_writes_per_station"] = per_station(run["ocpp"]["writes"], count)
        row[f"{name}_vault_requests_per_station"] = per_station(run["vault"]["requests"], count)
        row[f"{name}_vault_writes_per_station"] = per_station(run["vault"]["writes"], count)
    return row


def baseline_run(lab: LabState, audit: AuditLog, inventory: Path, forks: int, work: Path, count: int) -> dict:
    """The plain ``ansible.builtin.uri`` playbook (bench/plain_uri_rerun.yml) on the provisioned stations, without the
    collection's callbacks: the re-run as a user writes it without the collection (bench/baseline.py)."""
    plain = baseline.write_baseline_inventory(inventory, work / f"inventory-{count}-plain-uri", lab["csms"])
    result = measured_run(lab, audit, plain, baseline.PLAYBOOK, forks, work / f"{count}-baseline.log",
                          f"N={count} plain uri baseline", show_tasks=False, extra_env=baseline.PLAIN_ANSIBLE)
    result["calls_per_station"] = per_station(result["ocpp"]["reads"], count)
    return result


def bench_size(count: int, forks: int, playbook: Path, work: Path, baseline_count: int = 0,
               ocpp_version: str = DEFAULT_OCPP_VERSION, host_verify_max: int = DEFAULT_HOST_VERIFY_MAX) -> dict:
    """Measure the three runs on a fresh lab of ``count`` stations of ``ocpp_version`` (and the plain baseline at
    ``baseline_count``)."""
    inventory = write_inventory(work / f"inventory-{count}", count, ocpp_version=ocpp_version)
    _log(f"N={count}: inventory of {count} OCPP {ocpp_version} stations in {inventory}; starting the lab")
    with fresh_lab(count, ocpp_version) as lab:
        pin_lab_state(inventory, lab.home / "state.json")
        audit_file = lab.home / "vault" / "bench-audit.log"
        enable_vault_audit(lab.home / "vault" / "config.hcl", lab["processes"]["vault"], audit_file)
        audit = AuditLog(audit_file)
        # the verify benchmark's fleets are large (up to 10,000): registering waits on each station's boot
        with ThreadPoolExecutor(max_workers=64 if playbook.name == VERIFY.name else 8) as pool:
            register_stations(lab, pool)
        if playbook.name == VERIFY.name:
            # a production inventory holds its CSMS and Vault endpoints as values, not templates of the lab's state
            pin_lab_endpoints(inventory, lab.home / "state.json")
            return bench_verify(lab, audit, count, forks, inventory, work, host_verify_max)
        runs = {}
        for name in ("provision", "rerun"):
            runs[name] = measured_run(lab, audit, inventory, playbook, forks, work / f"{count}-{name}.log",
                                      f"N={count} {name}")
        rerun = runs["rerun"]
        if rerun["changed"]:
            _log(f"N={count}: WARNING the re-run changed {rerun['changed']} task result(s): not idempotent "
                 f"(see {rerun['log']})")
        floor_playbook = write_floor_playbook(work / f"floor-{count}.yml", rerun["tasks_per_station"],
                                              rerun["tasks_on_localhost"])
        runs["floor"] = measured_run(lab, audit, inventory, floor_playbook, forks, work / f"{count}-floor.log",
                                     f"N={count} floor", show_tasks=False)
        if count == baseline_count:
            runs["baseline"] = baseline_run(lab, audit, inventory, forks, work, count)
        for variant, settings in SETTINGS["variants"].items():
            # "forks" is ansible-playbook's -f, everything else an environment variable
            settings = dict(settings)
            variant_forks = int(settings.pop("forks", forks))
            runs[f"rerun_{variant}"] = measured_run(lab, audit, inventory, playbook, variant_forks,
                                                    work / f"{count}-rerun-{variant}.log",
                                                    f"N={count} re-run [{variant}]", show_tasks=False,
                                                    extra_env=settings)
        lab_memory = _lab_memory(lab)
    return {"row": _flatten(count, forks, runs, lab_memory), "runs": runs,
            "baseline": baseline.comparison(runs["rerun"], runs.get("baseline"), count),
            "variants": variant_rows(runs, count)}


def variant_rows(runs: dict, count: int) -> list[dict]:
    """The re-run and each ``--rerun-variant`` of it side by side: wall time, controller CPU, changed, rc."""
    rows = []
    for name, run in runs.items():
        if name == "rerun" or name.startswith("rerun_"):
            rows.append({"variant": "as configured" if name == "rerun" else name[len("rerun_"):],
                         "settings": SETTINGS["variants"].get(name[len("rerun_"):], {}), "seconds": run["seconds"],
                         "controller_cpu_s": run.get("controller_cpu_s"), "changed": run["changed"], "rc": run["rc"],
                         "cpu_per_station_s": per_station(run.get("controller_cpu_s") or 0, count)})
    return rows


def render_variants(report: dict) -> str:
    """The re-run variants' table (Markdown), or nothing when none was measured."""
    lines = []
    for size in report["sizes"]:
        rows = size.get("variants") or []
        if len(rows) < 2:
            continue
        lines += [f"\nre-run variants, N={size['row']['stations']} (forks {size['row']['forks']}):",
                  "| variant | settings | re-run s | ctrl CPU s | CPU s per station | changed | rc |",
                  "|---|---|---:|---:|---:|---:|---:|"]
        for row in rows:
            settings = " ".join(f"{key}={value}" for key, value in row["settings"].items()) or "-"
            lines.append(f"| {row['variant']} | {settings} | {row['seconds']} | {row['controller_cpu_s']} | "
                         f"{row['cpu_per_station_s']} | {row['changed']} | {row['rc']} |")
    return "\n".join(lines)


VERIFY = REPO_ROOT / "playbooks" / "verify.yml"
PROVISION = REPO_ROOT / "playbooks" / "provision.yml"
VERIFY_MODES = ("host", "fleet")
#: stations seeded at once (bench/seed.py): a seeded station waits on its own Reset and reconnect (the password), so the
#: seed is bound by waiting, not by the controller's CPU
SEED_WORKERS = 256
#: seconds the idle lab's CPU is sampled before the verify of a large fleet (the lab must stay cheap when idle)
LAB_IDLE_SAMPLE_S = 20


def _load() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def bench_verify(lab: LabState, audit: AuditLog, count: int, forks: int, inventory: Path, work: Path,
                 host_verify_max: int = DEFAULT_HOST_VERIFY_MAX) -> dict:
    """verify.yml on ``count`` stations in a known state, then verified in fleet mode (and per host up to
    ``host_verify_max`` stations: the same stations, the same forks). The known state: up to ``host_verify_max``
    stations provisioned per host (provision.yml, timed but not the figure); above, seeded through the collection's
    own stage calls in apply mode from a thread pool (bench/seed.py: what the fleet verify checks). Every verify run
    must find no drift (rc 0), or the row says so."""
    import seed  # pylint: disable=import-outside-toplevel
    from lab_idle import sample  # pylint: disable=import-outside-toplevel

    modes = VERIFY_MODES if count <= host_verify_max else ("fleet",)
    runs = {}
    if "host" in modes:
        runs["provision"] = measured_run(lab, audit, inventory, PROVISION, forks, work / f"{count}-provision.log",
                                         f"N={count} provision (known state)", show_tasks=False)
    else:
        _log(f"N={count}: seeding the known state through the stage calls (bench/seed.py); per-host verify skipped "
             f"above N={host_verify_max}")
        runs["seed"] = seed.seed(inventory, workers=SEED_WORKERS, log=_log)
        runs["seed"]["rc"] = 1 if runs["seed"]["failed"] else 0
        runs["seed"]["failed"] = dict(list(runs["seed"]["failed"].items())[:20])
    processes = dict((name, pid) for name, pid in (lab.get("processes") or {}).items() if pid)
    lab_idle = sample(processes, LAB_IDLE_SAMPLE_S)
    _log(f"N={count}: idle lab CPU {sum(lab_idle.values()):.1f}% of one core ({lab_idle})")
    for mode in modes:
        load = _load()
        runs[f"verify_{mode}"] = measured_run(lab, audit, inventory, VERIFY, forks, work / f"{count}-verify-{mode}.log",
                                              f"N={count} verify ({mode})", show_tasks=False,
                                              extra_vars={"evcs_verify_mode": mode})
        runs[f"verify_{mode}"]["load_start_end"] = [load, _load()]
    row = verify_row(count, forks, runs, _lab_memory(lab), modes)
    row["lab_idle_cpu_percent"] = round(sum(lab_idle.values()), 1)
    return {"row": row, "runs": runs, "lab_idle_cpu_percent": lab_idle}


def verify_row(count: int, forks: int, runs: dict, lab_memory: dict, modes=VERIFY_MODES) -> dict:
    """The figures of the verify table for one N."""
    known = runs.get("provision") or runs.get("seed")
    row = {"stations": count, "forks": forks, "known_state": "provision" if "provision" in runs else "seed",
           "known_state_s": known["seconds"], "provision_ok": known["rc"] == 0,
           "all_ok": all(runs[f"verify_{mode}"]["rc"] == 0 for mode in modes) and known["rc"] == 0,
           "controller_peak_mb": max(runs[f"verify_{mode}"]["controller_peak_process_mb"] for mode in modes),
           "lab_peak_mb": round(sum(mb for name, mb in lab_memory.items() if name in ("csms", "simulator") and mb), 1)}
    for mode in modes:
        run = runs[f"verify_{mode}"]
        row.update({f"verify_{mode}_s": run["seconds"], f"verify_{mode}_cpu_s": run.get("controller_cpu_s"),
                    f"verify_{mode}_rc": run["rc"], f"verify_{mode}_peak_mb": run["controller_peak_process_mb"],
                    f"verify_{mode}_peak_tree_mb": run.get("controller_peak_tree_mb"),
                    f"verify_{mode}_load": run.get("load_start_end"),
                    f"verify_{mode}_ocpp_reads_per_station": per_station(run["ocpp"]["reads"], count),
                    f"verify_{mode}_ocpp_writes_per_station": per_station(run["ocpp"]["writes"], count)})
    row["host_over_fleet"] = ratio(row.get("verify_host_s"), row["verify_fleet_s"])
    row["host_over_fleet_cpu"] = ratio(row.get("verify_host_cpu_s"), row["verify_fleet_cpu_s"])
    return row


# -- command line --------------------------------------------------------------------------------------------------
def _counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated station counts, got {text!r}") from exc
    if not counts or any(count < 1 or count > MAX_STATIONS for count in counts):
        raise argparse.ArgumentTypeError(f"station counts must be between 1 and {MAX_STATIONS}")
    return counts


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench/fleet.py", description=__doc__.split("\n\n", 1)[0])
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument("--counts", type=_counts, default=list(DEFAULT_COUNTS),
                       help="comma-separated fleet sizes (default 10,100,500)")
    sizes.add_argument("--count", type=int, help="one fleet size")
    parser.add_argument("--forks", type=int, default=0, help=f"ansible forks (default min(N, {MAX_DEFAULT_FORKS}))")
    parser.add_argument("--playbook", default="playbooks/provision.yml",
                        help="playbook measured for provision and re-run (default playbooks/provision.yml)")
    parser.add_argument("--results", default=str(RESULTS_DIR), help="where the JSON and the run logs go")
    parser.add_argument("--baseline-count", type=int, default=baseline.DEFAULT_COUNT,
                        help="the N at which the plain ansible.builtin.uri playbook is measured against the re-run "
                             f"(default {baseline.DEFAULT_COUNT}; 0: not at all; a 2.0.1 fleet only)")
    parser.add_argument("--host-verify-max", type=int, default=DEFAULT_HOST_VERIFY_MAX,
                        help="with verify.yml: the largest N also verified per host (provisioned per host first); "
                             "larger fleets are seeded through the stage calls (bench/seed.py) and verified in fleet "
                             "mode only (default %(default)s)")
    parser.add_argument("--no-figure", action="store_true", help="do not draw the PNG figure beside the JSON")
    parser.add_argument("--ansible-env", action="append", default=[], metavar="NAME=VALUE",
                        help="an Ansible setting (environment variable) for every run, e.g. ANSIBLE_STRATEGY=free "
                             "(repeatable)")
    parser.add_argument("--rerun-variant", action="append", default=[], metavar="LABEL:NAME=VALUE[,NAME=VALUE]",
                        help="after the floor, run the re-run again with these settings and print it beside the "
                             "re-run, e.g. free:ANSIBLE_STRATEGY=free or f10:forks=10 (forks: ansible-playbook -f; "
                             "repeatable)")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the controller (main process and every worker) into <run log>.profile/; "
                             "read with bench/profile_report.py")
    parser.add_argument("--ocpp-version", choices=FLEET_VERSIONS, default=DEFAULT_OCPP_VERSION,
                        help="the OCPP version of the fleet's stations (1.6: OCPP 1.6J charge points of the lab's v16 "
                             f"model, declared ocpp_version 1.6; mixed: every {MIXED_16_EVERY}th station 1.6, the rest "
                             "2.0.1; default 2.0.1)")
    return parser


def _settings(pairs: list[str]) -> dict:
    settings = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator or not name.strip():
            raise SystemExit(f"bench/fleet.py: expected NAME=VALUE, got {pair!r}")
        settings[name.strip()] = value
    return settings


def _variant(text: str) -> tuple[str, dict]:
    label, separator, pairs = text.partition(":")
    if not separator or not label.strip():
        raise SystemExit(f"bench/fleet.py: expected LABEL:NAME=VALUE[,NAME=VALUE], got {text!r}")
    # a value may hold commas (a callback list): a comma starts a new pair only before NAME=
    return label.strip(), _settings(re.split(r",(?=[A-Za-z_][A-Za-z0-9_]*=)", pairs))


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    SETTINGS.update(ansible_env=_settings(args.ansible_env), profile=args.profile,
                    variants=dict(_variant(text) for text in args.rerun_variant))
    counts = [args.count] if args.count else args.counts
    # the plain uri baseline reads 2.0.1 device-model variables (GetVariables): a 2.0.1 fleet's only
    baseline_count = args.baseline_count if args.ocpp_version == DEFAULT_OCPP_VERSION else 0
    playbook = (REPO_ROOT / args.playbook).resolve()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    results_dir = Path(args.results)
    work = results_dir / f"fleet-{stamp}"
    work.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, _raise_interrupt)  # also when started in the background, where SIGINT is ignored
    report = {"started_at": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
              "playbook": str(playbook.relative_to(REPO_ROOT)), "cpus": os.cpu_count(), "sizes": [],
              "baseline_count": baseline_count, "ocpp_version": args.ocpp_version, "load_start": _load(),
              "ansible_env": SETTINGS["ansible_env"], "callbacks": _callbacks(args.profile)}
    status = 0
    try:
        for count in counts:
            forks = args.forks or min(count, MAX_DEFAULT_FORKS)
            try:
                report["sizes"].append(bench_size(count, forks, playbook, work, baseline_count,
                                                  ocpp_version=args.ocpp_version,
                                                  host_verify_max=args.host_verify_max))
            except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
                _log(f"N={count}: FAILED: {exc}")
                report["sizes"].append({"row": {"stations": count, "forks": forks, "error": str(exc)}})
                status = 1
    except KeyboardInterrupt:
        _log("interrupted: labs taken down; partial results follow")
        status = 130
    rows = [size["row"] for size in report["sizes"]]
    verify = playbook.name == VERIFY.name
    keys = ("verify_host_s", "verify_fleet_s", "verify_host_cpu_s", "verify_fleet_cpu_s") if verify else (
        "provision_s", "rerun_s", "floor_s")
    report["slope"] = {key: slope(rows, key) for key in keys}
    report["load_end"] = _load()
    report["finished_at"] = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
    output = results_dir / f"fleet-{stamp}.json"
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(render_verify(report) if verify else render(report))
    print(render_variants(report))
    print(f"\nall figures: {output}\nrun logs: {work}")
    if not args.no_figure and not verify:
        print(plot.draw_report(report, output.with_suffix(".png")))
    if status == 0 and not all(row.get("all_ok") for row in rows):
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
