"""The fleet benchmark's plain uri baseline (issue 22, item 4) and its figure (item 7): the pure helpers."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

# pylint: disable=wrong-import-position
import baseline  # noqa: E402
import inventory  # noqa: E402
import plot  # noqa: E402
import report  # noqa: E402


def _run(seconds, cpu, **extra):
    return dict(seconds=seconds, controller_cpu_s=cpu, rc=0, changed=0, **extra)


def test_declared_variables_of_a_wifi_station_as_a_station_reports_them():
    site = inventory.site_vars(0, 10)
    found = {item["label"]: item for item in baseline.declared_variables(
        inventory.station_vars(5)["evcs_station"], site)}
    assert found["OCPPCommCtrlr.HeartbeatInterval"]["value"] == "300"
    assert found["AuthCtrlr.AuthorizeRemoteStart"]["value"] == "true"
    assert found["NetworkInterface[Wireless0].Ssid"]["value"] == "bench-depot"
    assert not [label for label in found if "Passphrase" in label]  # write-only: never read back
    assert found["SampledDataCtrlr.TxUpdatedMeasurands"]["set"] is True
    assert found["ClockCtrlr.TimeSource"] == {
        "label": "ClockCtrlr.TimeSource", "value": "NTP,Heartbeat", "set": False,
        "request": {"component": {"name": "ClockCtrlr"}, "variable": {"name": "TimeSource"}}}
    assert found["Connector@1.1.ConnectorType"]["request"]["component"] == {
        "name": "Connector", "evse": {"id": 1, "connectorId": 1}}
    assert found["SecurityCtrlr.SecurityProfile"]["value"] == "1"
    assert found["SecurityCtrlr.OrganizationName"]["value"] == "EVCS Lab Operator"
    ethernet = baseline.declared_variables(inventory.station_vars(1)["evcs_station"], site)
    assert len(found) > len(ethernet) >= 10
    station16 = dict(inventory.station_vars(1)["evcs_station"], ocpp_version="1.6")
    assert baseline.declared_variables(station16, site) == []


def test_baseline_inventory_has_the_bench_hosts_and_keeps_the_token_private(tmp_path):
    inventory.write_inventory(tmp_path / "bench", 12)
    plain = baseline.write_baseline_inventory(tmp_path / "bench", tmp_path / "plain",
                                              {"api_url": "https://127.0.0.1:1", "api_token": "tok", "ca_cert": "/ca"})
    assert yaml.safe_load((plain / "hosts.yml").read_text()) == yaml.safe_load((tmp_path / "bench" / "hosts.yml").read_text())
    assert stat.S_IMODE((plain / "group_vars" / "all.yml").stat().st_mode) == 0o600
    assert yaml.safe_load((plain / "group_vars" / "all.yml").read_text())["bench_csms"]["token"] == "tok"
    stations = sorted(path.stem for path in (plain / "host_vars").iterdir())
    assert stations == [inventory.station_id(number) for number in range(1, 13)]
    assert yaml.safe_load((plain / "host_vars" / "LAB-CP-0012.yml").read_text())["bench_variables"]


def test_the_plain_playbook_uses_nothing_of_the_collection():
    plays = yaml.safe_load(baseline.PLAYBOOK.read_text())
    modules = [key for play in plays for task in play["tasks"] for key in task if "." in key]
    assert modules == ["ansible.builtin.uri"]
    assert "evcs" not in baseline.PLAYBOOK.read_text().replace("evcs.provisioning - one", "")


def test_comparison_is_the_rerun_over_the_baseline():
    found = baseline.comparison(_run(163.8, 285.0), _run(40.0, 60.0, calls_per_station=12.0), 100)
    assert (found["rerun_over_baseline"], found["rerun_over_baseline_cpu"]) == (4.1, 4.75)
    assert found["baseline_calls_per_station"] == 12.0
    assert baseline.comparison(_run(1.0, 1.0), None, 100) is None
    assert baseline.comparison(_run(1.0, 1.0), _run(0, 0), 100) is None


def test_report_prints_the_ratio_or_why_it_is_missing():
    size = {"row": {"stations": 5, "forks": 5}, "runs": {},
            "baseline": baseline.comparison(_run(10.0, 8.0), _run(4.0, 2.0, calls_per_station=12.0), 5)}
    text = report.render({"playbook": "playbooks/provision.yml", "cpus": 2, "sizes": [size], "slope": {},
                          "baseline_count": 5})
    assert "collection re-run 10.0 s, plain uri playbook 4.0 s: ratio 2.50" in text
    assert "controller CPU 8.0 s / 2.0 s: ratio 4.00" in text
    missing = report.render({"playbook": "p", "cpus": 2, "sizes": [{"row": {"stations": 10, "forks": 10}}],
                             "slope": {}, "baseline_count": 100})
    assert "not measured (N=100 is not among the sizes run)" in missing
    assert "baseline" not in report.render({"playbook": "p", "cpus": 2, "sizes": [], "slope": {}, "baseline_count": 0})


def test_figure_series_per_run_sorted_by_n_without_failed_sizes():
    sizes = [
        {"row": {"stations": 100}, "runs": {"provision": _run(195.3, 315), "rerun": _run(163.8, 285),
                                            "floor": _run(50.6, 95), "baseline": _run(40.0, 30)}},
        {"row": {"stations": 10}, "runs": {"provision": _run(20.0, 31), "rerun": _run(17.0, None),
                                           "floor": _run(5.0, 9)}},
        {"row": {"stations": 500, "error": "lab did not start"}},
        {"row": {"stations": 50}, "runs": {"provision": dict(_run(90.0, 150), rc=2)}},
    ]
    series = plot.figure_series({"sizes": sizes})
    assert series["wall"]["provision"] == [(10, 20.0), (100, 195.3)]  # not the failed run at N=50
    assert series["wall"]["plain uri playbook"] == [(100, 40.0)]
    assert series["cpu"]["re-run"] == [(100, 285)]  # the N=10 re-run has no CPU figure
    assert "verify" not in series["wall"]
    assert plot.logarithmic(series) and not plot.logarithmic(plot.figure_series({"sizes": sizes[1:2]}))


def test_no_figure_without_a_measured_run(tmp_path):
    assert "nothing measured" in plot.draw_report({"sizes": [{"row": {"stations": 2, "error": "x"}}]},
                                                  tmp_path / "f.png")
    assert not (tmp_path / "f.png").exists()
