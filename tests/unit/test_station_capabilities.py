"""Capability discovery and the checks of declared variables (a fake CSMS backend; no lab)."""

from __future__ import annotations

import json

import pytest

from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure, RunContext
from ansible_collections.evcs.provisioning.plugins.module_utils.station import capabilities as caps
from ansible_collections.evcs.provisioning.plugins.module_utils.station.models import load_model


def _report_item(component, variable, mutability="ReadWrite", data_type="integer", value=None, **characteristics):
    name, _, instance = component.partition("[")
    attribute = {"type": "Actual", "mutability": mutability}
    if value is not None:
        attribute["value"] = value
    item = {"component": dict({"name": name}, **({"instance": instance.rstrip("]")} if instance else {})),
            "variable": {"name": variable}, "variableAttribute": [attribute],
            "variableCharacteristics": dict({"dataType": data_type, "supportsMonitoring": False}, **characteristics)}
    return item


REPORT = [
    _report_item("OCPPCommCtrlr", "HeartbeatInterval", value="300", minLimit=1, maxLimit=86400),
    _report_item("OCPPCommCtrlr", "NetworkConfigurationPriority", data_type="SequenceList", value="1",
                 valuesList="1,2"),
    _report_item("SecurityCtrlr", "Identity", mutability="ReadOnly", data_type="string", value="CP-1"),
    _report_item("SmartChargingCtrlr", "RateUnit", mutability="ReadOnly", data_type="MemberList", value="W",
                 valuesList="W"),
    _report_item("SampledDataCtrlr", "TxUpdatedMeasurands", data_type="MemberList", value="Voltage",
                 valuesList="Voltage,Current.Import"),
    _report_item("SecurityCtrlr", "BasicAuthPassword", mutability="WriteOnly", data_type="string", minLimit=16, maxLimit=40),
]


def _var(component, variable, value, **extra):
    return dict({"component": {"name": component}, "variable": {"name": variable}, "value": value}, **extra)


def _found():
    return caps.capabilities_from_report(REPORT)


def test_report_is_reduced_to_one_entry_per_variable_with_its_limits():
    found = _found()
    assert found["variables"]["OCPPCommCtrlr.HeartbeatInterval"] == {
        "mutability": "ReadWrite", "data_type": "integer", "min_limit": 1, "max_limit": 86400}
    summary = caps.summarise(found["variables"], found["values"], load_model("generic"))
    assert summary["slots"] == [1, 2] and summary["rate_units"] == ["W"]


@pytest.mark.parametrize("item, fragment", [
    (_var("SecurityCtrlr", "Identity", "OTHER"), "SecurityCtrlr.Identity = OTHER: is ReadOnly"),
    (_var("OCPPCommCtrlr", "HeartbeatInterval", 0), "HeartbeatInterval = 0: is out of range"),
    (_var("OCPPCommCtrlr", "HeartbeatInterval", "often"), "is not a valid integer"),
    (_var("SampledDataCtrlr", "TxUpdatedMeasurands", ["Voltage", "SoC"]), "SoC not in its values list"),
    (_var("VendorCtrlr", "Turbo", True), "VendorCtrlr.Turbo = true: the station (model generic, capabilities from "
                                         "the station) has no such variable"),
])
def test_declared_variables_the_station_would_refuse_are_named_with_host_value_and_fix(item, fragment):
    problems = caps.check_variables("host-1", [item], _found()["variables"], "generic", "the station")
    assert len(problems) == 1 and problems[0].startswith("host-1: variable ") and fragment in problems[0], problems
    assert "; " in problems[0] or "fix" in problems[0]


def test_good_values_and_secrets_pass_and_a_secret_is_never_shown():
    variables = _found()["variables"]
    good = [_var("OCPPCommCtrlr", "HeartbeatInterval", 600), _var("SampledDataCtrlr", "TxUpdatedMeasurands", ["Voltage"]),
            _var("SecurityCtrlr", "BasicAuthPassword", "a-long-enough-password", write_only=True)]
    assert caps.check_variables("h", good, variables, "generic", "x") == []
    short = caps.check_variables("h", [_var("SecurityCtrlr", "BasicAuthPassword", "short-S3CRET", write_only=True)],
                                 variables, "generic", "x")
    assert len(short) == 1 and "S3CRET" not in short[0] and "********" in short[0]


class _Backend(object):
    """Answers GetBaseReport and hands out the NotifyReport parts, as a backend with station_messages does."""

    def __init__(self):
        self.calls = []

    def now(self):
        return "2026-12-07T12:00:00Z"

    def connection(self, station_id):
        return {"online": True, "ocpp_version": "2.0.1"}

    def call(self, station_id, action, payload, timeout=None):
        self.calls.append(action)
        if action == "GetVariables":
            return {"getVariableResult": []}
        self.request_id = payload["requestId"]
        assert payload["reportBase"] == "FullInventory"
        return {"status": "Accepted"}

    def wait_for_message(self, station_id, action, since, timeout, request_id=None):
        assert action == "NotifyReport" and request_id == self.request_id
        return [{"payload": {"seqNo": 1, "reportData": REPORT[3:], "tbc": False}},
                {"payload": {"seqNo": 0, "reportData": REPORT[:3], "tbc": True}}]


def _params(tmp_path, **extra):
    return dict({"station_id": "CP-1", "vendor": "ACME", "model": "Box 1", "firmware_version": "1.2",
                 "station_model": "generic", "model_dirs": [], "discover": "auto", "cache_dir": str(tmp_path),
                 "timeout": 5, "variables": [], "host": "h1", "write_model": None}, **extra)


def test_discovery_is_cached_per_vendor_model_firmware_and_reused(tmp_path, monkeypatch):
    backend = _Backend()
    monkeypatch.setattr(caps, "task_backend", lambda params, context: backend)
    first = caps.run_station_capabilities(_params(tmp_path), RunContext())
    assert "GetBaseReport" in backend.calls and first["slots"] == [1, 2] and first["known_variables"] == len(REPORT)
    cached = json.loads((tmp_path / "acme_box-1_1.2.json").read_text())
    assert "OCPPCommCtrlr.HeartbeatInterval" in cached["variables"]
    backend.calls.clear()
    second = caps.run_station_capabilities(_params(tmp_path, station_id="CP-2"), RunContext())
    assert backend.calls == [] and second["source"].startswith("cache ")


def test_a_refused_variable_fails_before_anything_is_written(tmp_path, monkeypatch):
    backend = _Backend()
    monkeypatch.setattr(caps, "task_backend", lambda params, context: backend)
    with pytest.raises(ModuleFailure) as failure:
        caps.run_station_capabilities(_params(tmp_path, variables=[
            dict(_var("SecurityCtrlr", "Identity", "X"), attribute_type="Actual", value_type="auto", write_only=False)]),
            RunContext())
    assert "nothing was changed" in str(failure.value) and "h1: variable SecurityCtrlr.Identity = X" in str(failure.value)
    assert "SetVariables" not in backend.calls


def test_the_model_table_is_used_without_discovery(tmp_path):
    result = caps.run_station_capabilities(_params(tmp_path, station_model="everest", discover="never"), RunContext())
    assert result["slots"] == [1, 2] and result["known_variables"] > 200
    with pytest.raises(ModuleFailure) as failure:
        caps.run_station_capabilities(_params(tmp_path, station_model="everest", discover="never", variables=[
            dict(_var("OCPPCommCtrlr", "MessageTimeout", 40), attribute_type="Actual", value_type="auto",
                 write_only=False)]), RunContext())
    assert "OCPPCommCtrlr.MessageTimeout = 40" in str(failure.value)


def test_gather_writes_a_model_file_that_loads(tmp_path, monkeypatch):
    backend = _Backend()
    monkeypatch.setattr(caps, "task_backend", lambda params, context: backend)
    target = tmp_path / "models" / "acme-box-1.yml"
    result = caps.run_station_capabilities(_params(tmp_path, discover="refresh", write_model=str(target)), RunContext())
    assert result["changed"] and target.exists()
    model = load_model("acme-box-1", [str(tmp_path / "models")])
    assert model["slots"] == [1, 2] and model["rate_units"] == ["W"]
    assert model["match"] == [{"vendor": "ACME", "model": "Box 1", "firmware": {"min": "1.2", "max": "1.2"}}]
    assert any(row["variable"] == "HeartbeatInterval" and row["max_limit"] == 86400 for row in model["variables"])
