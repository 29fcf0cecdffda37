# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The station plane of an OCPP 1.6J charge point (the lab's LAB-CP-0005, lab model v16, station model evcs-sim-16),
through the real playbooks: the declared settings reach the station as configuration keys (read back from the
simulator), a RebootRequired key causes exactly one Reset, the local list and the site limit are applied, a second run
reports changed=0, --check --diff shows the exact change and writes nothing, verify names a key changed on the station
and exits non-zero, and bad 1.6 input is refused before any write.

The identity and security stages of a 1.6 station are the Security Extension's (docs/OCPP16.md, issue 20 items 3 and
4) and are skipped here (ANSIBLE_SKIP_TAGS), as is the staging-password item of commissioning that the security stage
makes pass.
"""

from __future__ import annotations

import copy
import json
import pathlib
import shutil
import sys

import hvac
import pytest
import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from security_helpers import ocpp_writes, wait_for  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
STATION = "LAB-CP-0005"
#: the station plane of this work; identity and the security profile move are the Security Extension's
SKIP = {"ANSIBLE_SKIP_TAGS": "identity,security"}
BASE = {"evcs_targets": STATION, "commission_staging_password": ""}
#: the share of the site cap the test declares: below the station's own 16 A, so the limit is visible
LIMIT_A = 10


def _keys(lab):
    return {item["key"]: item.get("value") for item in lab.sim.station(STATION)["configuration_keys"]}


def _station_vars(inventory):
    return yaml.safe_load((pathlib.Path(inventory) / "host_vars" / f"{STATION}.yml").read_text())["evcs_station"]


@pytest.fixture(scope="module")
def inventory(tmp_path_factory):
    """inventories/lab with the 1.6 station in the lab depot (if it is not yet) and a share of LIMIT_A."""
    target = tmp_path_factory.mktemp("ocpp16") / "lab"
    shutil.copytree(ROOT / "inventories" / "lab", target)
    hosts = yaml.safe_load((target / "hosts.yml").read_text())
    depot = hosts["all"]["children"]["lab_depot"]["hosts"]
    depot.setdefault(STATION, None)
    (target / "hosts.yml").write_text(yaml.safe_dump(hosts))
    path = target / "host_vars" / f"{STATION}.yml"
    data = yaml.safe_load(path.read_text())
    data["evcs_station"]["load_management"]["max_current_a"] = LIMIT_A
    # the factory profile: this module skips the identity and security stages that move it to its declared profile
    data["evcs_station"]["security_profile"] = 1
    path.write_text(yaml.safe_dump(data))
    return str(target)


def _factory_fresh(lab):
    """LAB-CP-0005 as it left the factory, whatever earlier modules of the session lab did with it (it is a station of
    inventories/lab, which they provision): no CSMS record, no stored password, no Vault record, factory keys."""
    from evcs_lab.paths import LabPaths

    vault = hvac.Client(url=lab["vault"]["addr"], verify=lab["vault"]["ca_cert"],
                        token=LabPaths.resolve(lab.home).root_token.read_text().strip())
    vault.secrets.kv.v2.delete_metadata_and_all_versions(f"evcs/lab/stations/{STATION}", mount_point="secret")
    lab.csms.delete_record("stations", STATION)
    lab.csms.http.request("PUT", f"/api/stations/{STATION}/credentials", json={"passwords": []})
    lab.sim.factory_reset(STATION)
    wait_for(lambda: (lab.csms.connection(STATION) or {}).get("online")
             and lab.csms.connection(STATION).get("security_profile") == 1, f"{STATION} back on profile 1", 60)


@pytest.fixture(scope="module")
def provisioned(lab, run_playbook, inventory):
    _factory_fresh(lab)
    assert lab.csms.connection(STATION)["ocpp_version"] == "1.6"
    resets = lab.sim.station(STATION)["resets"]
    rc, output, recap = run_playbook("playbooks/provision.yml", inventory=inventory, extra_vars=BASE, env=SKIP)
    assert rc == 0, output[-6000:]
    return {"output": output, "recap": recap, "resets_before": resets}


def test_declared_keys_local_list_and_limit_reach_the_16_station_with_one_reset(lab, provisioned):
    keys = _keys(lab)
    # evcs_ocpp of the site (heartbeat 300), the station's own settings, the table's defaults, as 1.6 keys
    assert keys["HeartbeatInterval"] == "300"
    assert keys["WebSocketPingInterval"] == "60"          # RebootRequired on this model: applied by the one Reset
    assert keys["LocalAuthListEnabled"] == "true"
    assert keys["MeterValueSampleInterval"] == "60"
    assert set(keys["MeterValuesSampledData"].split(",")) == {"Energy.Active.Import.Register", "Power.Active.Import"}
    assert keys["AuthorizeRemoteTxRequests"] == "true" and keys["LocalAuthorizeOffline"] == "true"
    station = lab.sim.station(STATION)
    assert station["resets"] == provisioned["resets_before"] + 1, station["resets"]
    # the site's id tokens in the station's local list, 1.6 style (idTag/idTagInfo), version recorded by the CSMS
    entries = {entry["idTag"]: entry["idTagInfo"]["status"] for entry in station["local_list"]["entries"]}
    assert entries == {"04A2B3C4D5E6F7": "Accepted", "04A2B3C4D5E6F8": "Blocked"}, station["local_list"]
    assert station["local_list"]["version"] >= 1
    # the station's share of the site cap: a ChargePointMaxProfile on connector 0, in A (Current only)
    profiles = [stored for stored in station["charging_profiles"]
                if stored["profile"]["chargingProfilePurpose"] == "ChargePointMaxProfile"]
    assert len(profiles) == 1 and profiles[0]["connector_id"] == 0, station["charging_profiles"]
    schedule = profiles[0]["profile"]["chargingSchedule"]
    assert schedule["chargingRateUnit"] == "A" and float(schedule["chargingSchedulePeriod"][0]["limit"]) == LIMIT_A
    # the network role says what 1.6 cannot set instead of sending 2.0.1 variables
    assert "speaks OCPP 1.6: no network profiles or slots exist" in provisioned["output"]
    # commissioning checked the 1.6 way: keys read back, StatusNotification of connector 1, listVersion, the limit
    report = json.loads(sorted((lab.home / "reports").glob("commissioning-*.json"))[-1].read_text())
    checks = {item["name"]: item["status"] for item in report[0]["checklist"]}
    assert report[0]["station_id"] == STATION and report[0]["passed"], report
    assert {name: checks[name] for name in ("station_online", "heartbeat_recent", "device_model", "connectors_available",
                                            "local_list_version", "load_management_cap")} == dict.fromkeys(
        ("station_online", "heartbeat_recent", "device_model", "connectors_available", "local_list_version",
         "load_management_cap"), "pass"), checks


def test_a_second_run_changes_nothing_and_writes_nothing(lab, provisioned, run_playbook, inventory):
    lab.csms.reset_stats()
    rc, output, recap = run_playbook("playbooks/provision.yml", inventory=inventory, extra_vars=BASE, env=SKIP)
    assert rc == 0, output[-4000:]
    assert recap[STATION]["changed"] == 0, output[-4000:]
    assert not ocpp_writes(lab.csms.stats(), STATION), lab.csms.stats()


def test_check_diff_shows_the_exact_key_change_and_writes_nothing(lab, provisioned, run_playbook, inventory):
    lab.csms.reset_stats()
    rc, output, _recap = run_playbook("playbooks/provision.yml", inventory=inventory, check=True, diff=True,
                                      extra_vars=dict(BASE, evcs_ocpp={"heartbeat_interval": 120}), env=SKIP)
    assert rc == 0, output[-4000:]
    assert "-    HeartbeatInterval: '300'\n+    HeartbeatInterval: '120'" in output, output[-4000:]
    assert "changed LAB-CP-0005: HeartbeatInterval" in output
    assert _keys(lab)["HeartbeatInterval"] == "300"
    assert not ocpp_writes(lab.csms.stats(), STATION) and not lab.csms.stats()["stations"][STATION].get(
        "ChangeConfiguration")


def test_verify_names_a_key_changed_on_the_station_and_fails(lab, provisioned, run_playbook, inventory):
    lab.sim.local_change_keys(STATION, {"MeterValueSampleInterval": "45"})
    rc, output, _recap = run_playbook("playbooks/verify.yml", inventory=inventory, extra_vars=BASE, env=SKIP)
    assert rc != 0, output[-4000:]
    assert 'MeterValueSampleInterval: "45" -> "60" (ocpp_keys_result)' in output, output[-4000:]
    assert _keys(lab)["MeterValueSampleInterval"] == "45"
    # the next provisioning run puts it back, then verify passes
    rc, output, _recap = run_playbook("playbooks/provision.yml", inventory=inventory, extra_vars=BASE, env=SKIP)
    assert rc == 0 and _keys(lab)["MeterValueSampleInterval"] == "60", output[-4000:]
    rc, output, _recap = run_playbook("playbooks/verify.yml", inventory=inventory, extra_vars=BASE, env=SKIP)
    assert rc == 0 and "no drift on 1 station(s)" in output, output[-4000:]


@pytest.mark.parametrize("extra,expected", [
    ({"ocpp_extra_configuration_keys": [{"key": "NumberOfConnectors", "value": 2}]},
     "configuration key NumberOfConnectors is read-only on station model evcs-sim-16"),
    ({"ocpp_extra_configuration_keys": [{"key": "VendorTurbo", "value": "on"}]},
     "configuration key VendorTurbo is not a key of station model evcs-sim-16"),
    ({"ocpp_extra_configuration_keys": [{"key": "AuthorizationKey", "value": "00" * 16}]},
     "configuration key AuthorizationKey is write-only"),
    ({"station_ocpp": {"offline_threshold": 120}},
     "LAB-CP-0005: evcs_station.ocpp.offline_threshold = 120: has no OCPP 1.6 configuration key"),
])
def test_bad_16_input_is_refused_before_any_write(lab, provisioned, run_playbook, inventory, extra, expected):
    extra = dict(extra)
    extra_vars = dict(BASE, evcs_ocpp={"heartbeat_interval": 77})
    if "station_ocpp" in extra:
        station = copy.deepcopy(_station_vars(inventory))
        station["asset"] = {key: str(value) for key, value in station["asset"].items()}
        station["ocpp"] = dict(station["ocpp"], **extra.pop("station_ocpp"))
        extra_vars["evcs_station"] = station
    extra_vars.update(extra)
    lab.csms.reset_stats()
    rc, output, _recap = run_playbook("playbooks/provision.yml", inventory=inventory, extra_vars=extra_vars, env=SKIP)
    assert rc != 0 and expected in output, output[-4000:]
    assert "00" * 16 not in output
    stats = lab.csms.stats()["stations"].get(STATION) or {}
    assert not ocpp_writes(lab.csms.stats(), STATION) and not stats.get("ChangeConfiguration"), stats
    assert _keys(lab)["HeartbeatInterval"] == "300"
