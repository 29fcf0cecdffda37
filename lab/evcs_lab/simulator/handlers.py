"""The OCPP 2.0.1 messages a simulated station answers, as a real station would (including its refusals).

One `StationProtocol` exists per websocket connection; everything it knows lives in the `SimStation`
(`station.py`) it belongs to.
"""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ocpp.charge_point import snake_to_camel_case
from ocpp.exceptions import FormatViolationError, OccurrenceConstraintViolationError
from ocpp.routing import after, on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action

from . import certificates
from .monitoring import MonitoringHandlers
from .device_model import READ_ONLY, WRITE_ONLY, now_rfc3339, valid_csms_url, variable_key

if TYPE_CHECKING:
    from .station import StationBase

REPORT_PART_SIZE_KEY = variable_key("DeviceDataCtrlr", "ItemsPerMessage", variable_instance="GetReport")
TRIGGERS = ("SignChargingStationCertificate", "BootNotification", "StatusNotification", "Heartbeat")
#: seconds between a Reset's answer and the reboot
RESET_GRACE = 0.3


def _attribute_type(item: dict) -> str:
    return item.get("attribute_type") or "Actual"


def _refs(item: dict) -> tuple[dict, dict]:
    """The request's component and variable, back in schema spelling for the answer."""
    return snake_to_camel_case(item["component"]), snake_to_camel_case(item["variable"])


class StationCalls:
    """What the handlers of every OCPP version share: the lab's injected response delay, the reboot a Reset starts,
    and the station's certificate work (CSR made on the station, the signed chain checked against its key)."""

    station: StationBase
    #: the call_result module of the OCPP version
    results = None

    def __init__(self, station: StationBase, connection):
        super().__init__(station.station_id, connection, response_timeout=station.message_timeout())
        self.station = station
        self.state = station.state

    def _reboots_on(self, msg) -> bool:
        """True when the call is a Reset of the whole station."""
        return msg.action == "Reset"

    async def _handle_call(self, msg):
        delay = float(self.station.faults.get("response_delay") or 0)
        if self._reboots_on(msg):
            # the station decides on receipt and reboots even when its answer never reaches the CSMS (a dropped
            # connection): the reboot runs apart from this connection, once the answer had its chance to go out
            self.station.reboot_after(delay + RESET_GRACE)
        if delay:
            await asyncio.sleep(delay)
        return await super()._handle_call(msg)

    def _install(self, certificate_type: str, certificate: str) -> bool:
        try:
            self.state.install_certificate(certificate_type, certificate)
        except certificates.CertificateError:
            return False
        self.state.save()
        return True

    @on("DeleteCertificate")
    def on_delete_certificate(self, certificate_hash_data: dict, **_):
        """DeleteCertificate by certificateHashData (same hash rules in 2.0.1 and the 1.6 Security Extension)."""
        deleted = self.state.delete_certificate(snake_to_camel_case(certificate_hash_data))
        if deleted:
            self.state.save()
        return self.results.DeleteCertificate(status="Accepted" if deleted else "NotFound")

    def _installed_roots(self, types: list | None) -> list[dict]:
        """certificateHashData chain entries of the installed trust anchors of ``types`` (None: all)."""
        return [{"certificateType": entry["certificate_type"], "certificateHashData": entry["hash_data"]}
                for entry in self.state.certificates_of(types)
                if entry["certificate_type"] != self.state.STATION_CERTIFICATE_TYPE]

    def _accept_signed_chain(self, certificate_chain: str) -> bool:
        """CertificateSigned: the chain belongs to the key made for the last CSR and names the station."""
        key = self.state.pending_key()
        if self.station.faults.get("reject_certificate_signed") or key is None:
            return False
        try:
            certificates.check_signed_chain(certificate_chain, key, self.state.identity)
        except certificates.CertificateError as error:
            self.station.log.info("%s: CertificateSigned rejected: %s", self.id, error)
            return False
        self.state.activate_station_certificate(certificate_chain)
        self.state.save()
        return True

    def _new_csr(self, organization: str) -> str:
        """A new key pair on the station (kept pending until its certificate arrives) and its CSR."""
        key = self.state.new_pending_key()
        return certificates.build_csr(key, self.state.identity, organization)


class StationProtocol(StationCalls, MonitoringHandlers, ChargePoint):
    """OCPP 2.0.1 handlers of one station connection."""

    results = call_result

    def _reboots_on(self, msg) -> bool:
        return msg.action == Action.reset and (msg.payload or {}).get("evseId") is None

    async def route_message(self, raw_msg):
        # the size of the frame as it arrived, for BytesPerMessage (messages are handled one at a time)
        self._frame_bytes = len(raw_msg.encode("utf-8") if isinstance(raw_msg, str) else raw_msg)
        return await super().route_message(raw_msg)

    def _check_items(self, items: list, message: str) -> None:
        """OCPP 2.0.1 B06.FR.16/17 (GetVariables) and B05's alike for SetVariables: a request with more items than
        ItemsPerMessage is answered with CALLERROR OccurrenceConstraintViolation, one of more bytes than BytesPerMessage
        (the whole OCPP-J frame) with CALLERROR FormatViolation."""
        limit = int(self.state.value("DeviceDataCtrlr", "ItemsPerMessage", message) or 0)
        if limit and len(items) > limit:
            raise OccurrenceConstraintViolationError(
                description=f"{len(items)} items, ItemsPerMessage[{message}] is {limit}")
        size = int(self.state.value("DeviceDataCtrlr", "BytesPerMessage", message) or 0)
        received = getattr(self, "_frame_bytes", 0)
        if size and received > size:
            raise FormatViolationError(description=f"{received} bytes, BytesPerMessage[{message}] is {size}")

    # --- device model ----------------------------------------------------------------------------------

    @on(Action.get_variables)
    def on_get_variables(self, get_variable_data: list, **_):
        self._check_items(get_variable_data, "GetVariables")
        return call_result.GetVariables(get_variable_result=[self._get_one(item) for item in get_variable_data])

    def _get_one(self, item: dict) -> dict:
        component, variable = _refs(item)
        result = {"attributeType": _attribute_type(item), "component": component, "variable": variable}
        row, error = self.state.device_model.find(item["component"], item["variable"])
        if error:
            return {**result, "attributeStatus": error}
        if _attribute_type(item) != "Actual":
            return {**result, "attributeStatus": "NotSupportedAttributeType"}
        if row.mutability == WRITE_ONLY:
            return {**result, "attributeStatus": "Rejected"}
        value = self.state.device_model.actual(row)
        return {**result, "attributeStatus": "Accepted", **({"attributeValue": value} if value is not None else {})}

    @on(Action.set_variables)
    def on_set_variables(self, set_variable_data: list, **_):
        self._check_items(set_variable_data, "SetVariables")
        results = [self._set_one(item) for item in set_variable_data]
        self.state.save()
        return call_result.SetVariables(set_variable_result=results)

    def _set_one(self, item: dict) -> dict:
        component, variable = _refs(item)
        result = {"attributeType": _attribute_type(item), "component": component, "variable": variable}
        model = self.state.device_model
        row, error = model.find(item["component"], item["variable"])
        if error:
            return {**result, "attributeStatus": error}
        if _attribute_type(item) != "Actual":
            return {**result, "attributeStatus": "NotSupportedAttributeType"}
        value = item["attribute_value"]
        refused = f"{row.component}.{row.variable}" in self.station.faults.get("reject_variables", [])
        if refused or row.mutability == READ_ONLY or not self.station.accepts_value(row, value):
            return {**result, "attributeStatus": "Rejected"}
        if row.reboot_required:
            model.set_pending(row.key, value)
            return {**result, "attributeStatus": "RebootRequired"}
        model.set_now(row.key, value)
        return {**result, "attributeStatus": "Accepted"}

    @on(Action.get_base_report)
    def on_get_base_report(self, request_id: int, report_base: str, **_):
        return call_result.GetBaseReport(status="Accepted")

    @after(Action.get_base_report)
    async def after_get_base_report(self, request_id: int, report_base: str, **_):
        report = self.state.device_model.report_data()
        if report_base == "ConfigurationInventory":
            report = [item for item in report if item["variableAttribute"][0]["mutability"] != READ_ONLY]
        size = int(self.state.device_model.values.get(REPORT_PART_SIZE_KEY) or 50)
        parts = [report[start:start + size] for start in range(0, len(report), size)]
        generated_at = now_rfc3339()
        for seq_no, part in enumerate(parts):
            await self.call(call.NotifyReport(request_id=request_id, generated_at=generated_at, seq_no=seq_no,
                                              report_data=part, tbc=seq_no < len(parts) - 1))

    @on(Action.set_variable_monitoring)
    def on_set_variable_monitoring(self, set_monitoring_data: list, **_):
        results = [self._monitor_one(item) for item in set_monitoring_data]
        self.state.save()
        return call_result.SetVariableMonitoring(set_monitoring_result=results)

    def _monitor_one(self, item: dict) -> dict:
        component, variable = _refs(item)
        result = {"type": item["type"], "severity": item["severity"], "component": component, "variable": variable}
        _, error = self.state.device_model.find(item["component"], item["variable"])
        if error:
            return {**result, "status": error}
        monitor_id = item.get("id") or max((monitor["id"] for monitor in self.state.monitors), default=0) + 1
        monitor = {"id": monitor_id, "type": item["type"], "severity": item["severity"], "value": item["value"],
                   "transaction": bool(item.get("transaction")), "component": component, "variable": variable}
        self.state.monitors = [m for m in self.state.monitors if m["id"] != monitor_id] + [monitor]
        return {**result, "id": monitor_id, "status": "Accepted"}

    # --- network and reset -----------------------------------------------------------------------------

    @on(Action.set_network_profile)
    def on_set_network_profile(self, configuration_slot: int, connection_data: dict, **_):
        profile = snake_to_camel_case(connection_data)
        if configuration_slot not in self.state.slots or not self._profile_allowed(profile):
            return call_result.SetNetworkProfile(status="Rejected")
        self.state.network_profiles[configuration_slot] = profile
        self.state.save()
        return call_result.SetNetworkProfile(status="Accepted")

    def _profile_allowed(self, profile: dict) -> bool:
        wanted, current = profile["securityProfile"], self.state.security_profile
        if not valid_csms_url(profile["ocppCsmsUrl"], wanted):
            return False
        if wanted >= current:
            return True
        downgrade_allowed = self.state.value("SecurityCtrlr", "AllowSecurityProfileDowngrade") == "true"
        return current == 3 and wanted == 2 and downgrade_allowed

    @on(Action.reset)
    def on_reset(self, type: str, evse_id: int | None = None, **_):  # noqa: A002 (schema name)
        return call_result.Reset(status="Accepted")

    @on(Action.change_availability)
    def on_change_availability(self, operational_status: str, evse: dict | None = None, **_):
        self.station.set_availability(operational_status, (evse or {}).get("id"))
        return call_result.ChangeAvailability(status="Accepted")

    @after(Action.change_availability)
    async def after_change_availability(self, operational_status: str, evse: dict | None = None, **_):
        await self.station.send_status_notifications(self, (evse or {}).get("id"))

    # --- certificates ----------------------------------------------------------------------------------

    @on(Action.install_certificate)
    def on_install_certificate(self, certificate_type: str, certificate: str, **_):
        status = "Accepted" if self._install(certificate_type, certificate) else "Rejected"
        return call_result.InstallCertificate(status=status)

    @on(Action.get_installed_certificate_ids)
    def on_get_installed_certificate_ids(self, certificate_type: list | None = None, **_):
        chain = [entry for entry in self._installed_roots(certificate_type)
                 if entry["certificateType"] in certificates.TRUST_ANCHOR_TYPES]
        if not chain:
            return call_result.GetInstalledCertificateIds(status="NotFound")
        return call_result.GetInstalledCertificateIds(status="Accepted", certificate_hash_data_chain=chain)

    @on(Action.certificate_signed)
    def on_certificate_signed(self, certificate_chain: str, certificate_type: str | None = None, **_):
        accepted = (certificate_type in (None, certificates.STATION_CERTIFICATE)
                    and self._accept_signed_chain(certificate_chain))
        return call_result.CertificateSigned(status="Accepted" if accepted else "Rejected")

    # --- trigger ---------------------------------------------------------------------------------------

    @on(Action.trigger_message)
    def on_trigger_message(self, requested_message: str, evse: dict | None = None, **_):
        if requested_message == "BootNotification" and self.station.boot_accepted:
            # F06.FR.17: once a BootNotification was Accepted, a triggered one is refused
            return call_result.TriggerMessage(status="Rejected")
        status = "Accepted" if requested_message in TRIGGERS else "NotImplemented"
        return call_result.TriggerMessage(status=status)

    @after(Action.trigger_message)
    async def after_trigger_message(self, requested_message: str, evse: dict | None = None, **_):
        if requested_message == "SignChargingStationCertificate":
            await self.send_sign_certificate()
        elif requested_message == "BootNotification":
            await self.station.triggered_boot(self)
        elif requested_message == "StatusNotification":
            await self.station.send_status_notifications(self, (evse or {}).get("id"))
        elif requested_message == "Heartbeat":
            await self.call(call.Heartbeat())

    async def send_sign_certificate(self) -> None:
        csr = self._new_csr(self.state.value("SecurityCtrlr", "OrganizationName") or "")
        await self.call(call.SignCertificate(csr=csr, certificate_type=certificates.STATION_CERTIFICATE))

    # --- local authorization list ------------------------------------------------------------------------

    @on(Action.send_local_list)
    def on_send_local_list(self, version_number: int, update_type: str, local_authorization_list=None, **_):
        local_list = self.state.local_list
        updates = [snake_to_camel_case(entry) for entry in local_authorization_list or []]
        if update_type == "Full":
            entries = [entry for entry in updates if entry.get("idTokenInfo")]
        elif version_number <= local_list["version"]:
            return call_result.SendLocalList(status="VersionMismatch")
        else:
            entries = merge_local_list(local_list["entries"], updates, _id_token_of, "idTokenInfo")
        self.state.local_list = {"version": version_number, "entries": entries}
        self.state.device_model.set_now(variable_key("LocalAuthListCtrlr", "Entries"), str(len(entries)))
        self.state.save()
        return call_result.SendLocalList(status="Accepted")

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self, **_):
        return call_result.GetLocalListVersion(version_number=self.state.local_list["version"])

    # --- smart charging --------------------------------------------------------------------------------

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, evse_id: int, charging_profile: dict, **_):
        profile = snake_to_camel_case(charging_profile)
        if profile["chargingProfilePurpose"] not in self.station.model.purposes:
            return call_result.SetChargingProfile(status="Rejected", status_info={
                "reasonCode": "NotSupported",
                "additionalInfo": f"{profile['chargingProfilePurpose']} is not supported"})
        if not self.station.accepts_charging_profile(evse_id, profile):
            return call_result.SetChargingProfile(status="Rejected")
        self.state.charging_profiles = {
            profile_id: stored for profile_id, stored in self.state.charging_profiles.items()
            if not _same_slot(stored, evse_id, profile)}
        self.state.charging_profiles[profile["id"]] = {"evse_id": evse_id, "profile": profile}
        self._count_charging_profiles()
        return call_result.SetChargingProfile(status="Accepted")

    def _count_charging_profiles(self) -> None:
        key = variable_key("SmartChargingCtrlr", "Entries", variable_instance="ChargingProfiles")
        self.state.device_model.set_now(key, str(len(self.state.charging_profiles)))
        self.state.save()

    @on(Action.get_charging_profiles)
    def on_get_charging_profiles(self, request_id: int, charging_profile: dict, evse_id: int | None = None, **_):
        status = "Accepted" if self._matching_profiles(charging_profile, evse_id) else "NoProfiles"
        return call_result.GetChargingProfiles(status=status)

    @after(Action.get_charging_profiles)
    async def after_get_charging_profiles(self, request_id: int, charging_profile: dict, evse_id=None, **_):
        by_evse: dict[int, list] = {}
        for stored in self._matching_profiles(charging_profile, evse_id):
            by_evse.setdefault(stored["evse_id"], []).append(stored["profile"])
        for number, (evse, profiles) in enumerate(sorted(by_evse.items())):
            await self.call(call.ReportChargingProfiles(
                request_id=request_id, charging_limit_source="CSO", charging_profile=profiles, evse_id=evse,
                tbc=number < len(by_evse) - 1))

    def _matching_profiles(self, criterion: dict, evse_id: int | None) -> list[dict]:
        wanted_ids = criterion.get("charging_profile_id") or []
        matches = []
        for profile_id, stored in sorted(self.state.charging_profiles.items()):
            profile = stored["profile"]
            if ((evse_id is None or stored["evse_id"] == evse_id)
                    and (not wanted_ids or profile_id in wanted_ids)
                    and criterion.get("charging_profile_purpose") in (None, profile["chargingProfilePurpose"])
                    and criterion.get("stack_level") in (None, profile["stackLevel"])):
                matches.append(stored)
        return matches

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(self, charging_profile_id: int | None = None, charging_profile_criteria=None, **_):
        criteria = charging_profile_criteria or {}
        kept = {profile_id: stored for profile_id, stored in self.state.charging_profiles.items()
                if not _clear_matches(profile_id, stored, charging_profile_id, criteria)}
        if len(kept) == len(self.state.charging_profiles):
            return call_result.ClearChargingProfile(status="Unknown")
        self.state.charging_profiles = kept
        self._count_charging_profiles()
        return call_result.ClearChargingProfile(status="Accepted")


def _same_slot(stored: dict, evse_id: int, profile: dict) -> bool:
    """A profile with the same purpose and stack level on the same EVSE is replaced (K01.FR.05)."""
    other = stored["profile"]
    return (stored["evse_id"] == evse_id and other["stackLevel"] == profile["stackLevel"]
            and other["chargingProfilePurpose"] == profile["chargingProfilePurpose"])


def _clear_matches(profile_id: int, stored: dict, wanted_id: int | None, criteria: dict) -> bool:
    if wanted_id is not None:
        return profile_id == wanted_id
    profile = stored["profile"]
    return (criteria.get("evse_id") in (None, stored["evse_id"])
            and criteria.get("charging_profile_purpose") in (None, profile["chargingProfilePurpose"])
            and criteria.get("stack_level") in (None, profile["stackLevel"]))


def _id_token_of(entry: dict) -> tuple:
    return entry["idToken"]["idToken"], entry["idToken"]["type"]


def merge_local_list(entries: list[dict], updates: list[dict], token_of, info_field: str) -> list[dict]:
    """Differential update (2.0.1 D01, 1.6 SendLocalList): entries with ``info_field`` are added or replaced, entries
    without it are removed; ``token_of`` names an entry's token."""
    by_token = {token_of(entry): entry for entry in entries}
    for update in updates:
        if update.get(info_field):
            by_token[token_of(update)] = update
        else:
            by_token.pop(token_of(update), None)
    return list(by_token.values())
