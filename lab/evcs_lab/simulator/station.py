"""One simulated charging station: its connection loop over the network profile slots, boot and heartbeat."""
from __future__ import annotations

import asyncio
import base64
import logging
import random
import ssl
from contextlib import suppress

from ocpp.v201 import call
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from .device_model import LabModel, VariableDef, lab_model, now_rfc3339, valid_value, variable_key
from .handlers import StationProtocol
from .state import PRIORITY, SECURITY_PROFILE, Factory, StationState

RETRY_DELAY = 1.0
WALK_DELAY = 3.0
BOOT_RETRY_DEFAULT = 10


def heartbeat_wait(interval: float, first: bool, draw=random.random) -> float:
    """Seconds until the next Heartbeat: the interval, but the first one after going online at a random share of it.

    Stations that boot together (a lab of thousands coming up, a CSMS restart) would otherwise send their heartbeats in
    lockstep, thousands in the same second, for as long as they run; real stations do not boot in the same
    millisecond. Earlier than the interval is allowed: the interval is the longest silence (OCPP 2.0.1 use case G02,
    Heartbeat)."""
    if not first:
        return interval
    return max(1.0, interval * draw())


class ConnectRefused(Exception):
    """The station itself cannot use a slot (missing trust anchor or client certificate)."""


class StationBase:
    """What every simulated station does whatever its OCPP version: persisted state, the faults injected by the lab,
    the task that keeps it connected, boot and heartbeat. A subclass says how it connects (`_connect_once`), which
    OCPP version it speaks (`SUBPROTOCOL`, `calls`, `protocol_class`) and what its boot and status messages hold."""

    SUBPROTOCOL = "ocpp2.0.1"
    calls = call
    protocol_class: type = StationProtocol

    def __init__(self, state: StationState, factory: Factory, log: logging.Logger):
        self.state = state
        self.factory = factory
        self.log = log
        self.faults: dict = {}
        self.connection: StationProtocol | None = None
        self.slot: int | None = None
        self.boot_status: str | None = None
        #: a BootNotification was Accepted since the last power-up or reset: reconnects send none (F06.FR.17)
        self.boot_accepted = False
        self._websocket = None
        self._wake = asyncio.Event()
        self._boot_trigger = asyncio.Event()
        self._held_after_reset = False
        self._task: asyncio.Task | None = None
        #: seconds a Reset keeps the station away before it reconnects (a real station takes a while to reboot;
        #: simulator config ``reboot_seconds``, 0 by default)
        self.reboot_seconds = 0.0
        self._rebooting = False
        self._reboot_task: asyncio.Task | None = None

    @property
    def station_id(self) -> str:
        return self.state.station_id

    @property
    def connected(self) -> bool:
        return self._websocket is not None

    @property
    def ocpp_version(self) -> str:
        return self.SUBPROTOCOL.removeprefix("ocpp")

    # --- lifecycle -------------------------------------------------------------------------------------

    def start(self, initial_delay: float = 0.0) -> None:
        self._task = asyncio.create_task(self._run(initial_delay), name=f"station-{self.station_id}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    async def shutdown(self) -> None:
        await self.stop()
        await self._disconnect()

    def power_cycle(self) -> None:
        """Apply values pending a reboot (a process start is a power-up: the station boots again)."""
        self.boot_accepted = False
        if self.state.device_model.apply_pending():
            self.state.save()

    async def reboot(self) -> None:
        """Reset: drop the connection, apply pending values, come back (unless the lab holds it away)."""
        self.log.info("%s: reset", self.station_id)
        self.state.device_model.apply_pending()
        self.boot_accepted = False
        self.state.resets += 1
        self.state.boot_reason = "RemoteReset"
        self.state.save()
        self._held_after_reset = bool(self.faults.get("no_reconnect_after_reset"))
        self._rebooting = self.reboot_seconds > 0
        await self._disconnect()

    def reboot_after(self, delay: float) -> None:
        """Reboot in ``delay`` seconds, whatever happens to the connection the Reset came on."""
        async def _later() -> None:
            await asyncio.sleep(delay)
            await self.reboot()
        self._reboot_task = asyncio.create_task(_later(), name=f"reboot-{self.station_id}")

    async def factory_reset(self, definition: dict) -> None:
        await self.stop()
        await self._disconnect()
        self.state = type(self.state).factory_new(definition, self.state.directory, self.factory)
        self.state.save()
        self.faults = {}
        self._held_after_reset = False
        self.boot_accepted = False
        self.start()

    async def set_faults(self, faults: dict) -> None:
        drop = faults.pop("drop_connection", False)
        self.faults.update(faults)
        if not self.faults.get("no_reconnect_after_reset"):
            self._held_after_reset = False
        if drop or self.faults.get("offline"):
            await self._disconnect()
        self._wake.set()

    def _held_away(self) -> bool:
        return bool(self.faults.get("offline")) or self._held_after_reset

    async def _disconnect(self) -> None:
        if self._websocket is not None:
            with suppress(Exception):
                await self._websocket.close()

    # --- connection loop -------------------------------------------------------------------------------

    async def _run(self, initial_delay: float) -> None:
        await asyncio.sleep(initial_delay)
        while True:
            if self._held_away():
                self._wake.clear()
                await self._wake.wait()
                continue
            if self._rebooting:
                self._rebooting = False
                await asyncio.sleep(self.reboot_seconds)
            if not await self._connect_once():
                await asyncio.sleep(WALK_DELAY + random.random())

    async def _connect_once(self) -> bool:
        """Try to connect as this station's OCPP version says; True when a session ran."""
        raise NotImplementedError

    async def _connect(self, url: str, security_profile: int):
        """Open the websocket to ``url``/<id> with the credentials of ``security_profile``; None when that fails."""
        url = url.rstrip("/") + "/" + self.station_id
        try:
            websocket = await connect(
                url, subprotocols=[self.SUBPROTOCOL], additional_headers=self._auth_headers(security_profile),
                ssl=self._tls_context(security_profile), open_timeout=10, ping_interval=self._ping_interval(),
                max_size=2 ** 22)
        except (OSError, InvalidHandshake, InvalidURI, ConnectRefused, asyncio.TimeoutError, ssl.SSLError) as error:
            self.state.record_connect(url, security_profile, f"failed: {type(error).__name__}: {error}")
            self.state.save(durable=False)
            self._connect_failed(error)
            self.log.info("%s: %s (profile %s) failed: %s", self.station_id, url, security_profile, error)
            return None
        self.state.record_connect(url, security_profile, "connected")
        return websocket

    def _connect_failed(self, error: Exception) -> None:
        """What the station notes of a failed connection attempt (a subclass may queue a security event)."""

    def _auth_headers(self, security_profile: int) -> dict:
        if security_profile == 3:
            return {}
        password = self.state.basic_auth_password or b""
        credentials = self.station_id.encode() + b":" + (password if isinstance(password, bytes) else password.encode())
        return {"Authorization": "Basic " + base64.b64encode(credentials).decode()}

    def _tls_context(self, security_profile: int) -> ssl.SSLContext | None:
        if security_profile < 2:
            return None
        roots = self.state.root_certificates_pem()
        if not roots:
            raise ConnectRefused(f"no {self.state.ROOT_TYPE} installed")
        context = ssl.create_default_context(cadata=roots)
        if security_profile == 3:
            if not self.state.has_station_certificate():
                raise ConnectRefused(f"no {self.state.STATION_CERTIFICATE_TYPE} installed")
            context.load_cert_chain(self.state.certificate_path, self.state.key_path)
        return context

    def _ping_interval(self) -> float | None:
        return None

    def message_timeout(self) -> int:
        return 30

    async def _session(self, websocket, slot: int | None) -> None:
        self._websocket, self.slot = websocket, slot
        protocol = self.protocol_class(self, websocket)
        self.connection = protocol
        reader = asyncio.create_task(protocol.start())
        online = asyncio.create_task(self._online(protocol))
        try:
            await asyncio.wait({reader, online}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (reader, online):
                task.cancel()
                with suppress(asyncio.CancelledError, ConnectionClosed, Exception):
                    await task
            with suppress(Exception):
                await websocket.close()
            self._websocket, self.connection, self.slot, self.boot_status = None, None, None, None
            self.log.info("%s: disconnected", self.station_id)

    async def _online(self, protocol) -> None:
        """Boot after a power-up or reset only (a mere reconnect sends no BootNotification), then heartbeats."""
        if not self.boot_accepted:
            await self._boot(protocol)
            await self.send_status_notifications(protocol, None)
        await self._back_online(protocol)
        first = True
        while True:
            await asyncio.sleep(heartbeat_wait(self._heartbeat_seconds(), first))
            first = False
            response = await protocol.call(self.calls.Heartbeat())
            if response is None:
                return

    async def _back_online(self, protocol) -> None:
        """What the station sends once connected (and booted), before its heartbeats."""

    def _heartbeat_seconds(self) -> int:
        raise NotImplementedError

    async def _boot(self, protocol) -> None:
        """BootNotification until Accepted; while Pending or Rejected, retry at the interval given."""
        while True:
            response = await self._send_boot(protocol, self.state.boot_reason)
            if response.status == "Accepted":
                self.boot_accepted = True
                self.state.boot_reason = "PowerUp"
                self.state.save()
                return
            self._boot_trigger.clear()
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._boot_trigger.wait(), response.interval or BOOT_RETRY_DEFAULT)

    async def _send_boot(self, protocol, reason: str):
        response = await protocol.call(self._boot_request(reason))
        if response is None:
            raise ConnectionError("BootNotification answered with a CALLERROR")
        self.boot_status = response.status
        if response.status == "Accepted" and response.interval:
            self._set_heartbeat_interval(response.interval)
        self.log.info("%s: BootNotification(%s) -> %s", self.station_id, reason, response.status)
        return response

    def _boot_request(self, reason: str):
        raise NotImplementedError

    def _set_heartbeat_interval(self, interval: int) -> None:
        raise NotImplementedError

    async def triggered_boot(self, protocol) -> None:
        """A triggered BootNotification while Pending or Rejected (an Accepted 2.0.1 station refused the trigger)."""
        self._boot_trigger.set()

    def connectors(self, evse_id: int | None):
        for evse in self.state.definition["evses"]:
            if evse_id in (None, 0, evse["id"]):
                for connector in evse["connectors"]:
                    yield evse["id"], connector["id"]

    async def send_status_notifications(self, protocol, evse_id: int | None) -> None:
        raise NotImplementedError

    async def send_security_event(self, event_type: str, tech_info: str | None = None) -> bool:
        """SecurityEventNotification, as a station sends one on its own (e.g. InvalidCsmsCertificate after a failed
        TLS handshake); False when the station is not connected."""
        protocol = self.connection
        if protocol is None:
            return False
        await protocol.call(self.calls.SecurityEventNotification(type=event_type, timestamp=now_rfc3339(),
                                                                 tech_info=tech_info))
        return True

    def summary(self) -> dict:
        return {"id": self.station_id, "connected": self.connected, "security_profile": self.state.security_profile,
                "slot": self.slot, "lab_model": self.state.definition.get("lab_model") or "spec",
                "ocpp_version": self.ocpp_version}

    def describe(self) -> dict:
        state = self.state
        return {
            "id": self.station_id,
            "ocpp_version": self.ocpp_version,
            "connected": self.connected,
            "slot": self.slot,
            "security_profile": state.security_profile,
            "boot_status": self.boot_status,
            "boot_accepted": self.boot_accepted,
            "lab_model": state.definition.get("lab_model") or "spec",
            "installed_certificates": [dict(entry) for entry in state.installed_certificates],
            "charging_profiles": [dict(stored) for _, stored in sorted(state.charging_profiles.items())],
            "local_list": state.local_list,
            "connect_history": state.connect_history,
            "resets": state.resets,
            "faults": self.faults,
            **self._describe_configuration(),
        }

    def _describe_configuration(self) -> dict:
        raise NotImplementedError


class SimStation(StationBase):
    """An OCPP 2.0.1 station: device model, network profile slots walked in NetworkConfigurationPriority order."""

    @property
    def model(self) -> LabModel:
        return lab_model(self.state.definition)

    def message_timeout(self) -> int:
        return int(self.state.value("OCPPCommCtrlr", "MessageTimeout", "Default") or 30)

    async def _connect_once(self) -> bool:
        return await self._walk_priority()

    async def _walk_priority(self) -> bool:
        """Try each slot of NetworkConfigurationPriority in order; True when a session ran on one of them."""
        attempts = int(self.state.value("OCPPCommCtrlr", "NetworkProfileConnectionAttempts") or 1)
        for slot in self.state.priority:
            profile = self.state.network_profiles.get(slot)
            if profile is None:
                continue
            for _ in range(max(attempts, 1)):
                if self._held_away():
                    return True
                websocket = await self._open(slot, profile)
                if websocket is not None:
                    await self._session(websocket, slot)
                    return True
                await asyncio.sleep(RETRY_DELAY + random.random() * 0.5)
        return False

    async def _open(self, slot: int, profile: dict):
        security_profile = int(profile["securityProfile"])
        websocket = await self._connect(profile["ocppCsmsUrl"], security_profile)
        if websocket is None:
            return None
        self._raise_security_profile(security_profile)
        self.state.device_model.set_now(variable_key("OCPPCommCtrlr", "MessageTimeout", variable_instance="Default"),
                                        str(profile.get("messageTimeout", 30)))
        self.state.save()
        self.log.info("%s: connected on slot %s (%s, profile %s)", self.station_id, slot, profile["ocppCsmsUrl"],
                      security_profile)
        return websocket

    def _ping_interval(self) -> float | None:
        interval = int(self.state.value("OCPPCommCtrlr", "WebSocketPingInterval") or 0)
        return interval or None

    def _raise_security_profile(self, security_profile: int) -> None:
        """A05.FR.06: after the first connection on a higher profile, forget the slots below it."""
        if security_profile <= self.state.security_profile:
            return
        model = self.state.device_model
        model.set_now(SECURITY_PROFILE, str(security_profile))
        lower = {slot for slot, data in self.state.network_profiles.items()
                 if int(data["securityProfile"]) < security_profile}
        for slot in lower:
            del self.state.network_profiles[slot]
        priority = [str(slot) for slot in self.state.priority if slot not in lower]
        model.set_now(PRIORITY, ",".join(priority))
        self.log.info("%s: security profile raised to %s, slots %s deleted", self.station_id, security_profile,
                      sorted(lower))

    def _heartbeat_seconds(self) -> int:
        return int(self.state.value("OCPPCommCtrlr", "HeartbeatInterval") or 300)

    def _set_heartbeat_interval(self, interval: int) -> None:
        self.state.device_model.set_now(variable_key("OCPPCommCtrlr", "HeartbeatInterval"), str(interval))

    def _boot_request(self, reason: str):
        definition = self.state.definition
        charging_station = {"model": definition["model"], "vendorName": definition["vendor"],
                            "serialNumber": definition["serial_number"],
                            "firmwareVersion": definition["firmware_version"]}
        return call.BootNotification(charging_station=charging_station, reason=reason)

    def _describe_configuration(self) -> dict:
        return {"device_model": self.state.device_model.snapshot(),
                "network_profiles": {str(slot): data for slot, data in sorted(self.state.network_profiles.items())},
                "monitors": self.state.monitors}

    # --- what the station decides ----------------------------------------------------------------------

    def accepts_value(self, row: VariableDef, value: str) -> bool:
        return valid_value(row, value, set(self.state.network_profiles))

    def accepts_charging_profile(self, evse_id: int, profile: dict) -> bool:
        purpose = profile["chargingProfilePurpose"]
        evse_ids = {evse["id"] for evse in self.state.definition["evses"]} | {0}
        if self.state.value("SmartChargingCtrlr", "Enabled") != "true" or evse_id not in evse_ids:
            return False
        if purpose not in self.model.purposes:
            return False
        if purpose == "ChargingStationMaxProfile" and evse_id != 0:
            return False
        rate_units = (self.state.value("SmartChargingCtrlr", "RateUnit") or "").split(",")
        for schedule in profile["chargingSchedule"]:
            if schedule["chargingRateUnit"] not in rate_units:
                return False
            zero_limit = any(period["limit"] == 0 for period in schedule["chargingSchedulePeriod"])
            if zero_limit and purpose != "TxDefaultProfile":
                return False
        return True

    def connector_status(self, evse_id: int) -> str:
        operative = (self.state.availability.get("0", "Operative") == "Operative"
                     and self.state.availability.get(str(evse_id), "Operative") == "Operative")
        return "Available" if operative else "Unavailable"

    def set_availability(self, operational_status: str, evse_id: int | None) -> None:
        self.state.availability[str(evse_id or 0)] = operational_status
        model = self.state.device_model
        for evse, connector in self.connectors(evse_id):
            status = self.connector_status(evse)
            model.set_now(variable_key("EVSE", "AvailabilityState", evse=evse), status)
            model.set_now(variable_key("Connector", "AvailabilityState", evse=evse, connector=connector), status)
        if not evse_id:
            station_status = "Available" if operational_status == "Operative" else "Unavailable"
            model.set_now(variable_key("ChargingStation", "AvailabilityState"), station_status)
        self.state.save()

    async def send_status_notifications(self, protocol: StationProtocol, evse_id: int | None) -> None:
        for evse, connector in self.connectors(evse_id):
            await protocol.call(call.StatusNotification(timestamp=now_rfc3339(),
                                                        connector_status=self.connector_status(evse),
                                                        evse_id=evse, connector_id=connector))
