"""The charger simulator against a minimal in-test CSMS (profile 1), spoken to over real OCPP 2.0.1.

SIM-CP-0001 and 0002 run the spec model (standard components only, slots 1-3); SIM-CP-0003 the quirky one (slots 1-2,
a vendor NetworkInterface component whose variables need a reboot)."""
from __future__ import annotations

import stat
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from ocpp.exceptions import OCPPError
from ocpp.v201 import call

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sim_csms import SimCsms  # noqa: E402
from sim_process import SimulatorProcess, wait_for  # noqa: E402

pytestmark = pytest.mark.integration

PASSWORD = "staging-password-0123456789"
STATIONS = ["SIM-CP-0001", "SIM-CP-0002", "SIM-CP-0003"]


@pytest.fixture(scope="module")
def csms():
    server = SimCsms(PASSWORD)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def simulator(csms, tmp_path_factory):
    process = SimulatorProcess(tmp_path_factory.mktemp("sim"), csms.url, PASSWORD, STATIONS)
    process.start()
    wait_for(lambda: all(station in csms.sessions for station in STATIONS), what="3 stations connected")
    yield process
    process.stop()


def _get(csms, station_id, *variables):
    """GetVariables for (component, variable[, variable instance]) tuples; the results in request order."""
    data = [{"component": {"name": item[0]},
             "variable": {"name": item[1], **({"instance": item[2]} if len(item) > 2 else {})}}
            for item in variables]
    return csms.call(station_id, call.GetVariables(get_variable_data=data)).get_variable_result


def _set(csms, station_id, component, variable, value, component_instance=None):
    component_ref = {"name": component, **({"instance": component_instance} if component_instance else {})}
    data = [{"component": component_ref, "variable": {"name": variable}, "attribute_value": value}]
    return csms.call(station_id, call.SetVariables(set_variable_data=data)).set_variable_result[0]


def test_stations_connect_and_boot(csms, simulator):
    wait_for(lambda: {station for station, _ in csms.boots} >= set(STATIONS), what="BootNotifications")
    assert {reason for _, reason in csms.boots} == {"PowerUp"}
    wait_for(lambda: all(csms.statuses.get((station, evse, 1)) == "Available"
                         for station in STATIONS for evse in (1, 2)), what="StatusNotification Available")
    items = simulator.get("/sim/stations")["items"]
    assert {item["id"]: (item["connected"], item["security_profile"], item["slot"]) for item in items} == {
        station: (True, 1, 1) for station in STATIONS}
    assert csms.refused_auth == 0


def test_slots_are_those_network_configuration_priority_allows(csms, simulator):
    connection = {"ocpp_version": "OCPP20", "ocpp_transport": "JSON", "message_timeout": 30, "security_profile": 1,
                  "ocpp_interface": "Wired0", "ocpp_csms_url": "ws://127.0.0.1:9/ocpp"}
    answers = {(station, slot): csms.call(station, call.SetNetworkProfile(configuration_slot=slot,
                                                                          connection_data=connection)).status
               for station, slot in ((STATIONS[0], 0), (STATIONS[0], 4), (STATIONS[2], 3))}
    assert set(answers.values()) == {"Rejected"}, answers
    report = {row["variable"]["name"]: row for row in simulator.get(f"/sim/stations/{STATIONS[2]}")["device_model"]
              if row["component"]["name"] == "OCPPCommCtrlr"}
    assert report["NetworkConfigurationPriority"]["characteristics"]["valuesList"] == "1,2"
    spec = simulator.get(f"/sim/stations/{STATIONS[0]}")["device_model"]
    assert not [row for row in spec if row["component"]["name"] == "NetworkInterface"], "only standard components"


def test_a_reconnect_sends_no_boot_notification_and_a_triggered_one_is_refused(csms, simulator):
    station = STATIONS[0]
    boots = sum(1 for booted, _ in csms.boots if booted == station)
    old_session = csms.sessions[station]
    simulator.post(f"/sim/stations/{station}/faults", {"drop_connection": True})
    wait_for(lambda: csms.sessions.get(station) not in (None, old_session), what="reconnect")
    time.sleep(1)
    assert sum(1 for booted, _ in csms.boots if booted == station) == boots, "F06: no BootNotification on reconnect"
    assert csms.call(station, call.TriggerMessage(requested_message="BootNotification")).status == "Rejected"


def test_get_variables_round_trip(csms, simulator):
    results = _get(csms, STATIONS[0], ("ChargingStation", "SerialNumber"), ("OCPPCommCtrlr", "HeartbeatInterval"),
                   ("OCPPCommCtrlr", "NoSuchVariable"), ("NoSuchController", "Enabled"),
                   ("SecurityCtrlr", "BasicAuthPassword"), ("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables"))
    statuses = [(result["attribute_status"], result.get("attribute_value")) for result in results]
    assert statuses == [("Accepted", "SN-SIM-CP-0001"), ("Accepted", "300"), ("UnknownVariable", None),
                        ("UnknownComponent", None), ("Rejected", None), ("Accepted", "16")]


def test_set_read_only_variable_is_rejected(csms, simulator):
    result = _set(csms, STATIONS[0], "ChargingStation", "SerialNumber", "SN-FORGED")
    assert result["attribute_status"] == "Rejected"
    assert _get(csms, STATIONS[0], ("ChargingStation", "SerialNumber"))[0]["attribute_value"] == "SN-SIM-CP-0001"


def test_reboot_required_value_applies_after_reset(csms, simulator):
    station = STATIONS[2]
    dns = {"component": {"name": "NetworkInterface", "instance": "Wired0"}, "variable": {"name": "DnsServers"}}
    result = csms.call(station, call.SetVariables(set_variable_data=[{**dns, "attribute_value": "192.0.2.53"}]))
    assert result.set_variable_result[0]["attribute_status"] == "RebootRequired"
    before = csms.call(station, call.GetVariables(get_variable_data=[dns])).get_variable_result[0]
    assert before["attribute_value"] == ""

    assert csms.call(station, call.Reset(type="Immediate")).status == "Accepted"
    wait_for(lambda: (station, "RemoteReset") in csms.boots and station in csms.sessions, what="reconnect")
    after = csms.call(station, call.GetVariables(get_variable_data=[dns])).get_variable_result[0]
    assert after["attribute_value"] == "192.0.2.53"
    assert simulator.get(f"/sim/stations/{station}")["resets"] == 1


def test_too_many_items_is_a_call_error(csms, simulator):
    data = [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}] * 17
    with pytest.raises(OCPPError) as error:
        csms.call(STATIONS[0], call.GetVariables(get_variable_data=data), suppress=False)
    assert error.value.code == "OccurrenceConstraintViolation"


def test_too_many_bytes_is_a_call_error(csms, simulator):
    """B06.FR.17 (and SetVariables alike): a request larger than BytesPerMessage (8192 on the spec model, the whole
    frame) is answered FormatViolation, even within ItemsPerMessage; one that fits is answered."""
    entry = {"component": {"name": "C" * 50, "instance": "I" * 50}, "variable": {"name": "V" * 50},
             "attribute_value": "x" * 1000}
    with pytest.raises(OCPPError) as error:
        csms.call(STATIONS[0], call.SetVariables(set_variable_data=[entry] * 8), suppress=False)
    assert error.value.code == "FormatViolation"
    answer = csms.call(STATIONS[0], call.SetVariables(set_variable_data=[entry] * 2))
    assert [result["attribute_status"] for result in answer.set_variable_result] == ["UnknownComponent"] * 2


def test_set_network_profile_scheme_must_match_profile(csms, simulator):
    connection = {"ocpp_version": "OCPP20", "ocpp_transport": "JSON", "message_timeout": 30,
                  "security_profile": 1, "ocpp_interface": "Wired0"}
    wrong = csms.call(STATIONS[0], call.SetNetworkProfile(
        configuration_slot=2, connection_data={**connection, "ocpp_csms_url": "wss://127.0.0.1:9/ocpp"}))
    right = csms.call(STATIONS[0], call.SetNetworkProfile(
        configuration_slot=2, connection_data={**connection, "ocpp_csms_url": "ws://127.0.0.1:9/ocpp"}))
    assert (wrong.status, right.status) == ("Rejected", "Accepted")
    profiles = simulator.get(f"/sim/stations/{STATIONS[0]}")["network_profiles"]
    assert profiles["2"]["ocppCsmsUrl"] == "ws://127.0.0.1:9/ocpp"


def test_no_installed_certificates_is_not_found_without_hash_data(csms, simulator):
    session = csms.sessions[STATIONS[2]]
    result = csms.call(STATIONS[2], call.GetInstalledCertificateIds(certificate_type=["CSMSRootCertificate"]))
    assert result.status == "NotFound"
    assert session.raw_results[-1][2] == {"status": "NotFound"}


def test_sign_certificate_csr_is_made_on_the_station(csms, simulator):
    station = STATIONS[2]
    assert _set(csms, station, "SecurityCtrlr", "OrganizationName", "EVCS Test Operator")["attribute_status"] == "Accepted"
    trigger = csms.call(station, call.TriggerMessage(requested_message="SignChargingStationCertificate"))
    assert trigger.status == "Accepted"
    csr = x509.load_pem_x509_csr(wait_for(lambda: csms.csrs.get(station), what="SignCertificate").encode())
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == station
    assert csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "EVCS Test Operator"
    assert csr.is_signature_valid


def test_base_report_is_the_full_device_model(csms, simulator):
    station = STATIONS[2]
    assert csms.call(station, call.GetBaseReport(request_id=7, report_base="FullInventory")).status == "Accepted"
    parts = wait_for(lambda: _complete(csms.reports.get((station, 7))), what="NotifyReport parts")
    variables = {(item["component"]["name"], item["variable"]["name"]) for _, data, _ in parts for item in data}
    assert len(parts) > 1 and ("NetworkInterface", "Iccid") in variables
    password = [item for _, data, _ in parts for item in data if item["variable"]["name"] == "BasicAuthPassword"]
    assert "value" not in password[0]["variable_attribute"][0]


def _complete(parts):
    return parts if parts and parts[-1][2] is False else None


def test_local_list_and_charging_profiles(csms, simulator):
    station = STATIONS[1]
    entry = {"id_token": {"id_token": "04A2B3C4", "type": "ISO14443"}, "id_token_info": {"status": "Accepted"}}
    full = csms.call(station, call.SendLocalList(version_number=3, update_type="Full", local_authorization_list=[entry]))
    stale = csms.call(station, call.SendLocalList(version_number=3, update_type="Differential"))
    assert (full.status, stale.status) == ("Accepted", "VersionMismatch")
    assert csms.call(station, call.GetLocalListVersion()).version_number == 3

    def profile(purpose, limit, unit="A"):
        return {"id": 10, "stack_level": 0, "charging_profile_purpose": purpose, "charging_profile_kind": "Absolute",
                "charging_schedule": [{"id": 1, "charging_rate_unit": unit, "start_schedule": "2024-01-01T00:00:00Z",
                                       "charging_schedule_period": [{"start_period": 0, "limit": limit}]}]}
    on_evse = csms.call(station, call.SetChargingProfile(evse_id=1, charging_profile=profile("ChargingStationMaxProfile", 16)))
    zero = csms.call(station, call.SetChargingProfile(evse_id=0, charging_profile=profile("ChargingStationMaxProfile", 0)))
    good = csms.call(station, call.SetChargingProfile(evse_id=0, charging_profile=profile("ChargingStationMaxProfile", 63)))
    assert (on_evse.status, zero.status, good.status) == ("Rejected", "Rejected", "Accepted")
    report = csms.call(station, call.GetChargingProfiles(request_id=8, charging_profile={"charging_profile_id": [10]}))
    assert report.status == "Accepted"
    parts = wait_for(lambda: csms.reports.get((station, 8)), what="ReportChargingProfiles")
    assert parts[0][1][0]["charging_schedule"][0]["charging_schedule_period"][0]["limit"] == 63


def test_control_api_never_shows_private_keys(csms, simulator):
    station = STATIONS[2]
    key_files = list(simulator.state_dir.glob(f"{station}*.key"))
    assert key_files, "the CSR test left a pending key on the station"
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in key_files)
    text = __import__("requests").get(f"{simulator.control_url}/sim/stations/{station}", timeout=10).text
    assert "PRIVATE KEY" not in text and PASSWORD not in text
    key_body = key_files[0].read_text().splitlines()[1]
    assert key_body not in text
    password_row = [row for row in simulator.get(f"/sim/stations/{station}")["device_model"]
                    if row["variable"]["name"] == "BasicAuthPassword"]
    assert password_row[0]["attributes"]["value"] is None
    assert PASSWORD not in simulator.log.read_text()


def test_control_api_faults_local_change_and_factory_reset(csms, simulator):
    station = STATIONS[2]
    simulator.post(f"/sim/stations/{station}/faults", {"offline": True})
    wait_for(lambda: station not in csms.sessions, what="offline")
    changed = simulator.post(f"/sim/stations/{station}/local-change", {"variables": [
        {"component": "NetworkInterface", "component_instance": "Wired0", "variable": "AddressMode", "value": "Static"}]})
    assert changed["changed"] == ["NetworkInterface[Wired0]/AddressMode"]
    simulator.post(f"/sim/stations/{station}/faults", {"offline": False})
    wait_for(lambda: station in csms.sessions, what="back online")
    mode = {"component": {"name": "NetworkInterface", "instance": "Wired0"}, "variable": {"name": "AddressMode"}}
    assert csms.call(station, call.GetVariables(get_variable_data=[mode])).get_variable_result[0]["attribute_value"] == "Static"

    simulator.post(f"/sim/stations/{station}/factory-reset", {})
    wait_for(lambda: station in csms.sessions and simulator.get(f"/sim/stations/{station}")["connected"],
             what="reconnect after factory reset")
    described = simulator.get(f"/sim/stations/{station}")
    assert described["resets"] == 0 and described["local_list"]["version"] == 0
    added = simulator.post("/sim/stations", {"ids": ["SIM-CP-0100"]})["added"]
    assert added == ["SIM-CP-0100"]
    wait_for(lambda: ("SIM-CP-0100", "PowerUp") in csms.boots, what="added station boots")


def test_state_persists_across_restart(csms, simulator):
    station = STATIONS[0]
    assert _set(csms, station, "OCPPCommCtrlr", "OfflineThreshold", "123")["attribute_status"] == "Accepted"
    simulator.stop()
    wait_for(lambda: station not in csms.sessions, what="disconnect")
    simulator.start()
    wait_for(lambda: station in csms.sessions, what="reconnect after restart")
    assert _get(csms, station, ("OCPPCommCtrlr", "OfflineThreshold"))[0]["attribute_value"] == "123"
    assert simulator.get(f"/sim/stations/{station}")["network_profiles"]["2"]["ocppCsmsUrl"] == "ws://127.0.0.1:9/ocpp"


def test_two_hundred_stations_connect(csms, tmp_path):
    ids = [f"SIM-FLEET-{number:04d}" for number in range(200)]
    fleet = SimulatorProcess(tmp_path / "fleet", csms.url, PASSWORD, ids)
    started = time.monotonic()
    fleet.start()
    try:
        wait_for(lambda: sum(1 for station, _ in csms.boots if station.startswith("SIM-FLEET-")) >= 200,
                 timeout=60, interval=0.25, what="200 BootNotifications")
        elapsed = time.monotonic() - started
        print(f"\n200 stations connected and booted in {elapsed:.1f} s")
        items = fleet.get("/sim/stations")["items"]
        assert sum(item["connected"] for item in items) == 200
    finally:
        fleet.stop()
