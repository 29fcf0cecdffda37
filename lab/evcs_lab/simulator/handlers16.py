"""The OCPP 1.6J messages (with the Security Extension) a simulated 1.6 charge point answers, as a real one would.

One `StationProtocol16` exists per websocket connection; what it knows lives in the `SimStation16` (`station16.py`)
it belongs to. What it shares with the 2.0.1 handlers (the reboot a Reset starts, certificate store, CSR made on the
station, the check of a signed chain) comes from `handlers.StationCalls`.
"""
from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import TYPE_CHECKING

from ocpp.charge_point import snake_to_camel_case
from ocpp.exceptions import OccurenceConstraintViolationError
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action

from .config_keys import AUTHORIZATION_KEY, CPO_NAME_KEY, SECURITY_PROFILE_KEY
from .handlers import StationCalls, merge_local_list

if TYPE_CHECKING:
    from .station16 import SimStation16

#: what TriggerMessage (1.6 Remote Trigger) and ExtendedTriggerMessage (Security Extension) may ask for
TRIGGERS = ("BootNotification", "DiagnosticsStatusNotification", "FirmwareStatusNotification", "Heartbeat",
            "MeterValues", "StatusNotification")
EXTENDED_TRIGGERS = ("BootNotification", "FirmwareStatusNotification", "Heartbeat", "LogStatusNotification",
                     "MeterValues", "SignChargePointCertificate", "StatusNotification")
#: the 1.6 chargingRateUnit each ChargingScheduleAllowedChargingRateUnit member allows
RATE_UNITS = {"Current": "A", "Power": "W"}
#: seconds between an answer and the reconnect it causes (new AuthorizationKey, new certificate)
RECONNECT_GRACE = 0.3


def _token_of(entry: dict) -> str:
    return entry["idTag"]


class StationProtocol16(StationCalls, ChargePoint):
    """OCPP 1.6J handlers of one charge point connection."""

    station: SimStation16
    results = call_result

    # --- configuration keys ----------------------------------------------------------------------------

    @on(Action.get_configuration)
    def on_get_configuration(self, key: list | None = None, **_):
        limit = int(self.state.key("GetConfigurationMaxKeys") or 0)
        if key and limit and len(key) > limit:
            raise OccurenceConstraintViolationError(
                description=f"{len(key)} keys requested, GetConfigurationMaxKeys is {limit}")
        known, unknown = self.state.device_model.configuration(key)
        return call_result.GetConfiguration(configuration_key=known, unknown_key=unknown or None)

    @on(Action.change_configuration)
    def on_change_configuration(self, key: str, value: str, **_):
        status = self.station.change_configuration(key, value)
        self.state.save()
        return call_result.ChangeConfiguration(status=status)

    @after(Action.change_configuration)
    async def after_change_configuration(self, key: str, value: str, **_):
        if key == AUTHORIZATION_KEY and self.station.reconnect_for_new_key:
            # TC_073: the charge point reconnects with the new basic-auth password
            self.station.reconnect_for_new_key = False
            await asyncio.sleep(RECONNECT_GRACE)
            await self.station.reconnect("new AuthorizationKey")
        elif key == SECURITY_PROFILE_KEY and self.station.reconnect_for_new_profile:
            # A05.FR.06/07: disconnect, then reconnect with the new security profile (falling back, A05.FR.08)
            self.station.reconnect_for_new_profile = False
            await asyncio.sleep(RECONNECT_GRACE)
            self.station.apply_profile_settings()
            await self.station.reconnect(f"new SecurityProfile {value}")

    # --- reset, availability, triggers -----------------------------------------------------------------

    @on(Action.reset)
    def on_reset(self, type: str, **_):  # noqa: A002 (schema name)
        return call_result.Reset(status="Accepted")

    @on(Action.change_availability)
    def on_change_availability(self, connector_id: int, type: str, **_):  # noqa: A002 (schema name)
        if connector_id != 0 and connector_id not in self.station.connector_ids():
            return call_result.ChangeAvailability(status="Rejected")
        self.station.set_availability(type, connector_id)
        return call_result.ChangeAvailability(status="Accepted")

    @after(Action.change_availability)
    async def after_change_availability(self, connector_id: int, **_):
        await self.station.send_status_notifications(self, connector_id or None)

    @on(Action.trigger_message)
    def on_trigger_message(self, requested_message: str, connector_id: int | None = None, **_):
        return call_result.TriggerMessage(status=self._trigger_status(requested_message, connector_id, TRIGGERS))

    @after(Action.trigger_message)
    async def after_trigger_message(self, requested_message: str, connector_id: int | None = None, **_):
        if self._trigger_status(requested_message, connector_id, TRIGGERS) == "Accepted":
            await self._send_triggered(requested_message, connector_id)

    @on(Action.extended_trigger_message)
    def on_extended_trigger_message(self, requested_message: str, connector_id: int | None = None, **_):
        status = self._trigger_status(requested_message, connector_id, EXTENDED_TRIGGERS)
        return call_result.ExtendedTriggerMessage(status=status)

    @after(Action.extended_trigger_message)
    async def after_extended_trigger_message(self, requested_message: str, connector_id: int | None = None, **_):
        if self._trigger_status(requested_message, connector_id, EXTENDED_TRIGGERS) == "Accepted":
            await self._send_triggered(requested_message, connector_id, extended=True)

    def _trigger_status(self, requested_message: str, connector_id: int | None, allowed: tuple) -> str:
        if requested_message not in allowed:
            return "NotImplemented"
        if connector_id is not None and connector_id != 0 and connector_id not in self.station.connector_ids():
            return "Rejected"
        return "Accepted"

    async def _send_triggered(self, message: str, connector_id: int | None, extended: bool = False) -> None:
        if message == "BootNotification":
            # 1.6 has no rule against a triggered BootNotification: the charge point sends one (its reason is the
            # trigger, so its registration status is refreshed; a Pending station also retries its boot loop now)
            if self.station.boot_accepted:
                await self.station.send_boot(self)
            else:
                await self.station.triggered_boot(self)
        elif message == "StatusNotification":
            await self.station.send_status_notifications(self, connector_id)
        elif message == "Heartbeat":
            await self.call(call.Heartbeat())
        elif message == "MeterValues":
            await self.station.send_meter_values(self, connector_id)
        elif message == "SignChargePointCertificate":
            await self.send_sign_certificate()
        elif message == "FirmwareStatusNotification":
            await self.call(call.SignedFirmwareStatusNotification(status="Idle") if extended
                            else call.FirmwareStatusNotification(status="Idle"))
        elif message == "DiagnosticsStatusNotification":
            await self.call(call.DiagnosticsStatusNotification(status="Idle"))
        elif message == "LogStatusNotification":
            await self.call(call.LogStatusNotification(status="Idle"))

    # --- Security Extension: certificates --------------------------------------------------------------

    async def send_sign_certificate(self) -> None:
        """A02: a new key pair on the charge point, a CSR with CN = serial number and O = CpoName."""
        csr = self._new_csr(self.state.key(CPO_NAME_KEY) or "")
        await self.call(call.SignCertificate(csr=csr))

    @on(Action.certificate_signed)
    def on_certificate_signed(self, certificate_chain: str, **_):
        limit = int(self.state.key("CertificateSignedMaxChainSize") or 0)
        accepted = (not limit or len(certificate_chain) <= limit) and self._accept_signed_chain(certificate_chain)
        return call_result.CertificateSigned(status="Accepted" if accepted else "Rejected")

    @after(Action.certificate_signed)
    async def after_certificate_signed(self, certificate_chain: str, **_):
        if self.state.security_profile == 3 and self.state.certificate_path.exists() \
                and self.state.certificate_path.read_text() == certificate_chain:
            # TC_074: on profile 3 the charge point reconnects with its new certificate
            await asyncio.sleep(RECONNECT_GRACE)
            await self.station.reconnect("new ChargePointCertificate")

    @on(Action.install_certificate)
    def on_install_certificate(self, certificate_type: str, certificate: str, **_):
        store_full = len(self.state.installed_certificates) >= int(self.state.key("CertificateStoreMaxLength") or 10)
        if store_full:
            return call_result.InstallCertificate(status="Rejected")
        status = "Accepted" if self._install(certificate_type, certificate) else "Rejected"
        return call_result.InstallCertificate(status=status)

    @on(Action.get_installed_certificate_ids)
    def on_get_installed_certificate_ids(self, certificate_type: str, **_):
        hash_data = [entry["certificateHashData"] for entry in self._installed_roots([certificate_type])]
        if not hash_data:
            return call_result.GetInstalledCertificateIds(status="NotFound")
        return call_result.GetInstalledCertificateIds(status="Accepted", certificate_hash_data=hash_data)

    # --- local authorization list ----------------------------------------------------------------------

    @on(Action.send_local_list)
    def on_send_local_list(self, list_version: int, update_type: str, local_authorization_list=None, **_):
        """1.6 section 5.15: Full replaces the list, Differential adds/updates entries with idTagInfo and removes those
        without; a Differential whose listVersion is not above the current one is VersionMismatch."""
        updates = [snake_to_camel_case(entry) for entry in local_authorization_list or []]
        if len(updates) > int(self.state.key("SendLocalListMaxLength") or 0):
            raise OccurenceConstraintViolationError(
                description=f"{len(updates)} entries, SendLocalListMaxLength is {self.state.key('SendLocalListMaxLength')}")
        local_list = self.state.local_list
        if update_type == "Full":
            entries = [entry for entry in updates if entry.get("idTagInfo")]
        elif list_version <= local_list["version"]:
            return call_result.SendLocalList(status="VersionMismatch")
        else:
            entries = merge_local_list(local_list["entries"], updates, _token_of, "idTagInfo")
        if len(entries) > int(self.state.key("LocalAuthListMaxLength") or 0):
            return call_result.SendLocalList(status="Failed")
        self.state.local_list = {"version": list_version, "entries": entries}
        self.state.save()
        return call_result.SendLocalList(status="Accepted")

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self, **_):
        return call_result.GetLocalListVersion(list_version=self.state.local_list["version"])

    # --- smart charging --------------------------------------------------------------------------------

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, connector_id: int, cs_charging_profiles: dict, **_):
        profile = _numbers(snake_to_camel_case(cs_charging_profiles))
        status = self.station.charging_profile_status(connector_id, profile)
        if status == "Accepted":
            self.state.charging_profiles = {
                profile_id: stored for profile_id, stored in self.state.charging_profiles.items()
                if profile_id != profile["chargingProfileId"] and not _same_slot(stored, connector_id, profile)}
            self.state.charging_profiles[profile["chargingProfileId"]] = {"connector_id": connector_id,
                                                                          "profile": profile}
            self.state.save()
        return call_result.SetChargingProfile(status=status)

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(self, id: int | None = None, connector_id: int | None = None,  # noqa: A002
                                  charging_profile_purpose: str | None = None, stack_level: int | None = None, **_):
        kept = {profile_id: stored for profile_id, stored in self.state.charging_profiles.items()
                if not _clear_matches(profile_id, stored, id, connector_id, charging_profile_purpose, stack_level)}
        if len(kept) == len(self.state.charging_profiles):
            return call_result.ClearChargingProfile(status="Unknown")
        self.state.charging_profiles = kept
        self.state.save()
        return call_result.ClearChargingProfile(status="Accepted")

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(self, connector_id: int, duration: int, charging_rate_unit: str | None = None, **_):
        schedule = None
        if connector_id == 0 or connector_id in self.station.connector_ids():
            schedule = self.station.composite_schedule(connector_id, duration, charging_rate_unit)
        if schedule is None:
            return call_result.GetCompositeSchedule(status="Rejected")
        return call_result.GetCompositeSchedule(status="Accepted", connector_id=connector_id,
                                                schedule_start=schedule["startSchedule"], charging_schedule=schedule)

    # --- operation (what a 1.6 CSMS may send besides provisioning) -------------------------------------

    @on(Action.clear_cache)
    def on_clear_cache(self, **_):
        return call_result.ClearCache(status="Accepted")

    @on(Action.unlock_connector)
    def on_unlock_connector(self, connector_id: int, **_):
        return call_result.UnlockConnector(status="NotSupported")

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, **_):
        return call_result.DataTransfer(status="UnknownVendorId")


def _numbers(value):
    """JSON numbers as the charge point keeps them: the ocpp library hands a 1.6 schedule's decimals (limit,
    minChargingRate) over as Decimal; stored as float (int when integral), so the state file can hold them."""
    if isinstance(value, dict):
        return {key: _numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_numbers(item) for item in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _same_slot(stored: dict, connector_id: int, profile: dict) -> bool:
    """A profile with the same stackLevel and purpose on the same connector is replaced (1.6 section 3.13.2)."""
    other = stored["profile"]
    return (stored["connector_id"] == connector_id and other["stackLevel"] == profile["stackLevel"]
            and other["chargingProfilePurpose"] == profile["chargingProfilePurpose"])


def _clear_matches(profile_id: int, stored: dict, wanted_id, connector_id, purpose, stack_level) -> bool:
    if wanted_id is not None:
        return profile_id == wanted_id
    profile = stored["profile"]
    return (connector_id in (None, stored["connector_id"])
            and purpose in (None, profile["chargingProfilePurpose"])
            and stack_level in (None, profile["stackLevel"]))
