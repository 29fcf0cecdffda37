"""The configuration keys of a simulated OCPP 1.6J charge point (OCPP 1.6 section 9 plus the Security Extension).

OCPP 1.6 has no device model: a charge point exposes flat configuration keys, each readonly or read-write, read with
GetConfiguration and written with ChangeConfiguration. The lab's 1.6 station model `v16` ("SimCharger AC11-16") has
the standard Core, Local Auth List Management, Smart Charging and Reservation keys, the Security Extension's keys
(SecurityProfile, AuthorizationKey, CpoName, ...) and one vendor key, `CentralSystemURL`, holding the Central System
URL (1.6 standardises no key for it). What differs from one real model to another and is modelled here:

- readonly keys (NumberOfConnectors, GetConfigurationMaxKeys, SupportedFeatureProfiles, the *MaxLength keys, ...);
- keys that need a reboot on this model (WebSocketPingInterval: the websocket's ping timer is set when it connects;
  CentralSystemURL: the connection is made from it at boot): ChangeConfiguration answers RebootRequired and the value
  applies at the next Reset or power-up;
- AuthorizationKey is write-only: GetConfiguration never returns it, neither as a known nor as an unknown key
  (Security Extension: the Charge Point SHALL NOT return it); its value is the hexadecimal representation of the
  basic-auth password, 16 to 20 bytes (32 to 40 hexadecimal characters), and the station sends the decoded bytes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlparse

VENDOR_URL_KEY = "CentralSystemURL"
SECURITY_PROFILE_KEY = "SecurityProfile"
AUTHORIZATION_KEY = "AuthorizationKey"
CPO_NAME_KEY = "CpoName"

#: OCPP 1.6 Measurand values (section 7.31)
MEASURANDS = frozenset((
    "Current.Export", "Current.Import", "Current.Offered", "Energy.Active.Export.Register",
    "Energy.Active.Import.Register", "Energy.Reactive.Export.Register", "Energy.Reactive.Import.Register",
    "Energy.Active.Export.Interval", "Energy.Active.Import.Interval", "Energy.Reactive.Export.Interval",
    "Energy.Reactive.Import.Interval", "Frequency", "Power.Active.Export", "Power.Active.Import", "Power.Factor",
    "Power.Offered", "Power.Reactive.Export", "Power.Reactive.Import", "RPM", "SoC", "Temperature", "Voltage"))
FEATURE_PROFILES = "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger"
_HEX_KEY = re.compile(r"^[0-9A-Fa-f]{32,40}$")


@dataclass(frozen=True)
class KeyDef:
    """One configuration key: its type (how a value is checked), who may change it and when a change applies."""

    name: str
    kind: str                       # boolean | integer | csl | string | url | hexkey | profile
    value: str | None
    readonly: bool = False
    reboot_required: bool = False
    write_only: bool = False
    members: frozenset[str] | None = None     # csl: allowed members
    max_length_key: str | None = None         # csl: the readonly key that limits the number of members


def _b(name, value, **extra) -> KeyDef:
    return KeyDef(name, "boolean", value, **extra)


def _i(name, value, **extra) -> KeyDef:
    return KeyDef(name, "integer", value, **extra)


def _measurands(name, value, max_length_key) -> KeyDef:
    return KeyDef(name, "csl", value, members=MEASURANDS, max_length_key=max_length_key)


def build_keys(station: dict, factory_url: str) -> list[KeyDef]:
    """The key table of the `v16` model for one station definition."""
    connectors = sum(len(evse["connectors"]) for evse in station["evses"])
    phase_rotation = ",".join(f"{number}.RST" for number in range(connectors + 1))
    return [
        # Core (OCPP 1.6 section 9.1)
        _b("AllowOfflineTxForUnknownId", "false"),
        _b("AuthorizationCacheEnabled", "true"),
        _b("AuthorizeRemoteTxRequests", "true"),
        _i("ClockAlignedDataInterval", "0"),
        _i("ConnectionTimeOut", "60"),
        KeyDef("ConnectorPhaseRotation", "csl", phase_rotation),
        _i("GetConfigurationMaxKeys", "10", readonly=True),
        _i("HeartbeatInterval", "300"),
        _b("LocalAuthorizeOffline", "true"),
        _b("LocalPreAuthorize", "false"),
        _measurands("MeterValuesAlignedData", "Energy.Active.Import.Register", "MeterValuesAlignedDataMaxLength"),
        _i("MeterValuesAlignedDataMaxLength", "8", readonly=True),
        _measurands("MeterValuesSampledData", "Energy.Active.Import.Register", "MeterValuesSampledDataMaxLength"),
        _i("MeterValuesSampledDataMaxLength", "8", readonly=True),
        _i("MeterValueSampleInterval", "60"),
        _i("MinimumStatusDuration", "0"),
        _i("NumberOfConnectors", str(connectors), readonly=True),
        _i("ResetRetries", "3"),
        _b("StopTransactionOnEVSideDisconnect", "true"),
        _b("StopTransactionOnInvalidId", "true"),
        _measurands("StopTxnAlignedData", "", "StopTxnAlignedDataMaxLength"),
        _i("StopTxnAlignedDataMaxLength", "8", readonly=True),
        _measurands("StopTxnSampledData", "", "StopTxnSampledDataMaxLength"),
        _i("StopTxnSampledDataMaxLength", "8", readonly=True),
        KeyDef("SupportedFeatureProfiles", "csl", FEATURE_PROFILES, readonly=True),
        _i("TransactionMessageAttempts", "3"),
        _i("TransactionMessageRetryInterval", "60"),
        _b("UnlockConnectorOnEVSideDisconnect", "true"),
        _i("WebSocketPingInterval", "0", reboot_required=True),
        # Local Auth List Management (9.2)
        _b("LocalAuthListEnabled", "true"),
        _i("LocalAuthListMaxLength", "100", readonly=True),
        _i("SendLocalListMaxLength", "20", readonly=True),
        # Reservation (9.3)
        _b("ReserveConnectorZeroSupported", "false", readonly=True),
        # Smart Charging (9.4)
        _i("ChargeProfileMaxStackLevel", "8", readonly=True),
        KeyDef("ChargingScheduleAllowedChargingRateUnit", "csl", "Current", readonly=True,
               members=frozenset(("Current", "Power"))),
        _i("ChargingScheduleMaxPeriods", "24", readonly=True),
        _b("ConnectorSwitch3to1PhaseSupported", "false", readonly=True),
        _i("MaxChargingProfilesInstalled", "10", readonly=True),
        # Security Extension ("Improved security for OCPP 1.6-J", configuration keys)
        _b("AdditionalRootCertificateCheck", "false", readonly=True),
        KeyDef(AUTHORIZATION_KEY, "hexkey", None, write_only=True),
        _i("CertificateSignedMaxChainSize", "10000", readonly=True),
        _i("CertificateStoreMaxLength", "10", readonly=True),
        KeyDef(CPO_NAME_KEY, "string", None),
        KeyDef(SECURITY_PROFILE_KEY, "profile", "1"),
        # vendor key of this model: where the station connects (a real model names its own key for this)
        KeyDef(VENDOR_URL_KEY, "url", factory_url, reboot_required=True),
    ]


def valid_authorization_key(value: str) -> bool:
    """Security Extension: the hexadecimal representation of a 16 to 20 byte password (32-40 hex digits, even)."""
    return bool(_HEX_KEY.fullmatch(value)) and len(value) % 2 == 0


def valid_url(value: str) -> bool:
    try:
        parsed = urlparse(value)
    except ValueError:
        return False
    return parsed.scheme in ("ws", "wss") and bool(parsed.hostname) and " " not in value


@dataclass
class ConfigKeys:
    """The key table of one station plus its current values and the values pending a reboot."""

    table: list[KeyDef]
    values: dict[str, str | None]
    pending: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_name = {row.name: row for row in self.table}
        for row in self.table:
            self.values.setdefault(row.name, row.value)

    def find(self, name: str) -> KeyDef | None:
        return self._by_name.get(name)

    def set_now(self, name: str, value: str | None) -> None:
        self.values[name] = value

    def set_pending(self, name: str, value: str) -> None:
        self.pending[name] = value

    def apply_pending(self) -> list[str]:
        applied = list(self.pending)
        self.values.update(self.pending)
        self.pending.clear()
        return applied

    def valid(self, row: KeyDef, value: str) -> bool:
        """True when this model accepts `value` for `row` by type, members and length (not the security rules)."""
        if len(value) > 500:
            return False
        if row.kind == "boolean":
            return value.lower() in ("true", "false")
        if row.kind in ("integer", "profile"):
            return re.fullmatch(r"\d+", value) is not None and (row.kind != "profile" or int(value) <= 3)
        if row.kind == "csl":
            members = [member.strip() for member in value.split(",")] if value else []
            limit = self.values.get(row.max_length_key) if row.max_length_key else None
            return ((row.members is None or all(member in row.members for member in members))
                    and (limit is None or len(members) <= int(limit)))
        if row.kind == "url":
            return valid_url(value)
        if row.kind == "hexkey":
            return valid_authorization_key(value)
        return True

    def configuration(self, names: list[str] | None) -> tuple[list[dict], list[str]]:
        """GetConfiguration: (configurationKey, unknownKey). Every key for no names. A write-only key is never
        returned, in neither list (the Security Extension: AuthorizationKey SHALL NOT be returned)."""
        wanted = names if names else [row.name for row in self.table]
        known, unknown = [], []
        for name in wanted:
            row = self._by_name.get(name)
            if row is None:
                unknown.append(name)
                continue
            if row.write_only:
                continue
            item = {"key": row.name, "readonly": row.readonly}
            if self.values.get(row.name) is not None:
                item["value"] = self.values[row.name]
            known.append(item)
        return known, unknown

    def snapshot(self) -> list[dict]:
        """The control API's view: every key with its value (write-only as null) and pending value."""
        items = []
        for row in self.table:
            item = {"key": row.name, "readonly": row.readonly, "reboot_required": row.reboot_required,
                    "write_only": row.write_only, "value": None if row.write_only else self.values.get(row.name)}
            if row.name in self.pending:
                item["pending_value"] = None if row.write_only else self.pending[row.name]
            items.append(item)
        return items
