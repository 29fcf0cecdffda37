"""playbooks/gather.yml for an OCPP 1.6J station: the starting 1.6 model file station_capabilities writes from
GetConfiguration (a fake CSMS backend; the lab run is tests/integration/test_gather.py)."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure, RunContext
from ansible_collections.evcs.provisioning.plugins.module_utils.desired.ocpp_settings import OCPP_SETTINGS
from ansible_collections.evcs.provisioning.plugins.module_utils.station import capabilities as caps
from ansible_collections.evcs.provisioning.plugins.module_utils.station import capabilities16
from ansible_collections.evcs.provisioning.plugins.module_utils.station import configuration_keys
from ansible_collections.evcs.provisioning.plugins.module_utils.station.models import load_model, normalise_model

SECRET_KEY = "00112233445566778899AABBCCDDEEFF00112233"
#: what a 1.6 station with the Security Extension lists for GetConfiguration with no key: a vendor URL key, and (not
#: compliant, but real stations do it) its AuthorizationKey with the value
KEYS = [
    {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
    {"key": "GetConfigurationMaxKeys", "readonly": True, "value": "3"},
    {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
    {"key": "MeterValuesSampledData", "readonly": False, "value": "Energy.Active.Import.Register"},
    {"key": "ChargingScheduleAllowedChargingRateUnit", "readonly": True, "value": "Current,Power"},
    {"key": "SupportedFeatureProfiles", "readonly": True, "value": "Core,SmartCharging"},
    {"key": "SecurityProfile", "readonly": False, "value": "1"},
    {"key": "CpoName", "readonly": False},
    {"key": "AuthorizationKey", "readonly": False, "value": SECRET_KEY},
    {"key": "AcmeBackendUrl", "readonly": False, "value": "ws://csms.example:9000/ocpp"},
    {"key": "AcmeLedBrightness", "readonly": False, "value": "80"},
    {"key": "AcmeEcoMode", "readonly": False, "value": "TRUE"},
    {"key": "AcmeGreeting", "readonly": True, "value": "Hello"},
]
BOOT = {"status": "Accepted", "charge_point": {"chargePointVendor": "ACME", "chargePointModel": "Box 16",
                                                "chargePointSerialNumber": "SN-1", "firmwareVersion": "4.2.0"}}


class _Station16(object):
    """A 1.6 charge point behind the CSMS: GetConfiguration answers from ``keys``; with no key it lists ``listed``."""

    def __init__(self, keys=None, listed=None, version="1.6", boot=None):
        self.keys = dict((item["key"], item) for item in (keys or KEYS))
        self.listed = listed if listed is not None else list(self.keys)
        self.version, self.boot = version, boot or BOOT
        self.calls = []

    def connection(self, station_id):
        self.calls.append(("connection", {}))
        return {"online": True, "ocpp_version": self.version, "boot": self.boot,
                "connectors": [{"evse_id": 0, "connector_id": number, "status": "Available"} for number in (0, 1, 2)]}

    def call(self, station_id, action, payload, timeout=None):
        self.calls.append((action, payload))
        assert action == "GetConfiguration", action  # the only OCPP call: gather changes nothing
        names = payload.get("key")
        if not names:
            return {"configurationKey": [self.keys[name] for name in self.listed]}
        return {"configurationKey": [self.keys[name] for name in names if name in self.keys],
                "unknownKey": [name for name in names if name not in self.keys]}


def _params(tmp_path, **extra):
    return dict({"station_id": "CP-16", "vendor": "ACME", "model": "Box 16", "firmware_version": "4.2.0",
                 "station_model": "generic", "model_dirs": [], "discover": "refresh", "cache_dir": str(tmp_path / "c"),
                 "timeout": 5, "variables": [], "host": "h16", "write_model": str(tmp_path / "m" / "acme-box-16.yml"),
                 "ocpp_version": None}, **extra)


def _run(tmp_path, monkeypatch, station=None, context=None, **extra):
    station = station or _Station16()
    monkeypatch.setattr(caps, "task_backend", lambda params, context: station)
    result = caps.run_station_capabilities(_params(tmp_path, **extra), context or RunContext())
    return result, station


def _keys_of(text):
    return dict((entry["key"], entry) for entry in yaml.safe_load(text)["configuration_keys"]["keys"])


def test_a_16_station_gets_a_16_model_file_that_the_loader_reads(tmp_path, monkeypatch):
    result, station = _run(tmp_path, monkeypatch)
    # the CSMS connection read once (the version it negotiated, the BootNotification), then one GetConfiguration with
    # no key list, then the standard keys it did not list, by name (AuthorizationKey never)
    assert station.calls[:2] == [("connection", {}), ("GetConfiguration", {})]
    assert [action for action, _ in station.calls].count("connection") == 1
    assert all("AuthorizationKey" not in payload.get("key", []) for _, payload in station.calls)
    assert result["ocpp_version"] == "1.6" and result["changed"] and result["connectors"] == 2
    assert result["rate_units"] == ["A", "W"] and "GetBaseReport" not in [action for action, _ in station.calls]
    model = load_model("acme-box-16", [str(tmp_path / "m")])
    assert model["ocpp_version"] == "1.6" and model["rate_units"] == ["A", "W"]
    assert model["match"] == [{"vendor": "ACME", "model": "Box 16", "firmware": {"min": "4.2.0", "max": "4.2.0"}}]
    keys = model["configuration_keys"]["keys"]
    reported = set(item["key"] for item in KEYS)
    assert set(keys) == reported
    assert {key for key, spec in keys.items() if spec["readonly"]} == {
        item["key"] for item in KEYS if item["readonly"]}
    assert keys["HeartbeatInterval"]["type"] == "integer" and keys["MeterValuesSampledData"]["type"] == "set"
    assert keys["AcmeLedBrightness"]["type"] == "integer" and keys["AcmeEcoMode"]["type"] == "boolean"
    assert keys["AcmeGreeting"]["type"] == "string" and keys["AuthorizationKey"]["write_only"]
    # the Central System URL key is left for the operator (1.6 standardizes none); the candidate is named
    assert model["configuration_keys"]["central_system_url"] is None


def test_no_value_reaches_the_file_and_the_authorization_key_is_masked(tmp_path, monkeypatch):
    context = RunContext()
    result, _ = _run(tmp_path, monkeypatch, context=context)
    text = (tmp_path / "m" / "acme-box-16.yml").read_text()
    assert SECRET_KEY not in text and SECRET_KEY not in str(result)
    assert SECRET_KEY in context.no_log_values
    for item in KEYS:
        if item.get("value") and not item["value"].isdigit():
            assert item["value"] not in text.replace("evcs_station", ""), item


def test_managed_keys_are_marked_from_the_settings_table(tmp_path, monkeypatch):
    _run(tmp_path, monkeypatch)
    lines = (tmp_path / "m" / "acme-box-16.yml").read_text().splitlines()

    def line(key):
        return next(text for text in lines if text.strip().startswith("- {key: %s," % key))

    assert line("HeartbeatInterval").endswith("# managed: evcs_station.ocpp.heartbeat_interval")
    assert line("MeterValuesSampledData").endswith("# managed: evcs_station.ocpp.sampled_measurands")
    assert "security stage" in line("SecurityProfile") and "never read" in line("AuthorizationKey")
    assert "#" not in line("AcmeLedBrightness") and "#" not in line("NumberOfConnectors")
    # every setting of the table whose 1.6 key the station lacks is named, for the operator to map
    missing = [setting.key for setting in OCPP_SETTINGS if setting.key16 and setting.key16 not in
               set(item["key"] for item in KEYS)]
    comments = " ".join(text.strip(" #") for text in lines if text.startswith("  #"))
    lacking = comments[comments.index("lacks the standard key of"):]
    assert missing and all(name in lacking for name in missing)
    assert "ws:// or wss:// URL on this station: AcmeBackendUrl" in comments
    assert all(len(text) <= 120 for text in lines if not text.startswith("    - {key:"))


def test_keys_left_out_of_the_full_answer_are_asked_by_name_split_at_max_keys(tmp_path, monkeypatch):
    listed = ["GetConfigurationMaxKeys", "NumberOfConnectors", "AcmeGreeting"]
    result, station = _run(tmp_path, monkeypatch, station=_Station16(listed=listed))
    named = [payload["key"] for action, payload in station.calls if action == "GetConfiguration" and payload]
    assert named and all(len(batch) <= 3 for batch in named)
    asked = [key for batch in named for key in batch]
    assert "HeartbeatInterval" in asked and "AuthorizationKey" not in asked and "GetConfigurationMaxKeys" not in asked
    keys = _keys_of((tmp_path / "m" / "acme-box-16.yml").read_text())
    # the standard keys it knows are in the file; its vendor keys only when listed (they cannot be guessed)
    assert {"HeartbeatInterval", "SecurityProfile", "ChargingScheduleAllowedChargingRateUnit"} <= set(keys)
    assert "AcmeLedBrightness" not in keys and "AcmeGreeting" in keys
    assert "LocalAuthListEnabled" in result["unknown_keys"] and "LocalAuthListEnabled" not in keys
    assert result["requests"]["GetConfiguration"] == 1 + len(named)


def test_a_second_run_writes_nothing_and_check_mode_writes_nothing(tmp_path, monkeypatch):
    first, _ = _run(tmp_path, monkeypatch)
    second, _ = _run(tmp_path, monkeypatch)
    # another station of the same vendor/model gives the same file (no station id in it)
    other, _ = _run(tmp_path, monkeypatch, station_id="CP-17", host="h17")
    assert first["changed"] and not second["changed"] and not other["changed"]
    assert "CP-16" not in (tmp_path / "m" / "acme-box-16.yml").read_text()
    target = tmp_path / "other.yml"
    planned, _ = _run(tmp_path, monkeypatch, context=RunContext(check_mode=True), write_model=str(target))
    assert planned["changed"] and not target.exists()


def test_a_station_without_smart_charging_or_security_extension(tmp_path, monkeypatch):
    keys = [item for item in KEYS if item["key"] not in ("ChargingScheduleAllowedChargingRateUnit", "NumberOfConnectors",
                                                          "SecurityProfile", "CpoName", "AuthorizationKey")]
    result, _ = _run(tmp_path, monkeypatch, station=_Station16(keys=keys))
    text = (tmp_path / "m" / "acme-box-16.yml").read_text()
    model = normalise_model(yaml.safe_load(text))
    assert "rate_units" not in yaml.safe_load(text) and "no Smart Charging" in text
    assert "AuthorizationKey" not in model["configuration_keys"]["keys"]
    # the connectors the CSMS saw a StatusNotification of (connector 0 is the charge point itself)
    assert result["connectors"] == 2


def test_what_the_station_reports_cannot_break_the_file(tmp_path, monkeypatch):
    boot = {"charge_point": {"chargePointVendor": "ACME\nname: injected", "chargePointModel": "Box 16"}}
    _run(tmp_path, monkeypatch, station=_Station16(boot=boot))
    data = yaml.safe_load((tmp_path / "m" / "acme-box-16.yml").read_text())
    assert data["name"] == "acme-box-16" and data["match"][0]["vendor"] == "ACME\nname: injected"


def test_the_connections_version_decides_and_a_contradiction_fails(tmp_path, monkeypatch):
    with pytest.raises(ModuleFailure) as failure:
        _run(tmp_path, monkeypatch, station=_Station16(version="2.0.1"), ocpp_version="1.6")
    assert "evcs_station.ocpp_version is '1.6'" in str(failure.value)
    with pytest.raises(ModuleFailure) as failure:
        _run(tmp_path, monkeypatch, variables=[{"component": {"name": "OCPPCommCtrlr"},
                                                "variable": {"name": "HeartbeatInterval"}, "value": 300}])
    assert "no device-model variables" in str(failure.value)
    with pytest.raises(ModuleFailure) as failure:
        _run(tmp_path, monkeypatch, discover="never", ocpp_version="1.6")
    assert "discover" in str(failure.value)


def test_the_16_model_written_is_the_configuration_keys_model_the_ocpp_role_uses(tmp_path, monkeypatch):
    _run(tmp_path, monkeypatch)
    model = load_model("acme-box-16", [str(tmp_path / "m")])
    # a declared setting whose key the station has is accepted; a read-only key and an unknown key are refused
    assert configuration_keys.unmapped_settings({"heartbeat_interval": 60}, model) == []
    assert configuration_keys.key_problems([{"key": "AcmeLedBrightness", "value": 50}], model) == []
    problems = configuration_keys.key_problems([{"key": "AcmeGreeting", "value": "x"},
                                                {"key": "AcmeTurbo", "value": True}], model)
    assert "read-only" in problems[0] and "not a key of station model acme-box-16" in problems[1]


def test_rendering_alone(tmp_path):
    found = {"HeartbeatInterval": {"value": "60", "readonly": False},
             "CentralSystemURL": {"value": "wss://csms/ocpp", "readonly": False}}
    text = capabilities16.starting_model16("x-y", {"vendor": "X", "model": "Y"}, found, load_model("evcs-sim-16"))
    model = normalise_model(yaml.safe_load(text))
    # types and reboot_required from the reference model (the inventory's 1.6 model)
    assert model["configuration_keys"]["keys"]["CentralSystemURL"] == {
        "type": "string", "readonly": False, "write_only": False, "reboot_required": True}
    assert "firmware" not in model["match"][0] and "CentralSystemURL" in text.split("central_system_url: null")[0]


class _Tagged(str):
    """What Ansible 2.19 hands a task's strings over as (a tagged str subclass that yaml.safe_dump cannot represent)."""


def test_tagged_strings_from_the_task_are_written(tmp_path, monkeypatch):
    boot = {"charge_point": {}}
    _run(tmp_path, monkeypatch, station=_Station16(boot=boot), vendor=_Tagged("ACME"), model=_Tagged("Box 16"),
         station_id=_Tagged("CP-16"))
    assert load_model("acme-box-16", [str(tmp_path / "m")])["match"][0]["vendor"] == "ACME"


def test_tagged_strings_from_the_task_are_written_for_a_201_station(tmp_path):
    # the 2.0.1 path of gather.yml failed with "cannot represent an object" before plain() (no lab test ran it)
    text = caps.starting_model("acme-box-1", {"station_id": _Tagged("CP-1"), "vendor": _Tagged("ACME"),
                                              "model": _Tagged("Box 1"), "firmware_version": _Tagged("1.0")},
                               {"variables": {}}, {"slots": [1], "rate_units": ["A"], "limits": {}})
    assert yaml.safe_load(text)["match"][0]["vendor"] == "ACME"
