"""The whole lab end to end: the real simulator on the real CSMS over ws and wss, with the real OpenBao PKI.

A station of its own (added through the simulator's control API, so the session's fleet is untouched) is moved
from security profile 1 to 2 and then to 3 exactly as the collection does it, through the CSMS REST passthrough:
trust anchor, certificate from a CSR made on the station and signed by OpenBao with the lab AppRole,
SetNetworkProfile, NetworkConfigurationPriority, Reset. Then the CSMS is killed and brought back with
``evcs-lab up``, and a fresh lab connects 200 stations.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.exceptions import InvalidMessage, InvalidStatus

from evcs_lab.cli import component_process
from evcs_lab.clients import LabState
from evcs_lab.paths import LabPaths

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lab_helpers import (  # noqa: E402
    key_and_csr as _key_and_csr, log_since as _log_since, profile_3_connect as _profile_3_connect, sign as _sign,
    write_client_files as _write_client_files,
)

STATION = "E2E-CP-0001"
FLEET_SIZE = 200
FLEET_UP_BUDGET_SECONDS = 60


# -- helpers ----------------------------------------------------------------------------------------------------
def _wait_for(predicate, what: str, timeout: float = 30.0):
    """Poll ``predicate`` until it returns something truthy; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"{what}: not reached within {timeout:.0f}s")
        time.sleep(0.2)


def _ocpp(lab, action: str, payload: dict, station_id: str = STATION) -> dict:
    return lab.csms.call(station_id, action, payload)


def _connection_on(lab, profile: int, station_id: str = STATION) -> dict | None:
    connection = lab.csms.connection(station_id)
    if connection and connection["online"] and connection["security_profile"] == profile:
        return connection
    return None


def _booted_on(lab, profile: int, status: str) -> dict | None:
    connection = _connection_on(lab, profile)
    return connection if connection and (connection["boot"] or {}).get("status") == status else None


def _sim_station(lab, station_id: str = STATION) -> dict:
    return lab.sim.station(station_id)


def _device_value(sim_state: dict, component: str, variable: str) -> str | None:
    for row in sim_state["device_model"]:
        if row["component"]["name"] == component and row["variable"]["name"] == variable:
            return row["attributes"]["value"]
    raise KeyError(f"{component}.{variable}")


def _set_variable(lab, component: str, variable: str, value: str) -> str:
    answer = _ocpp(lab, "SetVariables", {"setVariableData": [
        {"component": {"name": component}, "variable": {"name": variable}, "attributeValue": value}]})
    return answer["setVariableResult"][0]["attributeStatus"]


def _move_to_profile(lab, slot: int, profile: int, priority: str) -> dict:
    """SetNetworkProfile(slot, ws_urls[profile]), the new priority, Reset; the CSMS's view of the new connection."""
    before = lab.csms.connection(STATION)["connections_total"]
    connection_data = {"ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppInterface": "Wired0",
                       "ocppCsmsUrl": lab["csms"]["ws_urls"][str(profile)], "securityProfile": profile,
                       "messageTimeout": 30}
    answer = _ocpp(lab, "SetNetworkProfile", {"configurationSlot": slot, "connectionData": connection_data})
    assert answer["status"] == "Accepted"
    assert _set_variable(lab, "OCPPCommCtrlr", "NetworkConfigurationPriority", priority) == "RebootRequired"
    assert _ocpp(lab, "Reset", {"type": "Immediate"})["status"] == "Accepted"
    connection = _wait_for(lambda: _connection_on(lab, profile), f"{STATION} online on security profile {profile}")
    assert connection["connections_total"] > before
    _wait_for(lambda: _sim_station(lab)["slot"] == slot, f"the simulator's {STATION} in session on slot {slot}")
    return connection


def _new_csr(lab, previous: dict | None) -> dict | None:
    """The station's last SignCertificate, once it is not ``previous`` any more."""
    last = lab.csms.csr(STATION)
    return last if last and last != previous else None


def _same_certificate(first_pem: str, second_pem: str) -> bool:
    first, second = (x509.load_pem_x509_certificate(pem.encode()) for pem in (first_pem, second_pem))
    return first == second


def _foreign_certificate(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A client certificate for ``common_name`` from a CA the lab has never heard of."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Somebody Else's CA")])
    certificate = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
                   .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
                   .sign(ca_key, hashes.SHA256()))
    return key, certificate


# -- the station's way up -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def station(lab):
    """A factory-fresh station of this module's own, connected on profile 1."""
    lab.sim.add([STATION])
    _wait_for(lambda: _connection_on(lab, 1), f"{STATION} online on security profile 1")
    return STATION


def test_station_moves_to_profile_2(lab, station):
    root_pem = Path(lab["csms"]["root_ca_pem"]).read_text()
    installed = _ocpp(lab, "InstallCertificate", {"certificateType": "CSMSRootCertificate", "certificate": root_pem})
    assert installed["status"] == "Accepted"

    connection = _move_to_profile(lab, slot=2, profile=2, priority="2,1")

    assert connection["endpoint"] == f"{lab['csms']['ws_urls']['2']}/{station}"
    assert connection["client_certificate"] is None
    state = _sim_station(lab)
    assert state["connected"] and state["slot"] == 2 and state["security_profile"] == 2
    last = state["connect_history"][-1]
    assert last["url"].startswith("wss://") and last["security_profile"] == 2 and last["result"] == "connected"
    assert list(state["network_profiles"]) == ["2"], "A05.FR.06: the profile-1 slot 1 must be gone"
    assert _device_value(state, "OCPPCommCtrlr", "NetworkConfigurationPriority") == "2"


def test_station_moves_to_profile_3_with_a_certificate_made_on_it(lab, station):
    previous = lab.csms.csr(station)
    triggered = _ocpp(lab, "TriggerMessage", {"requestedMessage": "SignChargingStationCertificate"})
    assert triggered["status"] == "Accepted"
    csr = _wait_for(lambda: _new_csr(lab, previous), f"a CSR from {station}")
    assert csr["certificate_type"] == "ChargingStationCertificate"
    signed = _sign(lab, csr["csr"], station)
    chain = signed["certificate"].strip() + "\n" + signed["issuing_ca"].strip() + "\n"
    answer = _ocpp(lab, "CertificateSigned", {"certificateChain": chain, "certificateType": "ChargingStationCertificate"})
    assert answer["status"] == "Accepted"

    connection = _move_to_profile(lab, slot=3, profile=3, priority="3,2")

    assert connection["client_certificate"] and _same_certificate(connection["client_certificate"], signed["certificate"])
    state = _sim_station(lab)
    assert state["slot"] == 3 and state["security_profile"] == 3
    assert state["connect_history"][-1]["security_profile"] == 3
    assert list(state["network_profiles"]) == ["3"], "A05.FR.06: the profile-2 slot 2 must be gone"
    assert _device_value(state, "SecurityCtrlr", "SecurityProfile") == "3"
    assert "PRIVATE KEY" not in str(state)


@pytest.mark.parametrize("certificate", ["wrong common name", "foreign CA"])
def test_profile_3_refuses_a_certificate_that_is_not_the_stations(lab, station, certificate, tmp_path):
    _wait_for(lambda: _connection_on(lab, 3), f"{station} online on security profile 3")
    before = lab.csms.connection(station)
    csms_log = LabPaths.resolve(lab.home).log_file("csms")
    log_offset = csms_log.stat().st_size
    if certificate == "wrong common name":
        key, csr = _key_and_csr("E2E-SOMEONE-ELSE", lab["vault"]["organization"])
        certificate_pem = _sign(lab, csr, "E2E-SOMEONE-ELSE")["certificate"]
        refused_as, logged = InvalidStatus, "HTTP 403): client certificate CN ['E2E-SOMEONE-ELSE'] is not the station id"
    else:
        key, foreign = _foreign_certificate(station)
        certificate_pem = foreign.public_bytes(serialization.Encoding.PEM).decode()
        # TLS 1.3 checks the client certificate after the client's handshake: the client sees the connection closed
        refused_as, logged = InvalidMessage, "TLS handshake refused: unable to get local issuer certificate"
    key_path, cert_path = _write_client_files(tmp_path, key, certificate_pem)
    url = f"{lab['csms']['ws_urls']['3']}/{station}"

    with pytest.raises(refused_as):
        asyncio.run(_profile_3_connect(url, lab["csms"]["ca_cert"], cert_path, key_path))

    _wait_for(lambda: logged in _log_since(csms_log, log_offset), f"the CSMS log says why: {logged}", timeout=5)
    after = lab.csms.connection(station)
    assert after["connections_total"] == before["connections_total"]
    assert after["online"] and after["client_certificate"] == before["client_certificate"]


def test_read_only_variable_is_rejected_through_the_passthrough(lab, station):
    assert _set_variable(lab, "SecurityCtrlr", "SecurityProfile", "1") == "Rejected"
    assert _device_value(_sim_station(lab), "SecurityCtrlr", "SecurityProfile") == "3"


def test_csms_restart_keeps_its_records(lab, station, lab_cli):
    record = {"serial_number": f"SN-{station}", "model": "SimCharger AC22", "status": "active"}
    lab.csms.put_record("stations", station, record)
    _wait_for(lambda: _booted_on(lab, 3, "Accepted"), f"{station} Accepted once its record is active")
    connections_before = lab.csms.connection(station)["connections_total"]
    csms_process = component_process(LabPaths.resolve(lab.home), "csms")
    pid = csms_process.pid()

    os.kill(pid, signal.SIGKILL)
    _wait_for(lambda: csms_process.pid() is None, "the killed CSMS gone", timeout=10)
    again = lab_cli(lab.home, "up")

    assert again.returncode == 0, again.stdout + again.stderr
    restarted = LabState.load(lab.home)
    assert restarted["processes"]["csms"] != pid
    assert restarted["csms"] == lab["csms"], "the CSMS must come back on the same endpoints"
    stored = lab.csms.record("stations", station)
    assert {key: stored[key] for key in record} == record
    connection = _wait_for(lambda: _booted_on(lab, 3, "Accepted"), f"{station} back and Accepted on security profile 3")
    assert connection["connections_total"] > connections_before


# -- a fleet ------------------------------------------------------------------------------------------------------
@pytest.mark.integration
def test_fresh_lab_connects_two_hundred_stations(tmp_path, lab_cli):
    """``evcs-lab up --count 200`` in a fresh home: every station connected, as the CSMS sees it, within budget."""
    home = tmp_path / "fleet-lab"
    started = time.monotonic()
    try:
        up = lab_cli(home, "up", "--count", str(FLEET_SIZE))
        elapsed = time.monotonic() - started
        print(f"evcs-lab up --count {FLEET_SIZE} in a fresh home: {elapsed:.1f}s")
        assert up.returncode == 0, up.stdout + up.stderr
        fleet = LabState.load(home)
        assert len(fleet["simulator"]["stations"]) == FLEET_SIZE
        assert all(item["connected"] for item in fleet.sim.stations())
        offline = [station_id for station_id in fleet["simulator"]["stations"]
                   if not (fleet.csms.connection(station_id) or {}).get("online")]
        assert not offline, f"the CSMS does not see {len(offline)} station(s) online: {offline[:5]}"
        assert elapsed < FLEET_UP_BUDGET_SECONDS
    finally:
        lab_cli(home, "down", timeout=120)
