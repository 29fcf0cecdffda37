"""The citrineos backend's own logic, without a CitrineOS: password hashes, reply matching and merging, CitrineOS's
write collisions, refusals of what CitrineOS 1.8.3 cannot send, and its options."""

from __future__ import annotations

import hashlib

import pytest

from ansible_collections.evcs.provisioning.plugins.module_utils.csms import citrineos
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CallError, CapabilityMissing, CsmsError
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.connection import backend_options
from ansible_collections.evcs.provisioning.plugins.module_utils.station.boot import reported_station

OPTIONS = {"message_store": {"host": "db", "user": "evcs_reader", "password": "s3cret"}}


def _backend(**options):
    merged = backend_options(citrineos.CitrineosCsms, dict(OPTIONS, **options))
    return citrineos.CitrineosCsms("http://127.0.0.1:8080", merged)


def _stored(password, salt="00ff", iterations=1000, length=64, digest="sha512"):
    derived = hashlib.pbkdf2_hmac(digest, password.encode(), salt.encode(), iterations, length).hex()
    return "PBKDF2:%d:%d:%s:%s:%s" % (iterations, length, digest, salt, derived)


def test_the_stored_pbkdf2_hash_is_checked_as_citrineos_writes_it():
    stored = _stored("correct horse battery")
    assert citrineos.password_matches(stored, "correct horse battery")
    assert not citrineos.password_matches(stored, "correct horse battery!")
    assert not citrineos.password_matches("plain", "plain")
    assert not citrineos.password_matches(None, "x")


def test_a_reply_matches_what_was_sent_even_with_defaults_citrineos_added():
    assert citrineos._subset({"type": "OnIdle"}, {"type": "OnIdle", "evseId": 0})
    assert not citrineos._subset({"type": "OnIdle"}, {"type": "Immediate"})
    assert citrineos._subset({"a": [{"b": 1}]}, {"a": [{"b": 1, "c": 2}]})
    assert not citrineos._subset({"a": [{"b": 1}]}, {"a": [{"b": 1}, {"b": 2}]})


def test_batches_are_merged_and_a_callerror_is_a_call_error():
    merged = citrineos.CitrineosCsms._merge([[3, "a", {"getVariableResult": [1]}], [3, "b", {"getVariableResult": [2]}]],
                                            "CP-1", "GetVariables")
    assert merged == {"getVariableResult": [1, 2]}
    with pytest.raises(CallError) as raised:
        citrineos.CitrineosCsms._merge([[4, "a", "NotSupported", "no", {}]], "CP-1", "Reset")
    assert raised.value.details["code"] == "NotSupported"


class _Response:
    def __init__(self, status):
        self.status_code = status


def test_only_citrineos_write_collisions_are_sent_again():
    assert citrineos._write_conflict(_Response(500), {"statusCode": 500, "message": "Validation error"})
    assert citrineos._write_conflict(_Response(200), [{"success": False, "payload": "Validation error"}])
    assert not citrineos._write_conflict(_Response(500), {"message": "stationId cannot be an array or an object"})
    assert not citrineos._write_conflict(_Response(200), [{"success": True}])


def test_what_citrineos_183_cannot_send_is_a_capability_refusal_before_anything_is_sent():
    backend = _backend()
    backend.ocpp_version = lambda station_id: "2.0.1"
    with pytest.raises(CapabilityMissing, match="not verifiable with backend citrineos: SendLocalList to station CP-1"):
        backend.call("CP-1", "SendLocalList", {"versionNumber": 1, "updateType": "Full"})
    with pytest.raises(CsmsError) as raised:
        backend.call("CP-1", "NoSuchAction", {})
    assert raised.value.kind == "unknown_action"
    assert backend.requests_made["ocpp"] == 0


def test_capabilities_follow_the_options():
    assert not _backend().has("prestage") and not _backend().has("sites")
    with_registrar = _backend(registrar={"host": "db", "user": "evcs_registrar"})
    assert with_registrar.has("prestage") and with_registrar.has("id_tokens")
    assert _backend().has("set_network_profile")
    assert not _backend(tenant_id=2).has("set_network_profile")
    assert not _backend().has("tariffs") and not _backend().has("local_list")


def test_a_missing_message_store_or_a_wrong_key_is_a_configuration_error_that_names_the_fix():
    with pytest.raises(CsmsError, match="message_store"):
        backend_options(citrineos.CitrineosCsms, {})
    with pytest.raises(CsmsError, match="evcs.provisioning.csms_citrineos"):
        backend_options(citrineos.CitrineosCsms, dict(OPTIONS, surprise=1))
    secrets = []
    backend_options(citrineos.CitrineosCsms, OPTIONS, secret=secrets.append)
    assert "s3cret" in secrets


class _Store:
    """CitrineOS's database as the backend reads it: ``"ChargingStations"`` and ``"OCPPMessages"`` rows."""

    def __init__(self, protocol, messages=(), frames_protocol=None):
        self.protocol = protocol
        self.frames_protocol = frames_protocol
        self.messages = list(messages)

    def run(self, sql, **params):
        if sql.startswith('SELECT protocol FROM "ChargingStations"'):
            return [[self.protocol]] if self.protocol is not False else []
        if sql.startswith('SELECT protocol FROM "OCPPMessages"'):
            return [[self.frames_protocol]] if self.frames_protocol else []
        if sql.startswith('SELECT "isOnline", "updatedAt", protocol'):
            return [[True, None, self.protocol]]
        if "action = 'BootNotification'" in sql and "origin = 'cs'" in sql:
            return [["boot-1", "2026-12-07T17:00:00Z", m] for m in self.messages if m[2] == "BootNotification"][-1:]
        if '"correlationId" = :correlation' in sql:
            return [[[3, params["correlation"], {"status": "Accepted", "interval": 300}]]]
        if "action = 'StatusNotification'" in sql:
            return [["2026-12-07T17:00:01Z", m] for m in self.messages if m[2] == "StatusNotification"]
        if "max(timestamp)" in sql:
            return [[None]]
        raise AssertionError("unexpected query: %s" % sql)


class _Sent:
    status_code = 200

    def __init__(self, body):
        self._body = body

    def json(self):
        return self._body


def _wired(protocol, reply=None, messages=()):
    """A backend on a fake CitrineOS: what it POSTs is recorded, the station answers ``reply``."""
    backend = _backend()
    backend._store = _Store(protocol, messages)
    posted = []

    def _http(method, path, params=None, json_body=None, write=False, tenant=None):
        posted.append((method, path, params, json_body, tenant))
        return _Sent([{"success": True, "payload": "sent"}])

    backend._http = _http
    backend._watermark = lambda: 0
    backend._await_reply = lambda station_id, action, payload, mark, count, timeout: dict(reply or {})
    return backend, posted


@pytest.mark.parametrize("action, path", [
    ("GetConfiguration", "/ocpp/1.6/configuration/getConfiguration"),
    ("ChangeConfiguration", "/ocpp/1.6/configuration/changeConfiguration"),
    ("Reset", "/ocpp/1.6/configuration/reset"),
    ("TriggerMessage", "/ocpp/1.6/configuration/triggerMessage"),
    ("SetChargingProfile", "/ocpp/1.6/smartcharging/setChargingProfile"),
    ("GetCompositeSchedule", "/ocpp/1.6/smartcharging/getCompositeSchedule"),
    ("UnlockConnector", "/ocpp/1.6/evdriver/unlockConnector"),
])
def test_a_16_station_is_sent_its_call_through_citrineos_16_route(action, path):
    backend, posted = _wired("ocpp1.6", reply={"status": "Accepted"})
    assert backend.call("CP-16", action, {"key": "HeartbeatInterval", "value": "300"}) == {"status": "Accepted"}
    assert posted == [("POST", path, {"identifier": "CP-16"}, {"key": "HeartbeatInterval", "value": "300"}, 1)]
    assert backend.requests_made["ocpp"] == 1


def test_a_201_station_keeps_the_201_routes():
    backend, posted = _wired("ocpp2.0.1", reply={"status": "Accepted"})
    backend.call("CP-1", "Reset", {"type": "OnIdle"})
    backend.call("CP-1", "SetNetworkProfile", {"configurationSlot": 1})
    assert [(item[1], item[4]) for item in posted] == [("/ocpp/2.0.1/configuration/reset", 1),
                                                       ("/ocpp/2.0.1/configuration/setNetworkProfile", 0)]


@pytest.mark.parametrize("action, capability", [
    ("SendLocalList", "local_list"),
    ("GetLocalListVersion", "local_list"),
    ("InstallCertificate", "send OCPP 1.6 InstallCertificate"),
    ("CertificateSigned", "send OCPP 1.6 CertificateSigned"),
    ("ExtendedTriggerMessage", "send OCPP 1.6 ExtendedTriggerMessage"),
    ("GetInstalledCertificateIds", "send OCPP 1.6 GetInstalledCertificateIds"),
])
def test_a_16_action_without_a_citrineos_route_is_not_verifiable_and_nothing_is_sent(action, capability):
    backend, posted = _wired("ocpp1.6")
    with pytest.raises(CapabilityMissing) as raised:
        backend.call("CP-16", action, {})
    assert raised.value.capability == capability
    assert str(raised.value).startswith("not verifiable with backend citrineos: %s to OCPP 1.6 station CP-16: "
                                        % action)
    assert "CitrineOS 1.8.3 has no /ocpp/1.6/ route that sends %s" % action in str(raised.value)
    assert posted == [] and backend.requests_made["ocpp"] == 0


def test_an_action_of_the_other_ocpp_version_is_a_clear_error_and_nothing_is_sent():
    backend, posted = _wired("ocpp1.6")
    with pytest.raises(CsmsError, match="station CP-16 speaks OCPP 1.6") as raised:
        backend.call("CP-16", "GetVariables", {"getVariableData": []})
    assert raised.value.kind == "unknown_action"
    backend, posted = _wired("ocpp2.0.1")
    with pytest.raises(CsmsError, match="not an OCPP 2.0.1 action") as raised:
        backend.call("CP-1", "GetConfiguration", {})
    assert raised.value.kind == "unknown_action" and posted == []


def test_the_ocpp_version_is_the_subprotocol_citrineos_recorded():
    assert _wired("ocpp1.6")[0].ocpp_version("CP-16") == "1.6"
    assert _wired("ocpp2.0.1")[0].ocpp_version("CP-1") == "2.0.1"
    assert _wired(None)[0].ocpp_version("CP-1") is None
    assert _wired(False)[0].ocpp_version("CP-1") is None


def test_a_station_citrineos_let_in_unknown_has_the_protocol_of_its_frames():
    # CitrineOS 1.8.3 records the protocol in "ChargingStations" only for a row that existed when the station
    # connected; an unknown station's row comes with its BootNotification, without it
    backend, posted = _wired(None, reply={"status": "Accepted"})
    backend._store.frames_protocol = "ocpp1.6"
    assert backend.ocpp_version("CT16-1") == "1.6"
    backend.call("CT16-1", "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "120"})
    assert posted[-1][1] == "/ocpp/1.6/configuration/changeConfiguration"


def test_the_connection_of_a_16_station_reads_its_16_boot_connectors_and_security_profile():
    boot = [2, "boot-1", "BootNotification", {"chargePointVendor": "EVCS Sim", "chargePointModel": "SimCharger AC11-16",
                                              "chargePointSerialNumber": "SIM-0005", "firmwareVersion": "1.0.0"}]
    status = [2, "st-1", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"}]
    backend, posted = _wired("ocpp1.6", reply={"configurationKey": [{"key": "SecurityProfile", "readonly": False,
                                                                      "value": "2"}]}, messages=[boot, status])
    backend.endpoints = {"2": "wss://citrineos.example.net:8443"}
    connection = backend.connection("CP-16")
    assert connection["ocpp_version"] == "1.6"
    assert connection["security_profile"] == 2
    assert connection["endpoint"] == "wss://citrineos.example.net:8443/CP-16"
    assert posted[0][1:4] == ("/ocpp/1.6/configuration/getConfiguration", {"identifier": "CP-16"},
                              {"key": ["SecurityProfile"]})
    assert connection["boot"]["status"] == "Accepted"
    assert reported_station(connection["boot"]) == {"serialNumber": "SIM-0005", "vendorName": "EVCS Sim",
                                                    "model": "SimCharger AC11-16", "firmwareVersion": "1.0.0"}
    assert connection["connectors"] == [{"evse_id": 0, "connector_id": 1, "status": "Available",
                                         "at": "2026-12-07T17:00:01.000Z"}]


def test_a_16_authorization_key_is_stored_as_the_text_citrineos_compares_or_refused_before_anything_is_stored():
    backend, posted = _wired("ocpp1.6")
    backend.set_station_password("CP-16", "staging-secret-1".encode().hex().upper())
    assert posted[-1][1] == "/data/configuration/password"
    assert posted[-1][3] == {"stationId": "CP-16", "password": "staging-secret-1", "setOnCharger": True}
    binary_key = "FF" * 20
    with pytest.raises(CsmsError, match="OCPP 1.6 station CP-16 as UTF-8 text") as raised:
        backend.set_station_password("CP-16", binary_key)
    assert raised.value.kind == "unsupported_credential" and len(posted) == 1
    with pytest.raises(CsmsError, match="security profile 3"):
        backend.verify_station_password("CP-16", binary_key)
    assert len(posted) == 1 and binary_key not in str(raised.value)


def test_a_201_password_is_stored_as_it_is():
    backend, posted = _wired("ocpp2.0.1")
    backend.set_station_password("CP-1", "FFFF-not-hex")
    assert posted[-1][3]["password"] == "FFFF-not-hex"
