"""bench/fleet.py's own options (issue 22 item 3): the callbacks of ansible.cfg, Ansible settings and re-run variants,
and the profiler callback."""

from __future__ import annotations

import configparser
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

# pylint: disable=wrong-import-position
import fleet  # noqa: E402


def test_the_bench_runs_the_callbacks_of_ansible_cfg_plus_its_timer(monkeypatch):
    """The bench had named its callbacks itself and left out vault_tokens when ansible.cfg gained it."""
    monkeypatch.delenv("EVCS_BENCH_CALLBACKS", raising=False)
    config = configparser.ConfigParser(interpolation=None)
    config.read(fleet.REPO_ROOT / "ansible.cfg")
    configured = [name.strip() for name in config.get("defaults", "callbacks_enabled").split(",")]
    assert "evcs.provisioning.vault_tokens" in configured
    assert fleet._callbacks().split(",") == configured + ["bench_tasks"]
    assert fleet._callbacks(profile=True).split(",")[-1] == "bench_profile"
    monkeypatch.setenv("EVCS_BENCH_CALLBACKS", "evcs.provisioning.audit")
    assert fleet._callbacks() == "evcs.provisioning.audit,bench_tasks"


def test_variants_and_settings_are_parsed_with_commas_inside_a_value():
    assert fleet._variant("free:ANSIBLE_STRATEGY=free") == ("free", {"ANSIBLE_STRATEGY": "free"})
    assert fleet._variant("few:ANSIBLE_CALLBACKS_ENABLED=a,b,forks=10") == (
        "few", {"ANSIBLE_CALLBACKS_ENABLED": "a,b", "forks": "10"})
    with pytest.raises(SystemExit):
        fleet._variant("ANSIBLE_STRATEGY=free")
    with pytest.raises(SystemExit):
        fleet._settings(["ANSIBLE_STRATEGY"])


def test_the_variants_table_lists_the_rerun_and_each_variant(monkeypatch):
    monkeypatch.setitem(fleet.SETTINGS, "variants", {"free": {"ANSIBLE_STRATEGY": "free"}})
    runs = {"provision": {"seconds": 9.0}, "rerun": {"seconds": 5.0, "controller_cpu_s": 8.0, "changed": 0, "rc": 0},
            "rerun_free": {"seconds": 10.0, "controller_cpu_s": 16.0, "changed": 0, "rc": 0}}
    rows = fleet.variant_rows(runs, 4)
    assert [(row["variant"], row["cpu_per_station_s"]) for row in rows] == [("as configured", 2.0), ("free", 4.0)]
    table = fleet.render_variants({"sizes": [{"row": {"stations": 4, "forks": 4}, "variants": rows}]})
    assert "| free | ANSIBLE_STRATEGY=free | 10.0 | 16.0 | 4.0 | 0 | 0 |" in table


def test_the_profiler_writes_nothing_without_its_directory(monkeypatch, tmp_path):
    sys.path.insert(0, str(BENCH / "callback_plugins"))
    import bench_profile  # pylint: disable=import-outside-toplevel
    from ansible.executor.process import worker  # pylint: disable=import-outside-toplevel
    # the profiler wraps the worker class's task in this process: put the original back after the test
    monkeypatch.setattr(worker.WorkerProcess, "_run", worker.WorkerProcess._run)
    monkeypatch.delenv("EVCS_BENCH_PROFILE_DIR", raising=False)
    callback = bench_profile.CallbackModule()
    callback.v2_playbook_on_stats(None)
    assert callback._profile is None
    monkeypatch.setenv("EVCS_BENCH_PROFILE_DIR", str(tmp_path / "profile"))
    callback = bench_profile.CallbackModule()
    callback.v2_playbook_on_stats(None)
    assert (tmp_path / "profile" / "main.prof").exists()
