"""Station configuration against the lab: the network, ocpp and load_management roles on real simulated stations.

No station record exists here (the backend role registers stations later in provision.yml): idempotence must come
from the station (charging profiles read back with GetChargingProfiles -> ReportChargingProfiles), never from a
record. The settings OCPP does not standardize go where each station's model file says (LAB-CP-0003 and 0004 run the
quirky model with a vendor NetworkInterface component; LAB-CP-0001 the standard-only one, LAB-CP-0002 EVerest's); the
CSMS connection profile is the security stage's (tests/integration/test_station_models.py).
"""

from __future__ import annotations

import shutil
import time

import hvac
import pytest
import yaml
from evcs_lab.paths import LabPaths

PLAYBOOK = "tests/integration/station_config/configure.yml"
STATIONS = ["LAB-CP-0001", "LAB-CP-0002", "LAB-CP-0003", "LAB-CP-0004"]
SET_ACTIONS = ("SetVariables", "SetNetworkProfile", "SetChargingProfile", "Reset")
#: OCPP reads per station a re-run of the three roles may send: the DeviceDataCtrlr limits once per run, one
#: GetVariables per role task that reads (network variables + SIM, network_profile, ocpp settings + hardware,
#: smart charging capability) and GetChargingProfiles
MAX_RERUN_READS = 6


def _variable(station, component, variable, instance=None, variable_instance=None):
    for item in station["device_model"]:
        if (item["component"]["name"] == component and item["component"].get("instance") == instance
                and item["variable"]["name"] == variable and item["variable"].get("instance") == variable_instance):
            return item["attributes"]["value"]
    raise KeyError(f"{component}[{instance}].{variable}[{variable_instance}]")


def _wait_connected(lab, station_ids, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        online = {item["id"] for item in lab.sim.stations() if item["connected"]}
        if set(station_ids) <= online:
            return
        time.sleep(0.5)
    raise AssertionError(f"stations {station_ids} did not reconnect within {timeout}s")


def _set_calls(stats, station_id):
    calls = stats.get("stations", {}).get(station_id, {})
    return {action: count for action, count in calls.items() if action in SET_ACTIONS}


def _reads(stats, station_id):
    calls = stats.get("stations", {}).get(station_id, {})
    return sum(count for action, count in calls.items() if action.startswith("Get"))


def _station_limit(lab, station_id):
    profiles = [p["profile"] for p in lab.sim.station(station_id)["charging_profiles"] if p["evse_id"] == 0]
    return profiles[0]["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"]


def _forget_vault_records(lab):
    """A factory reset wipes the station's key, certificate and password: the Vault records of what it held go too,
    as when such a station is decommissioned (later tests, e.g. test_vault_tokens.py, provision these stations from
    scratch: before, they found a Vault record of a certificate and a password the station no longer had)."""
    vault = hvac.Client(url=lab["vault"]["addr"], verify=lab["vault"]["ca_cert"],
                        token=LabPaths.resolve(lab.home).root_token.read_text().strip())
    for station_id in STATIONS:
        vault.secrets.kv.v2.delete_metadata_and_all_versions(f"evcs/lab/stations/{station_id}", mount_point="secret")


@pytest.fixture(scope="module")
def fresh(lab):
    """Factory-fresh, unregistered stations (no CSMS record: BootNotification stays Pending, configuration over OCPP
    is allowed), and the number of resets each had before the first run."""
    _forget_vault_records(lab)
    for station_id in STATIONS:
        lab.csms.delete_record("stations", station_id)
        # its registered passwords go too: the CSMS admits the factory (staging) password again, as for a new station
        lab.csms.http.request("PUT", f"/api/stations/{station_id}/credentials", json={"passwords": []})
        lab.sim.factory_reset(station_id)
        # the station forgot its slots: so does the CSMS
        lab.csms.http.request("DELETE", f"/api/stations/{station_id}/network-profiles")
    _wait_connected(lab, STATIONS)
    lab.csms.reset_stats()
    before = {station_id: lab.sim.station(station_id)["resets"] for station_id in STATIONS}
    return before


@pytest.fixture()
def inventory(tmp_path):
    """A copy of inventories/lab that a test may change (host_vars edits)."""
    target = tmp_path / "lab"
    shutil.copytree("inventories/lab", target)

    def _edit(host, change):
        path = target / "host_vars" / f"{host}.yml"
        data = yaml.safe_load(path.read_text())
        change(data)
        path.write_text(yaml.safe_dump(data))
        return str(target)
    return _edit


def test_fresh_stations_converge_in_one_run(lab, run_playbook, fresh):
    rc, output, recap = run_playbook(PLAYBOOK)
    assert rc == 0, output[-4000:]
    assert all(recap[station_id]["failed"] == 0 and recap[station_id]["changed"] > 0 for station_id in STATIONS), recap

    static = lab.sim.station("LAB-CP-0003")
    assert _variable(static, "NetworkInterface", "AddressMode", "Wireless0") == "Static"
    assert _variable(static, "NetworkInterface", "Ipv4Address", "Wireless0") == "192.168.20.23/24"
    assert _variable(static, "NetworkInterface", "DnsServers", "Wireless0") == "192.168.20.1"
    assert _variable(static, "NetworkInterface", "Ssid", "Wireless0") == "lab-office"
    assert _variable(static, "OCPPCommCtrlr", "HeartbeatInterval") == "600"
    assert static["resets"] == fresh["LAB-CP-0003"] + 1, "one reset applies every reboot-required setting"

    spec = lab.sim.station("LAB-CP-0001")
    assert not [item for item in spec["device_model"] if item["component"]["name"] == "NetworkInterface"]
    assert _variable(spec, "ClockCtrlr", "NtpServerUri", variable_instance="1") == "pool.ntp.org"
    assert _variable(spec, "OCPPCommCtrlr", "HeartbeatInterval") == "300"
    assert _variable(spec, "SampledDataCtrlr", "TxUpdatedInterval") == "60"
    assert _variable(spec, "OCPPCommCtrlr", "NetworkConfigurationPriority") == "1", "the factory slot, untouched"
    assert spec["resets"] == fresh["LAB-CP-0001"], "nothing reboot-required on a standard-only station"
    limits = [p["profile"] for p in spec["charging_profiles"] if p["evse_id"] == 0]
    assert limits[0]["chargingProfilePurpose"] == "ChargingStationMaxProfile"
    assert limits[0]["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"] == 32.0
    # the quirky model takes no ChargingStationMaxProfile: none is sent (the role says so)
    assert lab.sim.station("LAB-CP-0004")["charging_profiles"] == []

    everest = lab.sim.station("LAB-CP-0002")
    assert _variable(everest, "ClockCtrlr", "NtpServerUri") == "pool.ntp.org", "one NtpServerUri, as libocpp has it"
    assert all(lab.csms.record("stations", station_id) is None for station_id in STATIONS)


def test_second_run_changes_nothing_without_station_records_and_reads_little(lab, run_playbook, fresh):
    assert all(lab.csms.record("stations", station_id) is None for station_id in STATIONS)
    lab.csms.reset_stats()
    rc, output, recap = run_playbook(PLAYBOOK)
    assert rc == 0, output[-4000:]
    assert {station_id: recap[station_id]["changed"] for station_id in STATIONS} == dict.fromkeys(STATIONS, 0), output[-4000:]
    stats = lab.csms.stats()
    assert {station_id: _set_calls(stats, station_id) for station_id in STATIONS} == dict.fromkeys(STATIONS, {})
    reads = {station_id: _reads(stats, station_id) for station_id in STATIONS}
    print(f"re-run OCPP reads per station: {reads}; calls: {stats['stations']}")
    assert all(count <= MAX_RERUN_READS for count in reads.values()), stats
    assert all(stats["stations"][station_id]["GetChargingProfiles"] == 1 for station_id in STATIONS[:2]), stats


def test_charging_limit_changed_on_the_station_is_read_back_and_fixed(lab, run_playbook, fresh):
    profile = next(p for p in lab.sim.station("LAB-CP-0002")["charging_profiles"] if p["evse_id"] == 0)["profile"]
    lowered = dict(profile, chargingSchedule=[dict(profile["chargingSchedule"][0], chargingSchedulePeriod=[
        {"startPeriod": 0, "limit": 6.0, "numberPhases": 3}])])
    answer = lab.csms.call("LAB-CP-0002", "SetChargingProfile", {"evseId": 0, "chargingProfile": lowered})
    assert answer["status"] == "Accepted" and _station_limit(lab, "LAB-CP-0002") == 6.0
    lab.csms.reset_stats()
    rc, output, recap = run_playbook(PLAYBOOK, diff=True)
    assert rc == 0, output[-4000:]
    assert recap["LAB-CP-0002"]["changed"] == 1 and recap["LAB-CP-0001"]["changed"] == 0, output[-4000:]
    assert _station_limit(lab, "LAB-CP-0002") == profile["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"]
    assert _set_calls(lab.csms.stats(), "LAB-CP-0002") == {"SetChargingProfile": 1}


def test_check_diff_shows_the_exact_change_and_leaves_the_station_alone(lab, run_playbook, fresh, inventory):
    path = inventory("LAB-CP-0002", lambda data: data["evcs_station"].setdefault("ocpp", {}).update(
        heartbeat_interval=120))
    lab.csms.reset_stats()
    rc, output, recap = run_playbook(PLAYBOOK, inventory=path, check=True, diff=True)
    assert rc == 0, output[-4000:]
    assert "-    OCPPCommCtrlr.HeartbeatInterval: '300'" in output
    assert "+    OCPPCommCtrlr.HeartbeatInterval: '120'" in output
    assert recap["LAB-CP-0002"]["changed"] == 1 and recap["LAB-CP-0001"]["changed"] == 0
    assert _variable(lab.sim.station("LAB-CP-0002"), "OCPPCommCtrlr", "HeartbeatInterval") == "300"
    assert _set_calls(lab.csms.stats(), "LAB-CP-0002") == {}


def test_reboot_required_setting_triggers_exactly_one_reset(lab, run_playbook, fresh, inventory):
    path = inventory("LAB-CP-0004", lambda data: data["evcs_station"]["network"].update(
        dns=["192.168.10.53", "192.168.10.1"]))
    resets = lab.sim.station("LAB-CP-0004")["resets"]
    rc, output, recap = run_playbook(PLAYBOOK, inventory=path)
    assert rc == 0, output[-4000:]
    station = lab.sim.station("LAB-CP-0004")
    assert station["resets"] == resets + 1
    assert station["connected"]
    assert _variable(station, "NetworkInterface", "DnsServers", "Cellular0") == "192.168.10.53,192.168.10.1"
    assert recap["LAB-CP-0001"]["changed"] == 0


@pytest.mark.parametrize("host,change,message", [
    ("LAB-CP-0003", lambda d: d["evcs_station"]["network"]["ipv4"].update(address="192.168.10.300/24"),
     "network.ipv4.address 192.168.10.300/24 is not an IPv4 address"),
    ("LAB-CP-0002", lambda d: d["evcs_station"]["network"].update(dns=["192.168.10.1"]),
     "network.dns is not standardized by OCPP 2.0.1 and station model everest maps no variable for it"),
    ("LAB-CP-0004", lambda d: d["evcs_station"]["network"]["cellular"].update(apn="bad apn!"),
     "network.cellular.apn bad apn! is not an access point name"),
    ("LAB-CP-0003", lambda d: d.update(evcs_environment_rules={"csms_hosts": ["csms.production.example.net"]}),
     "not a CSMS host of this environment"),
])
def test_bad_inventory_fails_before_the_station_is_touched(lab, run_playbook, fresh, inventory, host, change, message):
    path = inventory(host, change)
    lab.csms.reset_stats()
    rc, output, recap = run_playbook(PLAYBOOK, inventory=path)
    assert rc != 0
    assert recap[host]["failed"] == 1 and message in output, output[-4000:]
    assert lab.csms.stats().get("stations", {}).get(host, {}) == {}, "no OCPP call may reach the station"
