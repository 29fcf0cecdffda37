"""OCPP 1.6J charge points (lab model `v16`, with the Security Extension) beside 2.0.1 stations in the real lab.

Each test adds its own 1.6 charge points through the simulator's control API (`lab.sim.add(ids, ocpp_version="1.6")`,
so the session's fleet is untouched) and drives them exactly as the collection does: through the reference CSMS's
REST passthrough (`POST /api/stations/<id>/ocpp/<Action>` with the 1.6 payload), reading what the CSMS kept
(`/connection`, `/messages`) and what the simulated charge point holds (its control API).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from evcs_lab.clients import LabApiError, LabState

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sim_process import wait_for  # noqa: E402

pytestmark = pytest.mark.integration

ALWAYS_RETURNED = {"NumberOfConnectors", "GetConfigurationMaxKeys", "SupportedFeatureProfiles", "HeartbeatInterval",
                   "SecurityProfile", "CpoName", "CentralSystemURL", "ChargingScheduleAllowedChargingRateUnit"}


def _wait_for(predicate, what: str, timeout: float = 30.0):
    return wait_for(predicate, timeout=timeout, interval=0.2, what=what)


def _online(lab, station_id: str, after_total: int = 0) -> dict | None:
    connection = lab.csms.connection(station_id)
    if connection and connection["online"] and connection["connections_total"] > after_total and connection["boot"]:
        return connection
    return None


def _new_station(lab, station_id: str, registered: bool = True) -> dict:
    """A factory-new 1.6 charge point, registered at the CSMS beforehand (its boot is Accepted) unless told not to."""
    if registered:
        lab.csms.put_record("stations", station_id, {"status": "active", "serial_number": f"SN-{station_id}"})
    lab.sim.add([station_id], ocpp_version="1.6")
    status = "Accepted" if registered else "Pending"
    return _wait_for(lambda: (c := _online(lab, station_id)) and c["boot"]["status"] == status and c,
                     f"1.6 charge point {station_id} online and booted {status}")


def _get(lab, station_id: str, *keys: str) -> dict:
    return lab.csms.call(station_id, "GetConfiguration", {"key": list(keys)} if keys else {})


def _values(answer: dict) -> dict:
    return {item["key"]: item.get("value") for item in answer.get("configurationKey", [])}


def _change(lab, station_id: str, key: str, value: str) -> str:
    return lab.csms.call(station_id, "ChangeConfiguration", {"key": key, "value": value})["status"]


@pytest.fixture(scope="module")
def station(lab):
    """One 1.6 charge point for the read-mostly tests of this module, not registered at the CSMS (boot Pending)."""
    _new_station(lab, "T16-CP-0001", registered=False)
    return "T16-CP-0001"


def test_a_16_charge_point_connects_with_ocpp16_and_boots(lab, station):
    connection = lab.csms.connection(station)
    assert connection["ocpp_version"] == "1.6"
    assert connection["security_profile"] == 1 and connection["endpoint"].startswith("ws://")
    charge_point = connection["boot"]["charge_point"]
    assert charge_point["chargePointSerialNumber"] == f"SN-{station}"
    assert (charge_point["chargePointVendor"], charge_point["chargePointModel"]) == ("EVCS Sim", "SimCharger AC11-16")
    # no record yet: the CSMS answers Pending, as it does for an unknown 2.0.1 station
    assert connection["boot"]["status"] == "Pending"
    assert lab.csms.connection("LAB-CP-0001")["ocpp_version"] == "2.0.1"
    sim = lab.sim.station(station)
    assert sim["ocpp_version"] == "1.6" and sim["lab_model"] == "v16" and sim["connected"]
    # the same REST route carries a 2.0.1 call to a 2.0.1 station and refuses a 2.0.1 message for a 1.6 one
    with pytest.raises(LabApiError) as refused:
        lab.csms.call(station, "GetVariables", {"getVariableData": []})
    assert refused.value.status == 400 and refused.value.body["error"] == "unknown_action"


def test_lab_stations_file_has_the_16_charge_point(lab):
    connection = _wait_for(lambda: _online(lab, "LAB-CP-0005"), "LAB-CP-0005 online")
    assert connection["ocpp_version"] == "1.6"
    assert connection["boot"]["charge_point"]["chargePointSerialNumber"] == "SIM-0005"


def test_get_configuration_known_unknown_and_readonly(lab, station):
    answer = _get(lab, station, "HeartbeatInterval", "NumberOfConnectors", "NoSuchKey", "SupportedFeatureProfiles")
    known = {item["key"]: item for item in answer["configurationKey"]}
    assert answer["unknownKey"] == ["NoSuchKey"]
    assert known["HeartbeatInterval"]["readonly"] is False
    assert known["NumberOfConnectors"] == {"key": "NumberOfConnectors", "readonly": True, "value": "1"}
    assert known["SupportedFeatureProfiles"]["readonly"] is True
    assert "SmartCharging" in known["SupportedFeatureProfiles"]["value"].split(",")
    everything = _get(lab, station)
    keys = {item["key"]: item for item in everything["configurationKey"]}
    assert ALWAYS_RETURNED <= set(keys)
    assert keys["GetConfigurationMaxKeys"]["readonly"] is True
    assert keys["CentralSystemURL"]["value"] == lab["csms"]["ws_urls"]["1"]
    assert keys["SecurityProfile"]["value"] == "1"
    assert "unknownKey" not in everything


def test_authorization_key_is_never_returned(lab, station):
    everything = _get(lab, station)
    asked = _get(lab, station, "AuthorizationKey", "HeartbeatInterval")
    assert "AuthorizationKey" not in {item["key"] for item in everything["configurationKey"]}
    assert [item["key"] for item in asked["configurationKey"]] == ["HeartbeatInterval"]
    assert "AuthorizationKey" not in asked.get("unknownKey", [])
    # and the simulator's own view hides it too
    row = next(item for item in lab.sim.station(station)["configuration_keys"] if item["key"] == "AuthorizationKey")
    assert row["write_only"] is True and row["value"] is None


def test_get_configuration_max_keys_is_honoured(lab, station):
    limit = int(_values(_get(lab, station, "GetConfigurationMaxKeys"))["GetConfigurationMaxKeys"])
    names = [item["key"] for item in _get(lab, station)["configurationKey"]]
    assert len(names) > limit
    assert len(_get(lab, station, *names[:limit])["configurationKey"]) == limit
    with pytest.raises(LabApiError) as refused:
        _get(lab, station, *names[:limit + 1])
    assert refused.value.status == 502
    assert refused.value.body["details"]["code"] == "OccurenceConstraintViolation"


def test_change_configuration_answers_as_a_16_charge_point(lab, station):
    assert _change(lab, station, "MeterValueSampleInterval", "30") == "Accepted"
    assert _values(_get(lab, station, "MeterValueSampleInterval")) == {"MeterValueSampleInterval": "30"}
    assert _change(lab, station, "NumberOfConnectors", "4") == "Rejected"
    assert _change(lab, station, "GetConfigurationMaxKeys", "50") == "Rejected"
    assert _change(lab, station, "MeterValueSampleInterval", "soon") == "Rejected"
    assert _change(lab, station, "LocalPreAuthorize", "maybe") == "Rejected"
    assert _change(lab, station, "MeterValuesSampledData", "Energy.Active.Import.Register,Voltage") == "Accepted"
    assert _change(lab, station, "MeterValuesSampledData", "Energy.Active.Import.Register,Colour") == "Rejected"
    assert _change(lab, station, "NoSuchKey", "1") == "NotSupported"
    assert _values(_get(lab, station, "NumberOfConnectors", "MeterValueSampleInterval")) == {
        "NumberOfConnectors": "1", "MeterValueSampleInterval": "30"}


def test_reboot_required_key_applies_at_reset_with_a_new_boot(lab):
    station = "T16-CP-0002"
    before = _new_station(lab, station)
    assert _change(lab, station, "WebSocketPingInterval", "45") == "RebootRequired"
    assert _values(_get(lab, station, "WebSocketPingInterval")) == {"WebSocketPingInterval": "0"}
    pending = next(item for item in lab.sim.station(station)["configuration_keys"]
                   if item["key"] == "WebSocketPingInterval")
    assert pending["pending_value"] == "45"
    assert lab.csms.call(station, "Reset", {"type": "Hard"})["status"] == "Accepted"
    after = _wait_for(lambda: (c := _online(lab, station, before["connections_total"]))
                      and c["boot"]["at"] != before["boot"]["at"] and c, "a new BootNotification after the Reset")
    assert after["ocpp_version"] == "1.6"
    assert _values(_get(lab, station, "WebSocketPingInterval")) == {"WebSocketPingInterval": "45"}
    assert lab.sim.station(station)["resets"] == 1


def test_a_reconnect_sends_no_boot_but_a_triggered_boot_is_sent(lab):
    station = "T16-CP-0003"
    before = _new_station(lab, station)
    lab.sim.faults(station, drop_connection=True)
    again = _wait_for(lambda: _online(lab, station, before["connections_total"]), "the reconnect")
    assert again["boot"]["at"] == before["boot"]["at"], "a reconnect is no boot"
    # what the CSMS last heard from the station stays known across the reconnect (commissioning's heartbeat_recent)
    assert before["last_message_at"] and (again["last_message_at"] or "") >= before["last_message_at"]
    # OCPP 1.6 (unlike 2.0.1's F06.FR.17) lets the Central System trigger a BootNotification
    assert lab.csms.call(station, "TriggerMessage", {"requestedMessage": "BootNotification"})["status"] == "Accepted"
    _wait_for(lambda: lab.csms.connection(station)["boot"]["at"] != before["boot"]["at"], "the triggered boot")
    assert lab.csms.call(station, "TriggerMessage", {"requestedMessage": "StatusNotification",
                                                     "connectorId": 7})["status"] == "Rejected"


def test_a_pending_charge_point_boots_accepted_once_its_record_is_active(lab):
    station = "T16-CP-0005"
    _new_station(lab, station, registered=False)
    lab.csms.put_record("stations", station, {"status": "active", "serial_number": f"SN-{station}"})
    _wait_for(lambda: lab.csms.connection(station)["boot"]["status"] == "Accepted", "the boot Accepted")
    assert lab.sim.station(station)["boot_accepted"] is True


def test_triggered_status_notification_is_kept_per_connector(lab, station):
    since = lab.csms.connection(station)["last_message_at"]
    assert lab.csms.call(station, "TriggerMessage", {"requestedMessage": "StatusNotification"})["status"] == "Accepted"
    def fresh():
        return {(item["evse_id"], item["connector_id"]): item["status"]
                for item in lab.csms.connection(station)["connectors"] if item["at"] >= since[:19]}
    # connector 0 is the charge point itself, then connector 1
    assert _wait_for(lambda: len(fresh()) == 2 and fresh(), "fresh StatusNotifications") == {
        (0, 0): "Available", (0, 1): "Available"}
    kept = lab.csms.http.request("GET", f"/api/stations/{station}/messages",
                                 params={"action": "StatusNotification"})["items"]
    assert kept and kept[-1]["payload"]["errorCode"] == "NoError"


def test_factory_reset_brings_back_the_factory_keys(lab):
    station = "T16-CP-0004"
    _new_station(lab, station)
    assert _change(lab, station, "ConnectionTimeOut", "90") == "Accepted"
    before = lab.csms.connection(station)["connections_total"]
    lab.sim.factory_reset(station)
    _wait_for(lambda: _online(lab, station, before), "the factory-new charge point back online")
    assert _values(_get(lab, station, "ConnectionTimeOut")) == {"ConnectionTimeOut": "60"}


def test_a_fresh_lab_runs_a_16_fleet(tmp_path, lab_cli):
    """``evcs-lab up --count N --ocpp-version 1.6`` (the benchmark's 1.6 fleet): every charge point on ocpp1.6."""
    home = tmp_path / "fleet16"
    try:
        up = lab_cli(home, "up", "--count", "30", "--ocpp-version", "1.6")
        assert up.returncode == 0, up.stdout + up.stderr
        fleet = LabState.load(home)
        assert len(fleet["simulator"]["stations"]) == 30
        assert all(item["connected"] and item["ocpp_version"] == "1.6" for item in fleet.sim.stations())
        versions = {(fleet.csms.connection(station_id) or {}).get("ocpp_version")
                    for station_id in fleet["simulator"]["stations"]}
        assert versions == {"1.6"}
        shown = lab_cli(home, "status")
        assert shown.returncode == 0 and "OCPP 1.6" in shown.stdout and "OCPP 2.0.1" not in shown.stdout
    finally:
        lab_cli(home, "down", timeout=120)
