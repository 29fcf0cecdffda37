"""The CSMS backend contract: every registered backend (``csms/registry.py``) against its real CSMS.

Each test runs once per backend name in the registry, through the fixture ``contract_<name>`` that returns a
:class:`ContractTarget` (the backend, where a new station connects, its password). A backend without such a fixture
fails here, so registering a backend means testing it. A backend whose CSMS is not available skips with a message
that says how to enable it. Stations are real OCPP 2.0.1 clients (the ``ocpp`` library over ``websockets``, schema
validation on) run in a thread by :class:`OnlineStation`.

Adding a backend: register it, then add one fixture ``contract_<name>`` below (see ``contract_reference``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import random
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, Optional

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from ocpp.routing import after, on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from ansible_collections.evcs.provisioning.plugins.module_utils.csms import registry
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import (
    CapabilityMissing, CallError, CsmsBackend, CsmsError, StationOffline, StationTimeout,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.connection import csms_backend
from ansible_collections.evcs.provisioning.plugins.module_utils.records import normalise

pytestmark = pytest.mark.integration


# -- what a backend's fixture returns -----------------------------------------------------------------------------
@dataclass
class ContractTarget:
    """One CSMS behind one backend, as the contract tests use it."""

    #: the backend under test, built as a module builds it (``csms_backend(params)``)
    backend: CsmsBackend
    #: the websocket URL a new station with this id connects to (unknown stations allowed; profile 0 or 1)
    station_url: Callable[[str], str]
    #: the Basic auth password such a station sends (None: none)
    station_password: Optional[str] = None
    #: the URL of an endpoint that checks the stored Basic auth password (security profile 1 or 2); None: not tested
    password_url: Optional[Callable[[str], str]] = None
    #: TLS client context for wss URLs
    tls: Optional[ssl.SSLContext] = None
    #: seconds a station may take until the CSMS shows what it sent (a CSMS with a message queue needs more)
    settle: float = 10.0
    extra: dict = field(default_factory=dict)


@pytest.fixture(scope="module")
def contract_reference(lab):
    """The lab's reference CSMS (its REST API is the contract docs/BACKENDS.md publishes)."""
    csms = lab["csms"]
    backend = csms_backend({"csms_backend": "reference", "csms_url": csms["api_url"], "csms_token": csms["api_token"],
                            "csms_ca_path": csms["ca_cert"], "csms_validate_certs": True, "csms_timeout": 30,
                            "csms_retries": 1})
    url = csms["ws_urls"]["1"]
    return ContractTarget(backend=backend, station_url=lambda station_id: "%s/%s" % (url, station_id),
                          station_password=csms["staging_password"],
                          password_url=lambda station_id: "%s/%s" % (url, station_id))


@pytest.fixture(scope="module")
def contract_citrineos(citrineos_lab):
    """A real CitrineOS 1.8.3 (``evcs-lab up --csms citrineos``, started once per session): replies from its message
    store, throw-away stations on its profile-0 endpoint (unknown stations allowed there only)."""
    csms = citrineos_lab["csms"]
    backend = csms_backend({"csms_backend": "citrineos", "csms_url": csms["api_url"], "csms_timeout": 30,
                            "csms_retries": 1, "csms_options": csms["options"]})
    url = csms["contract_ws_url"]
    return ContractTarget(backend=backend, station_url=lambda station_id: "%s/%s" % (url, station_id), settle=15.0)


@pytest.fixture(params=registry.backend_names())
def contract(request):
    """The ContractTarget of each registered backend (fixture ``contract_<name>``)."""
    name = request.param
    try:
        target = request.getfixturevalue("contract_%s" % name)
    except pytest.FixtureLookupError:
        pytest.fail("backend %s is registered but has no contract fixture: add contract_%s to %s"
                    % (name, name, __file__))
    assert target.backend.NAME == name
    return target


# -- a real OCPP 2.0.1 station in a thread --------------------------------------------------------------------------
def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ContractStation(ChargePoint):
    """Answers what the contract needs: GetVariables, TriggerMessage (SignChargingStationCertificate, StatusNotification;
    BootNotification Rejected once booted, F06.FR.17), GetChargingProfiles reported in two parts, Reset; ClearCache is
    answered only after a minute (a station too slow to answer); anything else is NotImplemented."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.csrs = []
        self.connector_state = "Occupied"

    @on(Action.get_variables)
    def on_get_variables(self, get_variable_data, **_):
        return call_result.GetVariables(get_variable_result=[
            {"attribute_status": "Accepted", "component": item["component"], "variable": item["variable"],
             "attribute_value": "%s.%s" % (item["component"]["name"], item["variable"]["name"])}
            for item in get_variable_data])

    @on(Action.trigger_message)
    def on_trigger_message(self, requested_message, **_):
        known = ("SignChargingStationCertificate", "StatusNotification")
        return call_result.TriggerMessage(status="Accepted" if requested_message in known else "Rejected")

    @after(Action.trigger_message)
    async def after_trigger_message(self, requested_message, **_):
        if requested_message == "SignChargingStationCertificate":
            csr = (x509.CertificateSigningRequestBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.id)]))
                   .sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode())
            self.csrs.append(csr)
            await self.call(call.SignCertificate(csr=csr, certificate_type="ChargingStationCertificate"))
        elif requested_message == "StatusNotification":
            await self.call(call.StatusNotification(timestamp=_now(), connector_status=self.connector_state, evse_id=1,
                                                    connector_id=1))

    @on(Action.get_charging_profiles)
    def on_get_charging_profiles(self, request_id, charging_profile, **_):
        return call_result.GetChargingProfiles(status="Accepted")

    @after(Action.get_charging_profiles)
    async def after_get_charging_profiles(self, request_id, **_):
        profile = {"id": 7, "stack_level": 0, "charging_profile_purpose": "ChargingStationMaxProfile",
                   "charging_profile_kind": "Absolute",
                   "charging_schedule": [{"id": 1, "charging_rate_unit": "A",
                                          "charging_schedule_period": [{"start_period": 0, "limit": 16.0}]}]}
        for evse_id, tbc in ((0, True), (1, False)):
            await self.call(call.ReportChargingProfiles(request_id=request_id, charging_limit_source="CSO",
                                                        charging_profile=[profile], evse_id=evse_id, tbc=tbc))

    @on(Action.reset)
    def on_reset(self, type, **_):  # pylint: disable=redefined-builtin
        return call_result.Reset(status="Accepted")

    @on(Action.clear_cache)
    async def on_clear_cache(self, **_):
        await asyncio.sleep(60)
        return call_result.ClearCache(status="Accepted")


class OnlineStation:
    """``with OnlineStation(url, station_id, password) as station:`` a station connected in a thread of its own; it
    sends BootNotification(PowerUp) first unless ``boot=False`` (a reconnect, not a power-up)."""

    def __init__(self, url, station_id, password=None, tls=None, boot=True):
        self.url, self.station_id, self.password, self.tls, self.boot = url, station_id, password, tls, boot
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.station = None
        self._stack = None
        self.boot_status = None

    def run(self, coroutine, timeout=30):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def _open(self):
        headers = None
        if self.password is not None:
            token = base64.b64encode(("%s:%s" % (self.station_id, self.password)).encode()).decode()
            headers = {"Authorization": "Basic %s" % token}
        self._stack = contextlib.AsyncExitStack()
        websocket = await self._stack.enter_async_context(connect(
            self.url, subprotocols=["ocpp2.0.1"], additional_headers=headers, ssl=self.tls, open_timeout=10))
        self.station = ContractStation(self.station_id, websocket)
        self._task = asyncio.ensure_future(self.station.start())
        if self.boot:
            answer = await self.station.call(call.BootNotification(
                charging_station={"model": "Contract", "vendor_name": "evcs-tests", "serial_number": "SN-" + self.station_id},
                reason="PowerUp"))
            self.boot_status = answer.status
        return self

    async def _close(self):
        self._task.cancel()
        await self._stack.aclose()

    def __enter__(self):
        self.thread.start()
        try:
            return self.run(self._open())
        except BaseException:
            self._stop_loop()
            raise

    def __exit__(self, *exc):
        try:
            self.run(self._close())
        finally:
            self._stop_loop()

    def _stop_loop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def _station(target, station_id, boot=True, password=None):
    return OnlineStation(target.station_url(station_id), station_id,
                         target.station_password if password is None else password, target.tls, boot)


def _new_id(prefix="CT"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8].upper())


def _eventually(read, check, timeout):
    """Read until ``check(value)`` holds; the last value either way."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if check(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def _requires(target, capability):
    if not target.backend.has(capability):
        pytest.skip("backend %s does not declare %s (its refusal is tested in test_capability_refusals)"
                    % (target.backend.NAME, capability))


# -- station channel ------------------------------------------------------------------------------------------------
def test_call_returns_the_station_response_and_a_callerror_as_call_error(contract):
    station_id = _new_id()
    request = {"getVariableData": [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]}
    with _station(contract, station_id):
        answer = contract.backend.call(station_id, "GetVariables", request, timeout=20)
        with pytest.raises(CallError) as refused:
            contract.backend.call(station_id, "DataTransfer", {"vendorId": "evcs-tests"}, timeout=20)
    assert answer["getVariableResult"][0]["attributeValue"] == "OCPPCommCtrlr.HeartbeatInterval"
    assert answer["getVariableResult"][0]["attributeStatus"] == "Accepted"
    assert refused.value.kind == "call_error" and refused.value.details.get("code") == "NotImplemented"


def test_a_station_that_does_not_answer_in_time_is_a_station_timeout(contract):
    station_id = _new_id()
    with _station(contract, station_id):
        started = time.monotonic()
        with pytest.raises(StationTimeout) as late:
            contract.backend.call(station_id, "ClearCache", {}, timeout=2)
        waited = time.monotonic() - started
    assert late.value.kind == "station_timeout" and late.value.transient
    assert 1.5 <= waited < 20, waited


def test_an_offline_station_is_station_offline_and_a_never_seen_one_has_no_connection(contract):
    never = _new_id("CT-NEVER")
    with pytest.raises(StationOffline) as offline:
        contract.backend.call(never, "GetVariables", {"getVariableData": [
            {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]}, timeout=5)
    assert offline.value.kind == "station_offline" and never in str(offline.value)
    assert contract.backend.connection(never) is None
    gone = _new_id()
    with _station(contract, gone):
        pass
    seen = _eventually(lambda: contract.backend.connection(gone), lambda view: view and not view["online"],
                       contract.settle)
    assert seen is not None and seen["online"] is False
    with pytest.raises(StationOffline):
        contract.backend.call(gone, "Reset", {"type": "Immediate"}, timeout=5)


def test_the_csr_a_station_sends_after_a_point_in_time_is_awaited(contract):
    _requires(contract, "station_messages")
    station_id = _new_id()
    with _station(contract, station_id) as online:
        since = contract.backend.now()
        answer = contract.backend.call(station_id, "TriggerMessage",
                                       {"requestedMessage": "SignChargingStationCertificate"}, timeout=20)
        assert answer["status"] == "Accepted"
        messages = contract.backend.wait_for_message(station_id, "SignCertificate", since, contract.settle)
        later = contract.backend.now()
        started = time.monotonic()
        with pytest.raises(StationTimeout):
            contract.backend.wait_for_message(station_id, "SignCertificate", later, 1)
        waited = time.monotonic() - started
    assert [message["payload"]["csr"] for message in messages] == online.station.csrs
    assert messages[0]["payload"]["certificateType"] == "ChargingStationCertificate"
    assert messages[0]["action"] == "SignCertificate" and messages[0]["received_at"] >= since
    assert waited < 5


def test_a_report_sent_in_parts_is_awaited_to_its_last_part(contract):
    _requires(contract, "station_messages")
    station_id = _new_id()
    request_id = random.randint(1, 2 ** 31 - 1)
    with _station(contract, station_id):
        answer = contract.backend.call(station_id, "GetChargingProfiles", {
            "requestId": request_id, "chargingProfile": {"chargingProfilePurpose": "ChargingStationMaxProfile"}},
            timeout=20)
        assert answer["status"] == "Accepted"
        parts = contract.backend.wait_for_message(station_id, "ReportChargingProfiles", None, contract.settle,
                                                  request_id=request_id)
    assert [(part["payload"]["evseId"], bool(part["payload"].get("tbc"))) for part in parts] == [(0, True), (1, False)]
    assert parts[1]["payload"]["chargingProfile"][0]["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"] == 16


def test_last_boot_and_connector_status_are_kept_across_a_reconnect(contract):
    _requires(contract, "station_status")
    station_id = _new_id()
    with _station(contract, station_id) as first:
        assert first.boot_status in ("Accepted", "Pending")
        contract.backend.call(station_id, "TriggerMessage", {"requestedMessage": "StatusNotification",
                                                             "evse": {"id": 1, "connectorId": 1}}, timeout=20)
        status = _eventually(lambda: contract.backend.connector_status(station_id), lambda found: (1, 1) in found,
                             contract.settle)
        boot = contract.backend.last_boot(station_id)
    assert status[(1, 1)]["status"] == "Occupied"
    assert boot["reason"] == "PowerUp" and boot["status"] == first.boot_status and boot["at"]
    with _station(contract, station_id, boot=False):
        view = _eventually(lambda: contract.backend.connection(station_id), lambda found: found and found["online"],
                           contract.settle)
        assert view["online"] is True
        assert contract.backend.last_boot(station_id) == boot, "a reconnect is not a boot"
        assert contract.backend.connector_status(station_id)[(1, 1)]["status"] == "Occupied"


# -- registry ---------------------------------------------------------------------------------------------------------
def _sample(kind, unique):
    """A record of ``kind`` in the collection's own field names."""
    return {
        "station": {"serial_number": "SN-%s" % unique, "vendor": "evcs-tests", "model": "Contract",
                    "status": "active", "heartbeat_interval": 300,
                    "evses": [{"id": 1, "connectors": [{"id": 1, "type": "cType2", "format": "Socket",
                                                        "power_type": "AC_3_PHASE", "max_voltage": 230,
                                                        "max_amperage": 32, "max_electric_power": 22080}]}]},
        "site": {"name": "Depot %s" % unique, "timezone": "Europe/Berlin", "access": "public",
                 "address": {"street": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country": "DE"},
                 "coordinates": {"latitude": 52.52, "longitude": 13.405}, "operator": {"name": "ACME"}},
        "tariff": {"name": "Standard %s" % unique, "currency": "EUR", "price_per_kwh": 0.39, "session_fee": 0.5},
        "id_token": {"id_token": unique, "type": "ISO14443", "status": "Accepted", "group": "contract-%s" % unique},
    }[kind]


_CHANGE = {"station": ("model", "Contract II"), "site": ("name", "Renamed depot %s"), "tariff": ("price_per_kwh", 0.42),
           "id_token": ("status", "Blocked")}
_FILTER = {"station": "serial_number", "site": "name", "tariff": "name", "id_token": "group"}


def _kept(backend, kind, record, data):
    fields = set(backend.record_fields(kind)) & set(data)
    return dict((key, normalise(record.get(key))) for key in fields), dict((key, normalise(data[key])) for key in fields)


@pytest.mark.parametrize("kind", ["station", "site", "tariff", "id_token"])
def test_records_create_read_update_find_delete(contract, kind):
    backend = contract.backend
    unique = uuid.uuid4().hex[:8].upper()
    record_id = "CT-%s" % unique if kind != "id_token" else "contract-%s.%s" % (unique, unique)
    try:
        backend.record_fields(kind)
    except CapabilityMissing:
        pytest.skip("backend %s keeps no %s records (its refusal is tested in test_capability_refusals)"
                    % (backend.NAME, kind))
    if kind == "station" and not backend.has("prestage"):
        pytest.skip("backend %s cannot register a station before its first boot" % backend.NAME)
    data = _sample(kind, unique)
    assert backend.read_record(kind, record_id) is None
    created = backend.create_record(kind, record_id, data)
    assert created["id"] == record_id
    read = backend.read_record(kind, record_id)
    got, wanted = _kept(backend, kind, read, data)
    assert got == wanted and read["id"] == record_id
    field_name, value = _CHANGE[kind]
    value = value % unique if isinstance(value, str) and "%s" in value else value
    if field_name in backend.record_fields(kind):
        backend.update_record(kind, record_id, {field_name: value})
        changed = backend.read_record(kind, record_id)
        assert normalise(changed[field_name]) == normalise(value)
        got, wanted = _kept(backend, kind, changed, dict(data, **{field_name: value}))
        assert got == wanted, "an update changes only the fields it names"
    key = _FILTER[kind]
    if key in backend.record_fields(kind):
        current = backend.read_record(kind, record_id)[key]
        found = backend.find_records(kind, **{key: current})
        assert [record["id"] for record in found] == [record_id]
    assert backend.delete_record(kind, record_id) is True
    assert backend.read_record(kind, record_id) is None
    assert backend.delete_record(kind, record_id) is False


def test_the_local_list_memory_follows_the_station_record(contract):
    _requires(contract, "local_list")
    backend = contract.backend
    station_id = _new_id()
    if backend.has("prestage"):
        backend.create_record("station", station_id, _sample("station", station_id))
    else:
        with _station(contract, station_id):
            pass
    assert backend.local_list_memory(station_id) is None
    memory = {"version": 3, "hash": "ab" * 32, "entries": {"ISO14443:A1": "Accepted"}}
    backend.remember_local_list(station_id, memory)
    assert backend.local_list_memory(station_id) == memory


# -- the station's credential ----------------------------------------------------------------------------------------
def _connects(target, station_id, password):
    try:
        with OnlineStation(target.password_url(station_id), station_id, password, target.tls):
            return True
    except InvalidStatus as refused:
        assert refused.response.status_code in (401, 403, 404), refused.response.status_code
        return False


def test_station_credentials_are_what_the_csms_accepts(contract):
    backend = contract.backend
    station_id = _new_id()
    first, second = "Pw-%s-first-0123" % uuid.uuid4().hex[:6], "Pw-%s-second-0123" % uuid.uuid4().hex[:6]
    with _station(contract, station_id):
        pass
    if backend.has("prestage"):
        backend.create_record("station", station_id, _sample("station", station_id))
    backend.set_station_password(station_id, first)
    if backend.has("password_check"):
        assert backend.verify_station_password(station_id, first) is True
        assert backend.verify_station_password(station_id, second) is False
    if contract.password_url is not None:
        assert _connects(contract, station_id, first) and not _connects(contract, station_id, second)
    if backend.has("password_rotation"):
        backend.add_station_password(station_id, second)
        if backend.has("password_check"):
            assert backend.verify_station_password(station_id, first) and backend.verify_station_password(station_id, second)
        if contract.password_url is not None:
            assert _connects(contract, station_id, first) and _connects(contract, station_id, second)
    backend.set_station_password(station_id, second)
    if backend.has("password_check"):
        assert backend.verify_station_password(station_id, first) is False
        assert backend.verify_station_password(station_id, second) is True
    if contract.password_url is not None:
        assert not _connects(contract, station_id, first) and _connects(contract, station_id, second)


# -- capabilities -------------------------------------------------------------------------------------------------------
_GATED = {
    "password_rotation": lambda backend, station_id: backend.add_station_password(station_id, "Pw-gated-0123456789"),
    "password_check": lambda backend, station_id: backend.verify_station_password(station_id, "Pw-gated-0123456789"),
    "network_profile_memory": lambda backend, station_id: backend.sent_network_profiles(station_id),
    "local_list": lambda backend, station_id: backend.local_list_memory(station_id),
    "station_messages": lambda backend, station_id: backend.messages(station_id, "SignCertificate"),
    "sites": lambda backend, station_id: backend.record_fields("site"),
    "tariffs": lambda backend, station_id: backend.record_fields("tariff"),
    "id_tokens": lambda backend, station_id: backend.record_fields("id_token"),
}


def test_capability_refusals(contract):
    """What a backend declares works; what it does not declare is refused with CapabilityMissing (kind
    capability_missing, a line naming the backend), never another error."""
    backend = contract.backend
    station_id = _new_id()
    with _station(contract, station_id):
        pass
    try:
        backend.create_record("station", station_id, _sample("station", station_id))
    except CapabilityMissing:
        pass
    outcomes = {}
    for capability, use in sorted(_GATED.items()):
        try:
            use(backend, station_id)
            outcomes[capability] = True
        except CapabilityMissing as missing:
            assert missing.kind == "capability_missing" and missing.capability == capability
            assert str(missing).startswith("not verifiable with backend %s: " % backend.NAME)
            outcomes[capability] = False
    assert outcomes == dict((capability, backend.has(capability)) for capability in _GATED)
    never = _new_id("CT-PRESTAGE")
    if backend.has("prestage"):
        assert backend.create_record("station", never, _sample("station", never))["id"] == never
        backend.delete_record("station", never)
    else:
        with pytest.raises(CapabilityMissing):
            backend.create_record("station", never, _sample("station", never))


def test_errors_are_csms_errors_with_a_kind(contract):
    """Anything the backend raises is a CsmsError with a kind a stage can report (never a bare exception)."""
    backend = contract.backend
    with pytest.raises(CsmsError) as unknown:
        backend.call(_new_id("CT-NEVER"), "NoSuchAction", {}, timeout=5)
    assert unknown.value.kind in ("unknown_action", "station_offline", "invalid_payload")
