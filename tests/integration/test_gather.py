"""playbooks/gather.yml against the lab, an OCPP 1.6J charge point and an OCPP 2.0.1 station in the same run (issue 20:
"gather.yml for 1.6"): the 1.6 station gets a 1.6 model file with every key it reports and its readonly flags (checked
against the station's own GetConfiguration), its AuthorizationKey never read or shown, the 2.0.1 station its device
model file; the files load as station models, a station declared with the 1.6 one validates (and its read-only keys
are refused), the play sends nothing that changes a station, and a second run reports changed=0."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from security_helpers import ocpp_writes, wait_for, write_inventory  # noqa: E402

from ansible_collections.evcs.provisioning.plugins.module_utils.station.models import load_model  # noqa: E402

pytestmark = pytest.mark.integration

PLAYBOOK = "playbooks/gather.yml"
V16, V16B, V201 = "GAT-CP-0016", "GAT-CP-0017", "GAT-CP-0201"
#: the lab's 1.6 model (lab model v16) and its default 2.0.1 model, as an inventory declares them
STATION16 = {"vendor": "EVCS Sim", "model": "SimCharger AC11-16", "ocpp_version": "1.6", "firmware_version": "1.6.4",
             "evses": [{"id": 1, "max_current_a": 16, "phases": 3, "voltage_v": 230,
                        "connectors": [{"id": 1, "type": "cType2", "format": "Socket", "max_current_a": 16}]}]}
FILE16, FILE201 = "evcs-sim-simcharger-ac11-16", "evcs-sim-simcharger-ac22"


@pytest.fixture(scope="module")
def stations(lab):
    """Two factory-fresh 1.6 charge points of one model and a 2.0.1 station (serial SN-<id>), online."""
    lab.sim.add([V16, V16B], ocpp_version="1.6")
    lab.sim.add([V201])
    wait_for(lambda: all((lab.csms.connection(station_id) or {}).get("online") for station_id in (V16, V16B, V201)),
             "gather stations online", 30)
    return lab


def _inventory(directory: Path, **extra16) -> str:
    return write_inventory(directory, {V16: {**STATION16, "serial_number": f"SN-{V16}", **extra16},
                                       V16B: {**STATION16, "serial_number": f"SN-{V16B}"},
                                       V201: {"serial_number": f"SN-{V201}"}})


def _run(run_playbook, inventory: str, models: Path, cache: Path):
    return run_playbook(PLAYBOOK, inventory=inventory, extra_vars={"evcs_gather_dir": str(models)},
                        env={"EVCS_CAPABILITY_CACHE": str(cache)})


def test_gather_writes_a_16_and_a_201_model_and_changes_nothing(stations, run_playbook, tmp_path):
    lab = stations
    inventory = _inventory(tmp_path / "inv")
    models, cache = tmp_path / "models", tmp_path / "cache"
    before = lab.csms.call(V16, "GetConfiguration", {})
    lab.csms.reset_stats()

    rc, output, recap = _run(run_playbook, inventory, models, cache)
    assert rc == 0 and all(recap[station_id]["failed"] == 0 for station_id in (V16, V16B, V201)), output[-5000:]
    # a model file per vendor/model, written once: changed counts the file, nothing on the station; the second 1.6
    # charge point of the model (after the first: throttle 1) reports the same file
    assert recap[V16]["changed"] == 1 and recap[V201]["changed"] == 1 and recap[V16B]["changed"] == 0, output[-3000:]
    assert sorted(path.name for path in models.iterdir()) == [f"{FILE16}.yml", f"{FILE201}.yml"]
    stats = lab.csms.stats()
    assert all(ocpp_writes(stats, station_id) == {} for station_id in (V16, V16B, V201))
    calls16 = stats["stations"][V16]
    assert set(calls16) == {"GetConfiguration"}, calls16
    assert "GetBaseReport" in stats["stations"][V201]

    # the 1.6 file: every key the station reports, with its readonly flag (the station's GetConfiguration with no key)
    reported = {item["key"]: item["readonly"] for item in lab.csms.call(V16, "GetConfiguration", {})["configurationKey"]}
    model16 = load_model(FILE16, [str(models)])
    keys = model16["configuration_keys"]["keys"]
    assert model16["ocpp_version"] == "1.6" and model16["rate_units"] == ["A"]
    assert model16["match"] == [{"vendor": "EVCS Sim", "model": "SimCharger AC11-16",
                                 "firmware": {"min": "1.6.4", "max": "1.6.4"}}]
    # AuthorizationKey: never reported (write-only); listed as write-only because the station has the Security Extension
    assert "AuthorizationKey" not in reported and keys.pop("AuthorizationKey")["write_only"]
    assert {key: spec["readonly"] for key, spec in keys.items()} == reported
    assert model16["configuration_keys"]["central_system_url"] is None
    text16 = (models / f"{FILE16}.yml").read_text()
    assert "URL on this station: CentralSystemURL" in text16
    assert "# managed: evcs_station.ocpp.heartbeat_interval" in text16 and "1 connector(s)" in text16
    staging = lab["csms"]["staging_password"]
    for secret in (staging, staging.encode().hex().upper()):
        assert secret not in text16 and secret not in output

    # the 2.0.1 file: a device-model station model
    model201 = load_model(FILE201, [str(models)])
    assert model201["ocpp_version"] == "2.0.1" and any(row["variable"] == "HeartbeatInterval"
                                                       for row in model201["variables"])

    # the station is as it was, and a second run changes nothing (the same files)
    assert lab.csms.call(V16, "GetConfiguration", {}) == before
    files = {path.name: path.read_text() for path in models.iterdir()}
    rc, output, recap = _run(run_playbook, inventory, models, cache)
    assert rc == 0 and all(recap[station_id]["changed"] == 0 for station_id in (V16, V16B, V201)), output[-3000:]
    assert {path.name: path.read_text() for path in models.iterdir()} == files


def test_a_station_declared_with_the_gathered_16_model_validates(stations, run_playbook, tmp_path):
    models, cache = tmp_path / "models", tmp_path / "cache"
    rc, output, _ = _run(run_playbook, _inventory(tmp_path / "gather"), models, cache)
    assert rc == 0, output[-3000:]
    declared = {"station_model": FILE16, "ocpp": {"heartbeat_interval": 120, "websocket_ping_interval": 30}}
    inventory = _inventory(tmp_path / "inv", **declared)
    group_vars = Path(inventory) / "group_vars" / "all" / "models.yml"
    group_vars.write_text(yaml.safe_dump({"evcs_station_model_dirs": [str(models)]}))
    host_vars = Path(inventory) / "host_vars" / f"{V16}.yml"
    host_vars.parent.mkdir(exist_ok=True)
    host_vars.write_text(yaml.safe_dump({"ocpp_extra_configuration_keys": [{"key": "MinimumStatusDuration", "value": 5}]}))
    rc, output, recap = run_playbook("playbooks/validate.yml", inventory=inventory)
    assert rc == 0 and recap[V16]["failed"] == 0, output[-5000:]
    # the read-only flags the station reported are the model's: a read-only key declared is refused before any write
    host_vars.write_text(yaml.safe_dump({"ocpp_extra_configuration_keys": [{"key": "NumberOfConnectors", "value": 2}]}))
    rc, output, recap = run_playbook("playbooks/validate.yml", inventory=inventory)
    assert rc != 0 and recap[V16]["failed"] == 1, output[-5000:]
    assert f"configuration key NumberOfConnectors is read-only on station model {FILE16}" in output
