"""The Security Extension on the lab's 1.6J charge points and the reference CSMS, against the real OpenBao PKI.

A charge point of this module's own goes from profile 1 to 2 to 3 as the Security Extension has it: AuthorizationKey
(hex of a 16-20 byte password) registered at the CSMS and set on the charge point, CentralSystemRootCertificate,
the CentralSystemURL and SecurityProfile keys and a Reset; then a key pair and CSR made ON the charge point
(ExtendedTriggerMessage(SignChargePointCertificate), CN = serial number, O = CpoName), signed by OpenBao with the
collection's AppRole, CertificateSigned, profile 3. Other charge points show the fallback after a failed upgrade,
trust anchors by certificateHashData, the local list, the ChargePointMaxProfile read back with GetCompositeSchedule,
and SecurityEventNotification.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import secrets
import socket
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from websockets.exceptions import InvalidStatus

from evcs_lab.clients import LabApiError
from evcs_lab.paths import LabPaths

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lab_helpers import key_and_csr, log_since, profile_3_connect, sign, write_client_files  # noqa: E402
from sim_process import wait_for  # noqa: E402

pytestmark = pytest.mark.integration

SECURE = "T16-S-0001"


def _wait_for(predicate, what: str, timeout: float = 30.0):
    return wait_for(predicate, timeout=timeout, interval=0.2, what=what)


def _call(lab, station_id: str, action: str, payload: dict) -> dict:
    return lab.csms.call(station_id, action, payload)


def _change(lab, station_id: str, key: str, value: str) -> str:
    return _call(lab, station_id, "ChangeConfiguration", {"key": key, "value": value})["status"]


def _keys(lab, station_id: str, *keys: str) -> dict:
    answer = _call(lab, station_id, "GetConfiguration", {"key": list(keys)})
    return {item["key"]: item.get("value") for item in answer.get("configurationKey", [])}


def _online(lab, station_id: str, profile: int | None = None, after_total: int = 0) -> dict | None:
    connection = lab.csms.connection(station_id)
    if (connection and connection["online"] and connection["connections_total"] > after_total
            and (profile is None or connection["security_profile"] == profile)):
        return connection
    return None


def _new_station(lab, station_id: str) -> dict:
    lab.csms.put_record("stations", station_id, {"status": "active", "serial_number": f"SN-{station_id}"})
    lab.sim.add([station_id], ocpp_version="1.6")
    return _wait_for(lambda: (c := _online(lab, station_id, 1)) and (c["boot"] or {}).get("status") == "Accepted"
                     and c, f"{station_id} online and Accepted")


def _root_pem(lab) -> str:
    return Path(lab["csms"]["root_ca_pem"]).read_text()


def _hash_data(certificate: x509.Certificate, issuer: x509.Certificate) -> dict:
    """certificateHashData as the Security Extension defines it, computed here without the simulator's code."""
    public_key = issuer.public_key()
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        key_bytes = public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    else:
        assert isinstance(public_key, rsa.RSAPublicKey)
        key_bytes = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    return {"hashAlgorithm": "SHA256", "issuerNameHash": hashlib.sha256(issuer.subject.public_bytes()).hexdigest(),
            "issuerKeyHash": hashlib.sha256(key_bytes).hexdigest(), "serialNumber": format(certificate.serial_number, "x")}


def _self_signed(common_name: str, key: ec.EllipticCurvePrivateKey | None = None) -> x509.Certificate:
    key = key or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))


def _expired(csr: x509.CertificateSigningRequest, common_name: str) -> dict:
    """The charge point's own public key and CN in a certificate whose validity ended yesterday, and its CA."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _self_signed("Lab16 Expired Test CA", ca_key)
    now = datetime.datetime.now(datetime.timezone.utc)
    leaf = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(ca.subject).public_key(csr.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=30)).not_valid_after(now - datetime.timedelta(days=1))
            .sign(ca_key, hashes.SHA256()))
    return {"certificate": _pem(leaf), "issuing_ca": _pem(ca)}


def _pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _reset_and_wait(lab, station_id: str, profile: int) -> dict:
    before = lab.csms.connection(station_id)["connections_total"]
    assert _call(lab, station_id, "Reset", {"type": "Hard"})["status"] == "Accepted"
    return _wait_for(lambda: _online(lab, station_id, profile, before), f"{station_id} back on profile {profile}",
                     timeout=45)


def _new_csr(lab, station_id: str, previous: dict | None) -> dict | None:
    last = lab.csms.csr(station_id)
    return last if last and last != previous else None


def _request_csr(lab, station_id: str) -> x509.CertificateSigningRequest:
    previous = lab.csms.csr(station_id)
    answer = _call(lab, station_id, "ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"})
    assert answer["status"] == "Accepted"
    csr = _wait_for(lambda: _new_csr(lab, station_id, previous), f"a SignCertificate from {station_id}")
    assert csr["certificate_type"] is None, "1.6 SignCertificate has no certificateType"
    return x509.load_pem_x509_csr(csr["csr"].encode())


# -- the way up: profile 1 -> 2 -> 3 ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def secure(lab):
    _new_station(lab, SECURE)
    return SECURE


def test_security_profile_change_needs_its_prerequisites(lab, secure):
    assert _change(lab, secure, "SecurityProfile", "2") == "Rejected", "no CentralSystemRootCertificate yet"
    assert _change(lab, secure, "SecurityProfile", "3") == "Rejected", "no ChargePointCertificate yet"
    assert _change(lab, secure, "SecurityProfile", "4") == "Rejected"
    assert _change(lab, secure, "SecurityProfile", "two") == "Rejected"
    assert _keys(lab, secure, "SecurityProfile") == {"SecurityProfile": "1"}


@pytest.mark.parametrize("value", ["0123456789abcdef0123456789abcde", "0123456789abcdef0123456789abcdef012345678",
                                   "0123456789abcdef0123456789abcdef0123456789", "this is not hexadecimal at all!",
                                   "0123456789ABCDEF0123456789ABCDEG"])
def test_authorization_key_outside_the_format_is_rejected(lab, secure, value):
    assert _change(lab, secure, "AuthorizationKey", value) == "Rejected"


def test_authorization_key_rotation_reconnects_with_the_new_password(lab, secure):
    new_key = secrets.token_bytes(20).hex()
    lab.csms.http.request("POST", f"/api/stations/{secure}/credentials", json={"password": new_key})
    before = lab.csms.connection(secure)["connections_total"]
    assert _change(lab, secure, "AuthorizationKey", new_key) == "Accepted"
    connection = _wait_for(lambda: _online(lab, secure, 1, before), "the reconnect with the new AuthorizationKey")
    assert connection["ocpp_version"] == "1.6"
    assert lab.csms.http.request("GET", f"/api/stations/{secure}/credentials")["count"] == 1
    # the CSMS now admits only the new key: the staging password no longer works for this registered station
    assert lab.csms.http.request("POST", f"/api/stations/{secure}/credentials/verify",
                                 json={"password": new_key})["valid"] is True
    assert lab.csms.http.request("POST", f"/api/stations/{secure}/credentials/verify",
                                 json={"password": new_key.upper()})["valid"] is False


def test_a_profile_equal_to_the_current_one_is_rejected_and_nothing_reconnects(lab, secure):
    # A05.FR.01: a value lower than OR EQUAL to the current one is Rejected, the key unchanged, no reconnect
    before = lab.csms.connection(secure)["connections_total"]
    assert _change(lab, secure, "SecurityProfile", "1") == "Rejected"
    assert _change(lab, secure, "SecurityProfile", "0") == "Rejected"
    assert _keys(lab, secure, "SecurityProfile") == {"SecurityProfile": "1"}
    time.sleep(2)
    assert lab.csms.connection(secure)["connections_total"] == before


def test_profile_1_to_2_reconnects_by_itself_with_the_new_profile(lab, secure):
    # A05.FR.05-07: Accepted, then the charge point disconnects and reconnects with the new profile, no Reset needed
    installed = _call(lab, secure, "InstallCertificate", {"certificateType": "CentralSystemRootCertificate",
                                                          "certificate": _root_pem(lab)})
    assert installed["status"] == "Accepted"
    url2 = lab["csms"]["ws_urls"]["2"]
    resets = lab.sim.station(secure)["resets"]
    before = lab.csms.connection(secure)
    assert _change(lab, secure, "CentralSystemURL", url2) == "RebootRequired"
    assert _change(lab, secure, "SecurityProfile", "2") == "Accepted"

    connection = _wait_for(lambda: _online(lab, secure, 2, before["connections_total"]), f"{secure} back on profile 2")

    assert connection["endpoint"] == f"{url2}/{secure}" and connection["ocpp_version"] == "1.6"
    assert connection["boot"] == before["boot"], "a reconnect, not a reboot: no new BootNotification"
    assert _keys(lab, secure, "SecurityProfile", "CentralSystemURL") == {"SecurityProfile": "2", "CentralSystemURL": url2}
    state = lab.sim.station(secure)
    assert state["resets"] == resets
    assert state["last_good_connection"] == {"security_profile": 2, "url": url2}
    assert state["connect_history"][-1]["result"] == "connected"
    assert _change(lab, secure, "SecurityProfile", "1") == "Rejected", "a downgrade is refused"
    assert _change(lab, secure, "SecurityProfile", "2") == "Rejected", "the same profile is refused (A05.FR.01)"


def test_sign_charge_point_certificate_makes_the_csr_on_the_charge_point(lab, secure):
    organization = lab["vault"]["organization"]
    assert _change(lab, secure, "CpoName", organization) == "Accepted"
    csr = _request_csr(lab, secure)
    assert csr.is_signature_valid
    assert [a.value for a in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)] == [f"SN-{secure}"]
    assert [a.value for a in csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == [organization]
    assert "PRIVATE KEY" not in str(lab.sim.station(secure))


def test_certificate_signed_rejects_a_chain_that_is_not_the_charge_points(lab, secure):
    csr = _request_csr(lab, secure)
    serial = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    _, other_csr = key_and_csr(serial, lab["vault"]["organization"])
    foreign_key = sign(lab, other_csr, serial)
    wrong_name = sign(lab, csr.public_bytes(serialization.Encoding.PEM).decode(), secure)
    for signed in (foreign_key, wrong_name, _expired(csr, serial)):
        chain = signed["certificate"].strip() + "\n" + signed["issuing_ca"].strip() + "\n"
        assert _call(lab, secure, "CertificateSigned", {"certificateChain": chain})["status"] == "Rejected"
    assert _call(lab, secure, "CertificateSigned", {"certificateChain": "not a certificate"})["status"] == "Rejected"
    assert not any(entry["certificate_type"] == "ChargePointCertificate"
                   for entry in lab.sim.station(secure)["installed_certificates"])


def test_profile_2_to_3_with_a_certificate_from_the_charge_points_own_csr(lab, secure):
    csr = _request_csr(lab, secure)
    signed = sign(lab, csr.public_bytes(serialization.Encoding.PEM).decode(), f"SN-{secure}")
    chain = signed["certificate"].strip() + "\n" + signed["issuing_ca"].strip() + "\n"
    assert _call(lab, secure, "CertificateSigned", {"certificateChain": chain})["status"] == "Accepted"
    url3 = lab["csms"]["ws_urls"]["3"]
    before = lab.csms.connection(secure)["connections_total"]
    assert _change(lab, secure, "CentralSystemURL", url3) == "RebootRequired"
    assert _change(lab, secure, "SecurityProfile", "3") == "Accepted"

    connection = _wait_for(lambda: _online(lab, secure, 3, before), f"{secure} back on profile 3")

    presented = x509.load_pem_x509_certificate(connection["client_certificate"].encode())
    assert presented == x509.load_pem_x509_certificate(signed["certificate"].encode())
    assert presented.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == f"SN-{secure}"
    assert _change(lab, secure, "SecurityProfile", "2") == "Rejected", "a downgrade is refused"


def test_profile_3_checks_the_cn_against_the_reported_serial(lab, secure, tmp_path):
    _wait_for(lambda: _online(lab, secure, 3), f"{secure} on profile 3")
    before = lab.csms.connection(secure)
    csms_log = LabPaths.resolve(lab.home).log_file("csms")
    offset = csms_log.stat().st_size
    # a certificate of the right CA naming the charge point id, not its serial number
    key, csr = key_and_csr(secure, lab["vault"]["organization"])
    key_path, cert_path = write_client_files(tmp_path, key, sign(lab, csr, secure)["certificate"])
    url = f"{lab['csms']['ws_urls']['3']}/{secure}"
    with pytest.raises(InvalidStatus) as refused:
        asyncio.run(profile_3_connect(url, lab["csms"]["ca_cert"], cert_path, key_path, subprotocol="ocpp1.6"))
    assert refused.value.response.status_code == 403
    expected = f"client certificate CN ['{secure}'] is not the serial number 'SN-{secure}'"
    _wait_for(lambda: expected in log_since(csms_log, offset), "the CSMS log names the serial")
    after = lab.csms.connection(secure)
    assert after["online"] and after["connections_total"] == before["connections_total"]


def test_a_renewed_certificate_on_profile_3_reconnects_with_it(lab, secure):
    before = _wait_for(lambda: _online(lab, secure, 3), f"{secure} on profile 3")
    csr = _request_csr(lab, secure)
    signed = sign(lab, csr.public_bytes(serialization.Encoding.PEM).decode(), f"SN-{secure}")
    chain = signed["certificate"].strip() + "\n" + signed["issuing_ca"].strip() + "\n"
    assert _call(lab, secure, "CertificateSigned", {"certificateChain": chain})["status"] == "Accepted"
    expected = x509.load_pem_x509_certificate(signed["certificate"].encode())
    _wait_for(lambda: (c := _online(lab, secure, 3, before["connections_total"])) and
              x509.load_pem_x509_certificate(c["client_certificate"].encode()) == expected,
              "the reconnect with the renewed certificate")


# -- a charge point that needs a Reset -----------------------------------------------------------------------------
def test_with_the_fault_security_profile_at_reset_the_new_profile_waits_for_a_reset(lab):
    # the lab fault shows the other behaviour a CSMS meets: Accepted, the connection kept, the profile used from the
    # next Reset (OCTT TC_083 sends Reset Hard after the Accepted)
    station = "T16-S-0006"
    _new_station(lab, station)
    lab.sim.faults(station, security_profile_at_reset=True)
    url2 = lab["csms"]["ws_urls"]["2"]
    assert _call(lab, station, "InstallCertificate", {"certificateType": "CentralSystemRootCertificate",
                                                      "certificate": _root_pem(lab)})["status"] == "Accepted"
    before = lab.csms.connection(station)["connections_total"]
    assert _change(lab, station, "CentralSystemURL", url2) == "RebootRequired"
    assert _change(lab, station, "SecurityProfile", "2") == "Accepted"
    time.sleep(3)
    kept = lab.csms.connection(station)
    assert kept["online"] and kept["connections_total"] == before and kept["security_profile"] == 1

    connection = _reset_and_wait(lab, station, 2)

    assert connection["endpoint"] == f"{url2}/{station}"
    assert lab.sim.station(station)["resets"] == 1


# -- a failed upgrade -----------------------------------------------------------------------------------------
def test_a_charge_point_that_cannot_connect_with_the_new_profile_falls_back(lab):
    # A05.FR.08: the reconnect of A05.FR.07 fails, the charge point goes back to its previous profile settings
    station = "T16-S-0002"
    _new_station(lab, station)
    url1 = lab["csms"]["ws_urls"]["1"]
    assert _call(lab, station, "InstallCertificate", {"certificateType": "CentralSystemRootCertificate",
                                                      "certificate": _root_pem(lab)})["status"] == "Accepted"
    unreachable = f"wss://127.0.0.1:{_closed_port()}/ocpp"
    before = lab.csms.connection(station)["connections_total"]
    assert _change(lab, station, "CentralSystemURL", unreachable) == "RebootRequired"
    assert _change(lab, station, "SecurityProfile", "2") == "Accepted"

    connection = _wait_for(lambda: _online(lab, station, 1, before), f"{station} back on profile 1", timeout=45)

    assert connection["endpoint"] == f"{url1}/{station}"
    assert _keys(lab, station, "SecurityProfile", "CentralSystemURL") == {"SecurityProfile": "1", "CentralSystemURL": url1}
    state = lab.sim.station(station)
    history = state["connect_history"]
    failed = [entry for entry in history if entry["url"] == f"{unreachable}/{station}"
              and entry["security_profile"] == 2 and entry["result"].startswith("failed")]
    assert len(failed) >= 3, history
    fallback = [entry for entry in history if entry["result"].startswith("fallback to profile 1")]
    assert fallback and history.index(fallback[0]) > history.index(failed[2])
    assert state["resets"] == 0, "the fallback needs no Reset"


# -- trust anchors by hash data ---------------------------------------------------------------------------------
def test_trust_anchors_install_list_and_delete_by_hash_data(lab):
    station = "T16-S-0003"
    _new_station(lab, station)
    for certificate_type in ("CentralSystemRootCertificate", "ManufacturerRootCertificate"):
        answer = _call(lab, station, "GetInstalledCertificateIds", {"certificateType": certificate_type})
        assert answer == {"status": "NotFound"}, "nothing installed: NotFound and no certificateHashData"
    root = x509.load_pem_x509_certificate(_root_pem(lab).encode())
    manufacturer = _self_signed("EVCS Sim Manufacturer Root")
    assert _call(lab, station, "InstallCertificate", {"certificateType": "CentralSystemRootCertificate",
                                                      "certificate": _pem(root)})["status"] == "Accepted"
    assert _call(lab, station, "InstallCertificate", {"certificateType": "ManufacturerRootCertificate",
                                                      "certificate": _pem(manufacturer)})["status"] == "Accepted"
    assert _call(lab, station, "InstallCertificate", {"certificateType": "ManufacturerRootCertificate",
                                                      "certificate": "garbage"})["status"] == "Rejected"
    central = _call(lab, station, "GetInstalledCertificateIds", {"certificateType": "CentralSystemRootCertificate"})
    assert central == {"status": "Accepted", "certificateHashData": [_hash_data(root, root)]}
    theirs = _hash_data(manufacturer, manufacturer)
    listed = _call(lab, station, "GetInstalledCertificateIds", {"certificateType": "ManufacturerRootCertificate"})
    assert listed["certificateHashData"] == [theirs]
    upper = dict(theirs, issuerNameHash=theirs["issuerNameHash"].upper(), issuerKeyHash=theirs["issuerKeyHash"].upper())
    assert _call(lab, station, "DeleteCertificate", {"certificateHashData": upper})["status"] == "Accepted"
    assert _call(lab, station, "DeleteCertificate", {"certificateHashData": theirs})["status"] == "NotFound"
    assert _call(lab, station, "GetInstalledCertificateIds",
                 {"certificateType": "ManufacturerRootCertificate"}) == {"status": "NotFound"}


# -- local list, charging limit, security events -----------------------------------------------------------------
@pytest.fixture(scope="module")
def plain(lab):
    _new_station(lab, "T16-S-0004")
    return "T16-S-0004"


def _entry(id_tag: str, status: str | None = "Accepted") -> dict:
    return {"idTag": id_tag, **({"idTagInfo": {"status": status}} if status else {})}


def test_local_list_full_and_differential_with_16_semantics(lab, plain):
    assert _call(lab, plain, "GetLocalListVersion", {}) == {"listVersion": 0}
    full = {"listVersion": 3, "updateType": "Full", "localAuthorizationList": [_entry("TAG-A"), _entry("TAG-B")]}
    assert _call(lab, plain, "SendLocalList", full)["status"] == "Accepted"
    assert _call(lab, plain, "GetLocalListVersion", {}) == {"listVersion": 3}
    stale = {"listVersion": 3, "updateType": "Differential", "localAuthorizationList": [_entry("TAG-C")]}
    assert _call(lab, plain, "SendLocalList", stale)["status"] == "VersionMismatch"
    delta = {"listVersion": 4, "updateType": "Differential",
             "localAuthorizationList": [_entry("TAG-A", None), _entry("TAG-C", "Blocked")]}
    assert _call(lab, plain, "SendLocalList", delta)["status"] == "Accepted"
    local_list = lab.sim.station(plain)["local_list"]
    assert local_list["version"] == 4
    assert {entry["idTag"]: entry["idTagInfo"]["status"] for entry in local_list["entries"]} == {
        "TAG-B": "Accepted", "TAG-C": "Blocked"}
    too_many = {"listVersion": 5, "updateType": "Full",
                "localAuthorizationList": [_entry(f"TAG-{n}") for n in range(21)]}
    with pytest.raises(LabApiError) as refused:
        _call(lab, plain, "SendLocalList", too_many)
    assert refused.value.body["details"]["code"] == "OccurenceConstraintViolation"
    assert _call(lab, plain, "GetLocalListVersion", {}) == {"listVersion": 4}


def _max_profile(profile_id: int, limit: float, unit: str = "A", stack_level: int = 0) -> dict:
    return {"chargingProfileId": profile_id, "stackLevel": stack_level, "chargingProfilePurpose": "ChargePointMaxProfile",
            "chargingProfileKind": "Absolute", "chargingSchedule": {
                "chargingRateUnit": unit, "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}]}}


def _composite_limit(lab, station_id: str, **extra) -> dict:
    return _call(lab, station_id, "GetCompositeSchedule", {"connectorId": 0, "duration": 3600, **extra})


def test_charge_point_max_profile_on_connector_0_read_back_by_composite_schedule(lab, plain):
    assert _keys(lab, plain, "ChargingScheduleAllowedChargingRateUnit") == {
        "ChargingScheduleAllowedChargingRateUnit": "Current"}
    unlimited = _composite_limit(lab, plain)
    assert unlimited["status"] == "Accepted"
    assert unlimited["chargingSchedule"]["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 16}]
    assert _call(lab, plain, "SetChargingProfile", {"connectorId": 0, "csChargingProfiles": _max_profile(
        1, 11000, unit="W")})["status"] == "Rejected", "this model allows Current only"
    assert _call(lab, plain, "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": _max_profile(
        1, 12)})["status"] == "Rejected", "ChargePointMaxProfile belongs on connector 0"
    assert _call(lab, plain, "SetChargingProfile", {"connectorId": 0, "csChargingProfiles": _max_profile(
        1, 12)})["status"] == "Accepted"
    assert _composite_limit(lab, plain)["chargingSchedule"] == {
        "duration": 3600, "startSchedule": _composite_limit(lab, plain)["chargingSchedule"]["startSchedule"],
        "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 12}]}
    # the same purpose and stackLevel on the same connector replaces it
    assert _call(lab, plain, "SetChargingProfile", {"connectorId": 0, "csChargingProfiles": _max_profile(
        2, 10)})["status"] == "Accepted"
    assert [stored["profile"]["chargingProfileId"] for stored in lab.sim.station(plain)["charging_profiles"]] == [2]
    assert _composite_limit(lab, plain)["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 10
    assert _composite_limit(lab, plain, chargingRateUnit="W") == {"status": "Rejected"}
    cleared = _call(lab, plain, "ClearChargingProfile", {"chargingProfilePurpose": "ChargePointMaxProfile"})
    assert cleared["status"] == "Accepted"
    assert _composite_limit(lab, plain)["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 16


def test_a_limit_with_a_decimal_fraction_reaches_the_charge_point_and_reads_back_unchanged(lab, plain):
    # the 1.6 schema gives a schedule's limit one decimal (multipleOf 0.1): 6.1 A is valid and must pass the CSMS relay
    # (a binary float 6.1 is not a multiple of 0.1 for jsonschema, the decimal 6.1 is), be kept by the charge point and
    # come back as 6.1; 7.05 A is not valid 1.6 and is refused before it is sent
    assert _call(lab, plain, "SetChargingProfile", {"connectorId": 0, "csChargingProfiles": _max_profile(
        3, 6.1)})["status"] == "Accepted"
    stored = lab.sim.station(plain)["charging_profiles"]
    assert [item["profile"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] for item in stored] == [6.1]
    assert _composite_limit(lab, plain)["chargingSchedule"]["chargingSchedulePeriod"] == [{"startPeriod": 0,
                                                                                          "limit": 6.1}]
    with pytest.raises(LabApiError) as refused:
        _call(lab, plain, "SetChargingProfile", {"connectorId": 0, "csChargingProfiles": _max_profile(4, 7.05)})
    assert refused.value.status == 400 and "multipleOf 0.1" in refused.value.body["message"]
    assert _call(lab, plain, "ClearChargingProfile", {"id": 3})["status"] == "Accepted"


def test_security_event_notification_is_kept_by_the_csms(lab, plain):
    cursor = lab.csms.events("now")["cursor"]
    lab.sim.security_event(plain, "SettingSystemTime", "clock set by the lab")
    event = _wait_for(lambda: next((item for item in lab.csms.events(cursor)["items"]
                                    if item["station_id"] == plain and item["type"] == "security_event"), None),
                      "the security_event")
    assert event["data"]["event_type"] == "SettingSystemTime" and "clock set" not in str(event)
    kept = lab.csms.http.request("GET", f"/api/stations/{plain}/messages",
                                 params={"action": "SecurityEventNotification"})["items"]
    assert kept[-1]["payload"]["type"] == "SettingSystemTime" and kept[-1]["payload"]["techInfo"]


def test_a_refused_key_is_reported_with_a_security_event_once_back(lab):
    """A key the CSMS does not know locks the charge point out (401) until the CSMS knows it; then the charge point
    reports what happened while it was away (SecurityEventNotification FailedToAuthenticateAtCentralSystem)."""
    station = "T16-S-0005"
    _new_station(lab, station)
    unknown_key = secrets.token_bytes(16).hex()
    lab.csms.http.request("PUT", f"/api/stations/{station}/credentials", json={"passwords": [secrets.token_hex(20)]})
    assert _change(lab, station, "AuthorizationKey", unknown_key) == "Accepted"
    _wait_for(lambda: not lab.csms.connection(station)["online"], "the charge point refused")
    _wait_for(lambda: any("InvalidStatus" in entry["result"] and "401" in entry["result"]
                          for entry in lab.sim.station(station)["connect_history"]), "a 401 in the connect history")
    lab.csms.http.request("POST", f"/api/stations/{station}/credentials", json={"password": unknown_key})
    _wait_for(lambda: _online(lab, station, 1), "the charge point back with the key the CSMS now knows", timeout=45)
    kept = _wait_for(lambda: lab.csms.http.request("GET", f"/api/stations/{station}/messages",
                                                   params={"action": "SecurityEventNotification"})["items"],
                     "the security event")
    assert kept[0]["payload"]["type"] == "FailedToAuthenticateAtCentralSystem"
