"""An OCPP 1.6J station through the citrineos backend against a real CitrineOS 1.8.3 (``evcs-lab up --csms citrineos``).

The station is a real OCPP 1.6 client (the ``ocpp`` library over ``websockets``, subprotocol ``ocpp1.6``) connected
to the lab CitrineOS's 1.6 websocket server (like the contract tests' 2.0.1 server), pre-staged through the backend.
What is checked is what the station itself received and holds: CitrineOS's ``/ocpp/1.6/`` routes carry
GetConfiguration and ChangeConfiguration, the backend reads the replies from CitrineOS's message store, reports the
connection as OCPP 1.6 with the 1.6 boot and connector status, and refuses a 1.6 action CitrineOS has no route for
without sending anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid

import pytest
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action
from websockets.asyncio.client import connect

from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CapabilityMissing
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.connection import csms_backend
from ansible_collections.evcs.provisioning.plugins.module_utils.station.boot import reported_station

pytestmark = pytest.mark.integration


class Station16(ChargePoint):
    """A 1.6 charge point with a few configuration keys; it records every call it received."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.keys = {"HeartbeatInterval": "60", "MeterValueSampleInterval": "30", "SecurityProfile": "0"}
        self.received = []

    @on(Action.get_configuration)
    def on_get_configuration(self, key=None, **_):
        self.received.append(("GetConfiguration", key))
        wanted = key or sorted(self.keys)
        return call_result.GetConfiguration(
            configuration_key=[{"key": name, "readonly": False, "value": self.keys[name]}
                               for name in wanted if name in self.keys],
            unknown_key=[name for name in wanted if name not in self.keys] or None)

    @on(Action.change_configuration)
    def on_change_configuration(self, key, value, **_):
        self.received.append(("ChangeConfiguration", key))
        if key not in self.keys:
            return call_result.ChangeConfiguration(status="NotSupported")
        self.keys[key] = value
        return call_result.ChangeConfiguration(status="Accepted")


class Online16:
    """``with Online16(url, station_id) as station:`` a 1.6 station connected in a thread of its own, booted, with
    connector 1 Available."""

    def __init__(self, url, station_id):
        self.url, self.station_id = url, station_id
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.station = None
        self.boot_status = None

    def run(self, coroutine, timeout=30):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def _open(self):
        self._stack = contextlib.AsyncExitStack()
        websocket = await self._stack.enter_async_context(connect(self.url, subprotocols=["ocpp1.6"], open_timeout=10))
        assert websocket.subprotocol == "ocpp1.6"
        self.station = Station16(self.station_id, websocket)
        self._task = asyncio.ensure_future(self.station.start())
        answer = await self.station.call(call.BootNotification(
            charge_point_vendor="evcs-tests", charge_point_model="Contract16",
            charge_point_serial_number="SN-" + self.station_id, firmware_version="1.6.0"))
        self.boot_status = answer.status
        await self.station.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Available"))
        return self

    async def _close(self):
        self._task.cancel()
        await self._stack.aclose()

    def __enter__(self):
        self.thread.start()
        try:
            return self.run(self._open())
        except BaseException:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
            raise

    def __exit__(self, *exc):
        try:
            self.run(self._close())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)


def _eventually(read, check, timeout):
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if check(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.3)


def test_a_16_station_is_configured_through_citrineos_16_routes(citrineos_lab):
    csms = citrineos_lab["csms"]
    backend = csms_backend({"csms_backend": "citrineos", "csms_url": csms["api_url"], "csms_timeout": 30,
                            "csms_retries": 1, "csms_options": csms["options"]})
    station_id = "CT16-%s" % uuid.uuid4().hex[:8].upper()
    # pre-staged as an operator does (CitrineOS records the connection's protocol and online state only for a
    # station whose row exists when it connects)
    backend.create_record("station", station_id, {"serial_number": "SN-" + station_id})
    with Online16("%s/%s" % (csms["contract_ws16_url"], station_id), station_id) as online:
        assert online.boot_status == "Accepted"
        connection = _eventually(lambda: backend.connection(station_id),
                                 lambda found: bool(found and found.get("boot") and found.get("connectors")), 20)
        assert backend.ocpp_version(station_id) == "1.6"
        assert connection["ocpp_version"] == "1.6" and connection["online"]
        assert connection["security_profile"] == 0
        assert reported_station(connection["boot"])["serialNumber"] == "SN-" + station_id
        assert connection["boot"]["status"] == "Accepted"
        assert [(item["evse_id"], item["connector_id"], item["status"]) for item in connection["connectors"]] == \
            [(0, 1, "Available")]

        answer = backend.call(station_id, "GetConfiguration", {"key": ["HeartbeatInterval", "NoSuchKey"]}, timeout=20)
        assert answer["configurationKey"] == [{"key": "HeartbeatInterval", "readonly": False, "value": "60"}]
        assert answer["unknownKey"] == ["NoSuchKey"]

        changed = backend.call(station_id, "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "120"},
                               timeout=20)
        assert changed == {"status": "Accepted"}
        assert online.station.keys["HeartbeatInterval"] == "120"
        again = backend.call(station_id, "GetConfiguration", {"key": ["HeartbeatInterval"]}, timeout=20)
        assert again["configurationKey"][0]["value"] == "120"
        refused = backend.call(station_id, "ChangeConfiguration", {"key": "NoSuchKey", "value": "1"}, timeout=20)
        assert refused == {"status": "NotSupported"}

        received = list(online.station.received)
        for action, payload in (("InstallCertificate", {"certificateType": "CentralSystemRootCertificate",
                                                         "certificate": "-----BEGIN CERTIFICATE-----"}),
                                ("SendLocalList", {"listVersion": 1, "updateType": "Full"})):
            with pytest.raises(CapabilityMissing, match="no /ocpp/1.6/ route that sends %s" % action):
                backend.call(station_id, action, payload, timeout=10)
        time.sleep(1)
        assert online.station.received == received
