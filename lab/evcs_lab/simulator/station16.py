"""One simulated OCPP 1.6J charge point with the Security Extension: how it connects, boots and decides.

It connects to the URL of its vendor key `CentralSystemURL` with the security profile of its `SecurityProfile` key
(0/1: ws + basic auth with the AuthorizationKey; 2: wss + basic auth; 3: wss + its ChargePointCertificate). 1.6 has no
configuration slots. A SecurityProfile change follows the Security Extension (edition 3, use case A05): a value lower
than or equal to the current one is Rejected (A05.FR.01), as is one whose prerequisites are missing (A05.FR.02-04);
after an Accepted one the charge point disconnects (A05.FR.06) and reconnects with the new profile (A05.FR.07),
together with a Central System URL still pending a reboot (the URL that goes with the new profile). When it cannot
connect with them it falls back to the profile and URL of its last successful connection (A05.FR.08), so a bad change
never locks it out. The lab fault ``security_profile_at_reset`` makes a charge point that keeps its connection after
the Accepted and uses the new profile only from its next Reset (the flow OCTT's TC_083 drives with a Reset Hard).
"""
from __future__ import annotations

import asyncio
import random
import ssl
from datetime import datetime, timezone

from ocpp.v16 import call
from websockets.exceptions import InvalidStatus

from .config_keys import AUTHORIZATION_KEY, SECURITY_PROFILE_KEY, VENDOR_URL_KEY
from .device_model import now_rfc3339, valid_csms_url
from .handlers16 import RATE_UNITS, StationProtocol16
from .station import RETRY_DELAY, StationBase

#: attempts with a new profile/URL before the charge point falls back to its last working connection
CONNECT_ATTEMPTS = 3
#: the charging rate unit's volts per phase when a limit in A is shown in W
NOMINAL_VOLTAGE = 230


class SimStation16(StationBase):
    """A 1.6J charge point (lab model `v16`): configuration keys, one Central System URL, the Security Extension."""

    SUBPROTOCOL = "ocpp1.6"
    calls = call
    protocol_class = StationProtocol16

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        #: set by an accepted AuthorizationKey change on profile 1/2: reconnect with the new password (TC_073)
        self.reconnect_for_new_key = False
        #: set by an accepted SecurityProfile change: disconnect and reconnect with the new profile (A05.FR.06/07)
        self.reconnect_for_new_profile = False
        #: security events that happened while offline, sent once connected (Security Extension: queued, not lost)
        self.queued_events: list[tuple[str, str]] = []

    # --- connection ------------------------------------------------------------------------------------

    async def _connect_once(self) -> bool:
        profile, url = self.state.security_profile, self.state.csms_url
        for _ in range(CONNECT_ATTEMPTS):
            if self._held_away():
                return True
            websocket = await self._open(url, profile)
            if websocket is not None:
                self.state.last_good_connection = {"security_profile": profile, "url": url}
                self.state.save()
                self.log.info("%s: connected to %s (1.6, profile %s)", self.station_id, url, profile)
                await self._session(websocket, None)
                return True
            await asyncio.sleep(RETRY_DELAY + random.random() * 0.5)
        self._fall_back(profile, url)
        return False

    async def _open(self, url: str, profile: int):
        if not valid_csms_url(url, profile):
            self.state.record_connect(url, profile, "failed: the URL scheme does not fit the security profile")
            self.state.save()
            return None
        return await self._connect(url, profile)

    def _fall_back(self, profile: int, url: str) -> None:
        """The new SecurityProfile/URL did not connect: go back to the last connection that worked."""
        last = self.state.last_good_connection
        if not last or (last["security_profile"], last["url"]) == (profile, url):
            return
        model = self.state.device_model
        model.set_now(SECURITY_PROFILE_KEY, str(last["security_profile"]))
        model.set_now(VENDOR_URL_KEY, last["url"])
        self.state.record_connect(url, profile, f"fallback to profile {last['security_profile']} at {last['url']}")
        self.state.save()
        self.log.info("%s: cannot connect with profile %s at %s: back to profile %s at %s", self.station_id,
                      profile, url, last["security_profile"], last["url"])

    def _connect_failed(self, error: Exception) -> None:
        """The Security Extension's security events of a failed connection: the Central System refused the charge
        point's credentials (HTTP 401/403), or its server certificate did not verify against the installed root."""
        if isinstance(error, InvalidStatus) and error.response.status_code in (401, 403):
            event = ("FailedToAuthenticateAtCentralSystem", f"HTTP {error.response.status_code}")
        elif isinstance(error, ssl.SSLCertVerificationError):
            event = ("InvalidCentralSystemCertificate", str(error.verify_message or error.reason))
        else:
            return
        if event[0] not in {queued for queued, _ in self.queued_events}:
            self.queued_events.append(event)

    async def _back_online(self, protocol) -> None:
        while self.queued_events:
            event_type, tech_info = self.queued_events.pop(0)
            await protocol.call(call.SecurityEventNotification(type=event_type, timestamp=now_rfc3339(),
                                                               tech_info=tech_info))

    def _auth_headers(self, security_profile: int) -> dict:
        return {} if security_profile == 0 else super()._auth_headers(security_profile)

    def _ping_interval(self) -> float | None:
        return int(self.state.key("WebSocketPingInterval") or 0) or None

    async def reconnect(self, reason: str) -> None:
        self.log.info("%s: reconnecting (%s)", self.station_id, reason)
        await self._disconnect()

    # --- boot and heartbeat ----------------------------------------------------------------------------

    def _heartbeat_seconds(self) -> int:
        return int(self.state.key("HeartbeatInterval") or 300)

    def _set_heartbeat_interval(self, interval: int) -> None:
        self.state.device_model.set_now("HeartbeatInterval", str(interval))

    def _boot_request(self, reason: str):
        definition = self.state.definition
        return call.BootNotification(charge_point_vendor=definition["vendor"], charge_point_model=definition["model"],
                                     charge_point_serial_number=definition["serial_number"],
                                     firmware_version=definition["firmware_version"],
                                     iccid=definition.get("iccid"))

    async def send_boot(self, protocol) -> None:
        await self._send_boot(protocol, "Triggered")

    # --- configuration keys ----------------------------------------------------------------------------

    def change_configuration(self, name: str, value: str) -> str:
        """ChangeConfiguration's status for ``name`` = ``value``; the change is made (or kept pending) here."""
        model = self.state.device_model
        row = model.find(name)
        if row is None:
            return "NotSupported"
        if row.readonly or name in self.faults.get("reject_variables", []) or not model.valid(row, value):
            return "Rejected"
        if name == SECURITY_PROFILE_KEY:
            return self._change_security_profile(int(value))
        if row.reboot_required:
            model.set_pending(name, value)
            return "RebootRequired"
        model.set_now(name, value)
        if name == AUTHORIZATION_KEY and self.connected and self.state.security_profile in (1, 2):
            self.reconnect_for_new_key = True
        return "Accepted"

    def _change_security_profile(self, wanted: int) -> str:
        """A05: Accepted only for a higher profile whose prerequisites hold; then the charge point reconnects with it
        by itself (A05.FR.06/07), or, with the lab fault ``security_profile_at_reset``, at its next Reset."""
        if not self._profile_change_allowed(wanted):
            return "Rejected"
        self.state.device_model.set_now(SECURITY_PROFILE_KEY, str(wanted))
        self.reconnect_for_new_profile = self.connected and not self.faults.get("security_profile_at_reset")
        return "Accepted"

    def apply_profile_settings(self) -> None:
        """The reconnect of A05.FR.07 uses the new profile with the URL that goes with it (pending a reboot)."""
        model = self.state.device_model
        if VENDOR_URL_KEY in model.pending:
            model.set_now(VENDOR_URL_KEY, model.pending.pop(VENDOR_URL_KEY))
        self.state.save()

    def _profile_change_allowed(self, wanted: int) -> bool:
        """Security Extension A05.FR.01-04: only upwards (a value lower than or equal to the current one is
        Rejected); profile 2/3 need a CentralSystemRootCertificate, 3 a ChargePointCertificate, 1/2 an
        AuthorizationKey."""
        current = self.state.security_profile
        if wanted <= current:
            return False
        if wanted >= 2 and not self.state.root_certificates_pem():
            return False
        if wanted == 3 and not self.state.has_station_certificate():
            return False
        return wanted == 3 or wanted == 0 or bool(self.state.key(AUTHORIZATION_KEY))

    # --- connectors ------------------------------------------------------------------------------------

    def connector_ids(self) -> list[int]:
        """1.6 numbers connectors 1..N over the whole charge point (0 is the charge point itself)."""
        return list(range(1, len(list(self.connectors(None))) + 1))

    def _max_current(self) -> float:
        return float(sum(evse["max_current_a"] for evse in self.state.definition["evses"]))

    def connector_status(self, connector_id: int) -> str:
        operative = (self.state.availability.get("0", "Operative") == "Operative"
                     and self.state.availability.get(str(connector_id), "Operative") == "Operative")
        return "Available" if operative else "Unavailable"

    def set_availability(self, availability_type: str, connector_id: int) -> None:
        self.state.availability[str(connector_id)] = availability_type
        self.state.save()

    async def send_status_notifications(self, protocol, connector_id: int | None) -> None:
        """Connector 0 (the charge point) and every connector, or the one asked for."""
        for number in ([0] + self.connector_ids()) if connector_id is None else [connector_id]:
            await protocol.call(call.StatusNotification(connector_id=number, error_code="NoError",
                                                        status=self.connector_status(number),
                                                        timestamp=now_rfc3339()))

    async def send_meter_values(self, protocol, connector_id: int | None) -> None:
        for number in self.connector_ids() if not connector_id else [connector_id]:
            sample = {"value": "0", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
            await protocol.call(call.MeterValues(connector_id=number, meter_value=[
                {"timestamp": now_rfc3339(), "sampledValue": [sample]}]))

    # --- smart charging --------------------------------------------------------------------------------

    def allowed_rate_units(self) -> list[str]:
        members = (self.state.key("ChargingScheduleAllowedChargingRateUnit") or "").split(",")
        return [RATE_UNITS[member.strip()] for member in members if member.strip() in RATE_UNITS]

    def charging_profile_status(self, connector_id: int, profile: dict) -> str:
        """SetChargingProfile: Accepted, or Rejected as this charge point decides (1.6 section 3.13)."""
        purpose, schedule = profile["chargingProfilePurpose"], profile["chargingSchedule"]
        if connector_id != 0 and connector_id not in self.connector_ids():
            return "Rejected"
        if purpose == "ChargePointMaxProfile" and connector_id != 0:
            return "Rejected"
        if purpose == "TxProfile":
            return "Rejected"           # no transaction runs on a simulated charge point
        if profile["stackLevel"] > int(self.state.key("ChargeProfileMaxStackLevel") or 0):
            return "Rejected"
        if schedule["chargingRateUnit"] not in self.allowed_rate_units():
            return "Rejected"
        if len(schedule["chargingSchedulePeriod"]) > int(self.state.key("ChargingScheduleMaxPeriods") or 0):
            return "Rejected"
        replaced = profile["chargingProfileId"] in self.state.charging_profiles
        if not replaced and len(self.state.charging_profiles) >= int(self.state.key("MaxChargingProfilesInstalled")):
            return "Rejected"
        return "Accepted"

    def composite_schedule(self, connector_id: int, duration: int, rate_unit: str | None) -> dict | None:
        """GetCompositeSchedule (see lab/README.md): for connector 0 the ChargePointMaxProfile in force, for a
        connector the TxDefaultProfile in force on it (or on 0) capped by the ChargePointMaxProfile; without a
        profile the charge point's own maximum. None (status Rejected) for a unit this model does not allow."""
        unit = rate_unit or self.allowed_rate_units()[0]
        if unit not in self.allowed_rate_units():
            return None
        now = datetime.now(timezone.utc).replace(microsecond=0)
        limits = [self._limit_now(0, "ChargePointMaxProfile", now)]
        if connector_id:
            limits.append(self._limit_now(connector_id, "TxDefaultProfile", now)
                          or self._limit_now(0, "TxDefaultProfile", now))
        known = [limit for limit in limits if limit is not None]
        hardware = self._max_current() if unit == "A" else self._max_current() * NOMINAL_VOLTAGE * 3
        limit = min(known) if known else hardware
        return {"duration": duration, "startSchedule": now.isoformat().replace("+00:00", "Z"),
                "chargingRateUnit": unit, "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}]}

    def _limit_now(self, connector_id: int, purpose: str, now: datetime) -> float | None:
        """The limit of the highest-stackLevel profile of ``purpose`` on ``connector_id`` in force ``now``."""
        candidates = [stored["profile"] for stored in self.state.charging_profiles.values()
                      if stored["connector_id"] == connector_id and stored["profile"]["chargingProfilePurpose"] == purpose
                      and _valid_at(stored["profile"], now)]
        if not candidates:
            return None
        profile = max(candidates, key=lambda candidate: candidate["stackLevel"])
        schedule = profile["chargingSchedule"]
        start = _moment(schedule.get("startSchedule")) or _moment(profile.get("validFrom")) or now
        elapsed = (now - start).total_seconds()
        current = [period for period in schedule["chargingSchedulePeriod"] if period["startPeriod"] <= elapsed]
        duration = schedule.get("duration")
        if not current or (duration is not None and elapsed >= duration):
            return None
        return current[-1]["limit"]

    # --- control API -----------------------------------------------------------------------------------

    def _describe_configuration(self) -> dict:
        return {"configuration_keys": self.state.device_model.snapshot(),
                "last_good_connection": self.state.last_good_connection}


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _valid_at(profile: dict, now: datetime) -> bool:
    valid_from, valid_to = _moment(profile.get("validFrom")), _moment(profile.get("validTo"))
    return (valid_from is None or valid_from <= now) and (valid_to is None or now < valid_to)
