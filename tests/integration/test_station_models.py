"""Station models against a lab that behaves like the spec: the lab runs three models (spec: standard components and
slots 1-3; everest: libocpp's device model, slots 1-2; quirky: slots 1-2, RateUnit W only, no
ChargingStationMaxProfile, ItemsPerMessage 4, a vendor NetworkInterface component), and inventories/lab has one
station of each (LAB-CP-0003 and 0004 are quirky), next to the OCPP 1.6J charge point LAB-CP-0005 (model v16, no slots).

On a lab of its own: every model provisions, re-runs with changed=0 and verifies without drift; no configuration slot
0 is ever used; a station that drops its websocket reconnects without BootNotification (and refuses a triggered one,
F06.FR.17) and the next verify passes; a profile-3 station's renewed certificate is presented after a reconnect
without a reboot; a day-2 MessageTimeout change on a station already on its target profile goes to a free slot and
switches over lockout-safe; a declared ReadOnly, out-of-range or unknown variable is refused before any write.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
import yaml
from cryptography import x509

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import REPO_ROOT, ansible_playbook, running_lab  # noqa: E402
from security_helpers import ocpp_writes  # noqa: E402

#: the lab model of every station of inventories/lab (its hosts.yml), as lab/stations.yml runs it: a mixed fleet
_HOSTS = {host for group in yaml.safe_load((REPO_ROOT / "inventories" / "lab" / "hosts.yml").read_text())["all"][
    "children"].values() for host in (group.get("hosts") or {})}
MODELS = {station["id"]: station.get("lab_model", "spec")
          for station in yaml.safe_load((REPO_ROOT / "lab" / "stations.yml").read_text()) if station["id"] in _HOSTS}
#: the configuration slots of each 2.0.1 lab model (the 1.6 model v16 has none)
SLOTS = {"spec": {1, 2, 3}, "everest": {1, 2}, "quirky": {1, 2}}
PROFILE_3 = ("LAB-CP-0001", "LAB-CP-0002")


@pytest.fixture(scope="module")
def models_lab(tmp_path_factory):
    home = tmp_path_factory.mktemp("models-lab")
    with running_lab(home) as state:
        yield state


def _run(lab, playbook="playbooks/provision.yml", **options):
    env = dict(options.pop("env", None) or {}, EVCS_CAPABILITY_CACHE=str(lab.home / "capabilities"))
    return ansible_playbook(lab.home, playbook, env=env, **options)


def _stations(recap):
    return {host: counts for host, counts in recap.items() if host != "localhost"}


def _wait(predicate, what, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _variable(station, component, variable, instance=None, component_instance=None):
    for item in station["device_model"]:
        if (item["component"]["name"], item["component"].get("instance"), item["variable"]["name"],
                item["variable"].get("instance")) == (component, component_instance, variable, instance):
            return item["attributes"]["value"]
    raise KeyError(f"{component}.{variable}[{instance}]")


@pytest.fixture(scope="module")
def provisioned(models_lab):
    rc, output, recap = _run(models_lab)
    assert rc == 0, output[-6000:]
    assert all(counts["failed"] == 0 for counts in _stations(recap).values()), recap
    return models_lab


def test_every_model_provisions_reruns_unchanged_and_verifies(provisioned):
    lab = provisioned
    assert sorted(MODELS) == sorted(_HOSTS) and {"spec", "everest", "quirky", "v16"} <= set(MODELS.values()), MODELS
    for station_id, model in MODELS.items():
        station = lab.sim.station(station_id)
        assert station["lab_model"] == model and station["connected"], station_id
        if model == "v16":
            continue                            # OCPP 1.6: no configuration slots
        assert int(station["slot"]) in SLOTS[model], station["slot"]
        assert set(map(int, station["network_profiles"])) <= SLOTS[model], station["network_profiles"]
    spec = lab.sim.station("LAB-CP-0001")
    assert not [item for item in spec["device_model"] if item["component"]["name"] == "NetworkInterface"]
    quirky = lab.sim.station("LAB-CP-0003")
    # mapped by its model file (station_models/evcs-sim-q.yml) to the vendor component of its Wi-Fi interface
    assert _variable(quirky, "NetworkInterface", "Ipv4Address", component_instance="Wireless0") == "192.168.20.23/24"
    assert _variable(quirky, "NetworkInterface", "DnsServers", component_instance="Wireless0") == "192.168.20.1"
    assert lab.csms.connection("LAB-CP-0002")["security_profile"] == 3
    lab.csms.reset_stats()
    rc, output, recap = _run(lab)
    assert rc == 0, output[-4000:]
    assert {host: counts["changed"] for host, counts in _stations(recap).items()} == dict.fromkeys(MODELS, 0), recap
    stats = lab.csms.stats()
    assert not any(ocpp_writes(stats, station_id) for station_id in MODELS), stats
    rc, output, _recap = _run(lab, "playbooks/verify.yml")
    assert rc == 0 and f"no drift on {len(MODELS)} station(s)" in output, output[-4000:]


def test_capabilities_are_discovered_once_per_model_and_cached(provisioned):
    cached = sorted(path.name for path in (provisioned.home / "capabilities").glob("*.json"))
    assert cached == ["evcs-sim_simcharger-ac22_1.0.0.json", "evcs-sim_simcharger-everest_2024.9.0.json",
                      "evcs-sim_simcharger-q_3.2.1.json"], cached


def test_reconnect_without_boot_notification_then_verify_passes(provisioned):
    lab, station_id = provisioned, "LAB-CP-0001"
    before = lab.csms.connection(station_id)
    lab.sim.faults(station_id, drop_connection=True)
    after = _wait(lambda: (lambda now: now if now and now.get("online") and now.get("connections_total", 0)
                           > before["connections_total"] else None)(lab.csms.connection(station_id)), "the reconnect")
    assert after["boot"]["at"] == before["boot"]["at"], "a mere reconnect sends no BootNotification"
    assert lab.csms.call(station_id, "TriggerMessage", {"requestedMessage": "BootNotification"})["status"] == "Rejected"
    rc, output, _recap = _run(lab, "playbooks/verify.yml", extra_vars={"evcs_targets": station_id})
    assert rc == 0 and "no drift on 1 station(s)" in output, output[-4000:]


@pytest.mark.parametrize("station_id", PROFILE_3)
def test_profile_3_renewal_is_presented_after_a_reconnect_without_a_reboot(provisioned, station_id):
    lab = provisioned
    resets = lab.sim.station(station_id)["resets"]
    rc, output, _recap = _run(lab, "playbooks/renew_certificates.yml",
                              extra_vars={"evcs_targets": station_id, "identity_force": True})
    assert rc == 0, output[-4000:]
    before = lab.csms.connection(station_id)
    lab.sim.faults(station_id, drop_connection=True)
    after = _wait(lambda: (lambda now: now if now and now.get("online") and now.get("connections_total", 0)
                           > before["connections_total"] else None)(lab.csms.connection(station_id)), "the reconnect")
    presented = x509.load_pem_x509_certificate(after["client_certificate"].encode())
    previous = x509.load_pem_x509_certificate(before["client_certificate"].encode())
    assert presented.serial_number != previous.serial_number and after["security_profile"] == 3
    assert lab.sim.station(station_id)["resets"] == resets, "no reboot"
    rc, output, _recap = _run(lab, "playbooks/verify.yml", extra_vars={"evcs_targets": station_id})
    assert rc == 0, output[-4000:]


@pytest.mark.parametrize("station_id, site_ocpp", [
    ("LAB-CP-0001", {"heartbeat_interval": 300}),     # spec model, slots 1-3, profile 3
    ("LAB-CP-0002", {"heartbeat_interval": 300}),     # everest model, slots 1-2, profile 3
    ("LAB-CP-0003", {"heartbeat_interval": 600}),     # quirky model, slots 1-2, profile 2
])
def test_day_2_message_timeout_change_goes_to_a_free_slot_lockout_safe(provisioned, station_id, site_ocpp):
    lab = provisioned
    before = lab.sim.station(station_id)
    profile, old_slot = before["security_profile"], int(before["slot"])
    extra = {"evcs_targets": station_id, "evcs_ocpp": dict(site_ocpp, message_timeout=47)}
    rc, output, recap = _run(lab, extra_vars=extra)
    assert rc == 0, output[-6000:]
    assert recap[station_id]["changed"] > 0
    after = lab.sim.station(station_id)
    new_slot = int(after["slot"])
    assert after["connected"] and after["security_profile"] == profile
    assert new_slot != old_slot and new_slot in SLOTS[MODELS[station_id]]
    assert after["network_profiles"][str(new_slot)]["messageTimeout"] == 47
    assert _variable(after, "OCPPCommCtrlr", "MessageTimeout", "Default") == "47"
    assert _variable(after, "OCPPCommCtrlr", "NetworkConfigurationPriority") == str(new_slot)
    rc, output, recap = _run(lab, extra_vars=extra)
    assert rc == 0 and recap[station_id]["changed"] == 0, output[-4000:]
    rc, output, _recap = _run(lab, "playbooks/verify.yml", extra_vars=extra)
    assert rc == 0, output[-4000:]


@pytest.mark.parametrize("variable, fragment", [
    ({"component": {"name": "SecurityCtrlr"}, "variable": {"name": "Identity"}, "value": "SOMEONE-ELSE"},
     "variable SecurityCtrlr.Identity = SOMEONE-ELSE: is ReadOnly"),
    ({"component": {"name": "TxCtrlr"}, "variable": {"name": "EVConnectionTimeOut"}, "value": -5},
     "variable TxCtrlr.EVConnectionTimeOut = -5: is out of range"),
    ({"component": {"name": "VendorTurboCtrlr"}, "variable": {"name": "Boost"}, "value": True},
     "variable VendorTurboCtrlr.Boost = true: the station (model evcs-sim-ac22"),
])
def test_a_declared_variable_the_station_would_refuse_is_refused_before_any_write(provisioned, variable, fragment):
    lab, station_id = provisioned, "LAB-CP-0001"
    heartbeat = _variable(lab.sim.station(station_id), "OCPPCommCtrlr", "HeartbeatInterval")
    lab.csms.reset_stats()
    rc, output, _recap = _run(lab, extra_vars={"evcs_targets": station_id, "ocpp_extra_variables": [variable],
                                               "evcs_ocpp": {"heartbeat_interval": 444}})
    assert rc != 0, output[-4000:]
    assert f"{station_id}: {fragment}" in output, output[-4000:]
    assert not ocpp_writes(lab.csms.stats(), station_id), lab.csms.stats()
    assert _variable(lab.sim.station(station_id), "OCPPCommCtrlr", "HeartbeatInterval") == heartbeat


def test_vpn_and_sim_pin_reach_the_station_and_a_rerun_changes_nothing(provisioned):
    """SetNetworkProfile carries every standardized field the inventory declares: the VPN and the SIM PIN were
    validated and then dropped before."""
    lab, station_id = provisioned, "LAB-CP-0004"
    secrets = {"vpn": "vpn-pass-S3CRET", "key": "vpn-key-S3CRET", "pin": "90817263"}
    network = {"ntp": ["pool.ntp.org"], "cellular": {"pin": secrets["pin"], "preferred_network": "26201"},
               "vpn": {"enabled": True, "type": "IKEv2", "server": "vpn.lab.example", "username": "lab-vpn",
                       "group": "chargers", "password": secrets["vpn"], "key": secrets["key"]}}
    extra = {"evcs_targets": station_id, "evcs_network": network}
    rc, output, recap = _run(lab, extra_vars=extra)
    assert rc == 0 and recap[station_id]["changed"] > 0, output[-6000:]
    station = lab.sim.station(station_id)
    slot = station["network_profiles"][str(station["slot"])]
    assert slot["vpn"] == {"server": "vpn.lab.example", "user": "lab-vpn", "group": "chargers",
                           "password": secrets["vpn"], "key": secrets["key"], "type": "IKEv2"}
    assert slot["apn"]["simPin"] == 90817263 and slot["apn"]["preferredNetwork"] == "26201"
    assert slot["apn"]["apn"] == "iot.lab.example" and station["security_profile"] == 1
    rc, output2, recap = _run(lab, extra_vars=extra)
    assert rc == 0 and recap[station_id]["changed"] == 0, output2[-4000:]
    rc, output3, _recap = _run(lab, "playbooks/verify.yml", extra_vars=extra)
    assert rc == 0, output3[-4000:]
    for secret in secrets.values():
        assert secret not in output + output2 + output3


def test_the_quirky_model_moves_to_profile_3_and_renews_after_a_reconnect_without_a_reboot(provisioned, tmp_path):
    """The lab inventory keeps its quirky stations on profiles 2 and 1; here one goes to profile 3 (lockout-safe, two
    slots only) and then renews like the other models. Last in this file: it leaves LAB-CP-0003 on profile 3."""
    import shutil
    import yaml
    lab, station_id = provisioned, "LAB-CP-0003"
    inventory = tmp_path / "lab"
    shutil.copytree("inventories/lab", inventory)
    host_vars = inventory / "host_vars" / f"{station_id}.yml"
    data = yaml.safe_load(host_vars.read_text())
    data["evcs_station"]["security_profile"] = 3
    host_vars.write_text(yaml.safe_dump(data))
    extra = {"evcs_targets": station_id}
    rc, output, _recap = _run(lab, inventory=str(inventory), extra_vars=extra)
    assert rc == 0, output[-6000:]
    assert lab.csms.connection(station_id)["security_profile"] == 3
    assert set(map(int, lab.sim.station(station_id)["network_profiles"])) <= SLOTS["quirky"]
    resets = lab.sim.station(station_id)["resets"]
    rc, output, _recap = _run(lab, "playbooks/renew_certificates.yml", inventory=str(inventory),
                              extra_vars=dict(extra, identity_force=True))
    assert rc == 0, output[-4000:]
    before = lab.csms.connection(station_id)
    lab.sim.faults(station_id, drop_connection=True)
    after = _wait(lambda: (lambda now: now if now and now.get("online") and now.get("connections_total", 0)
                           > before["connections_total"] else None)(lab.csms.connection(station_id)), "the reconnect")
    presented = x509.load_pem_x509_certificate(after["client_certificate"].encode())
    previous = x509.load_pem_x509_certificate(before["client_certificate"].encode())
    assert presented.serial_number != previous.serial_number and after["security_profile"] == 3
    assert lab.sim.station(station_id)["resets"] == resets, "no reboot"
    rc, output, _recap = _run(lab, "playbooks/verify.yml", inventory=str(inventory), extra_vars=extra)
    assert rc == 0, output[-4000:]
