"""The simulated station's device model (OCPP 2.0.1 part 2), one row per variable.

Values live in the station's persisted state, keyed by `VariableDef.key`; this module holds the table
(what exists, its type and mutability, its factory value) and the rules a real station applies when a
CSMS reads or writes a variable.

A station definition's `lab_model` picks one of three station models (`LAB_MODELS`):
- `spec` (default): only the components OCPP 2.0.1 defines, configuration slots 1-3;
- `everest`: the device model an EVerest-based station reports, derived from the public libocpp component
  configuration (`models/everest.json`, written by `everest_import.py`): slots 1-2, MessageTimeout ReadOnly,
  the vendor component `InternalCtrlr`;
- `quirky`: slots 1-2, RateUnit W only, no ChargingStationMaxProfile, ItemsPerMessage 4, and a vendor component
  `NetworkInterface` (instances Wired0, Wireless0, Cellular0) for addressing, DNS, Wi-Fi and the SIM's ICCID.
"""
from __future__ import annotations

import ipaddress
import json
import re
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlparse

READ_ONLY = "ReadOnly"
READ_WRITE = "ReadWrite"
WRITE_ONLY = "WriteOnly"

MEASURANDS = ("Energy.Active.Import.Register,Current.Import,Power.Active.Import,Voltage,SoC,"
              "Current.Offered,Energy.Active.Export.Register,Frequency")
NETWORK_INTERFACES = ("Wired0", "Wireless0", "Cellular0")
EVEREST_MODEL = Path(__file__).parent / "models" / "everest.json"
ALL_PURPOSES = ("ChargingStationMaxProfile", "TxDefaultProfile")


@dataclass(frozen=True)
class LabModel:
    """What differs between the lab's station models apart from the variable table."""

    slots: str = "1,2,3"
    rate_units: str = "A,W"
    items_per_message: int | None = None
    purposes: tuple[str, ...] = ALL_PURPOSES


LAB_MODELS = {
    "spec": LabModel(),
    "everest": LabModel(slots="1,2"),
    "quirky": LabModel(slots="1,2", rate_units="W", items_per_message=4, purposes=("TxDefaultProfile",)),
}


def lab_model(station: dict) -> LabModel:
    return LAB_MODELS[station.get("lab_model") or "spec"]


@dataclass(frozen=True)
class VariableDef:
    """One device-model variable: where it lives, what it holds and who may change it."""

    component: str
    variable: str
    data_type: str
    mutability: str
    value: str | None = None
    reboot_required: bool = False
    component_instance: str | None = None
    variable_instance: str | None = None
    evse: int | None = None
    connector: int | None = None
    values_list: tuple[str, ...] | None = None
    unit: str | None = None
    max_limit: float | None = None
    validator: str | None = None
    min_limit: float | None = None

    @property
    def key(self) -> str:
        return variable_key(self.component, self.variable, self.component_instance, self.variable_instance,
                            self.evse, self.connector)

    @property
    def component_ref(self) -> dict:
        component: dict = {"name": self.component}
        if self.component_instance is not None:
            component["instance"] = self.component_instance
        if self.evse is not None:
            component["evse"] = {"id": self.evse}
            if self.connector is not None:
                component["evse"]["connectorId"] = self.connector
        return component

    @property
    def variable_ref(self) -> dict:
        variable: dict = {"name": self.variable}
        if self.variable_instance is not None:
            variable["instance"] = self.variable_instance
        return variable

    def characteristics(self) -> dict:
        characteristics: dict = {"dataType": self.data_type, "supportsMonitoring": False}
        if self.unit:
            characteristics["unit"] = self.unit
        if self.min_limit is not None:
            characteristics["minLimit"] = self.min_limit
        if self.max_limit is not None:
            characteristics["maxLimit"] = self.max_limit
        if self.values_list:
            characteristics["valuesList"] = ",".join(self.values_list)
        return characteristics


def variable_key(component: str, variable: str, component_instance: str | None = None,
                 variable_instance: str | None = None, evse: int | None = None, connector: int | None = None) -> str:
    """A stable string key: `Component[inst]@evse.connector/Variable[inst]`."""
    key = component + (f"[{component_instance}]" if component_instance else "")
    if evse is not None:
        key += f"@{evse}" + (f".{connector}" if connector is not None else "")
    return key + "/" + variable + (f"[{variable_instance}]" if variable_instance else "")


#: the minLimit a station reports for a variable with this validator
_MIN_LIMITS = {"positive": 1, "non_negative": 0}


def _def(component, variable, data_type, mutability, value=None, **extra) -> VariableDef:
    if extra.get("validator") in _MIN_LIMITS:
        extra.setdefault("min_limit", _MIN_LIMITS[extra["validator"]])
    return VariableDef(component, variable, data_type, mutability, value, **extra)


def _controller_variables(station_id: str, model: LabModel) -> list[VariableDef]:
    comm, sec, clock, smart = "OCPPCommCtrlr", "SecurityCtrlr", "ClockCtrlr", "SmartChargingCtrlr"
    local, auth, sampled, aligned = "LocalAuthListCtrlr", "AuthCtrlr", "SampledDataCtrlr", "AlignedDataCtrlr"
    device, tx = "DeviceDataCtrlr", "TxCtrlr"
    rows = [
        _def(comm, "NetworkConfigurationPriority", "SequenceList", READ_WRITE, model.slots.split(",")[0],
             reboot_required=True, validator="priority", values_list=tuple(model.slots.split(","))),
        _def(comm, "NetworkProfileConnectionAttempts", "integer", READ_WRITE, "2", validator="positive"),
        _def(comm, "OfflineThreshold", "integer", READ_WRITE, "60", unit="s", validator="positive"),
        # configured through the network connection profile (messageTimeout), as OCPP 2.0.1 intends
        _def(comm, "MessageTimeout", "integer", READ_ONLY, "30", variable_instance="Default", unit="s"),
        _def(comm, "HeartbeatInterval", "integer", READ_WRITE, "300", unit="s", validator="positive"),
        _def(comm, "ResetRetries", "integer", READ_WRITE, "2", validator="non_negative"),
        _def(comm, "WebSocketPingInterval", "integer", READ_WRITE, "0", unit="s", validator="non_negative"),
        _def(comm, "FileTransferProtocols", "MemberList", READ_ONLY, "HTTPS,FTPS",
             values_list=("FTP", "FTPS", "HTTP", "HTTPS", "SFTP")),
        _def(sec, "SecurityProfile", "integer", READ_ONLY, "1"),
        _def(sec, "OrganizationName", "string", READ_WRITE, "Factory"),
        _def(sec, "Identity", "string", READ_ONLY, station_id),
        _def(sec, "BasicAuthPassword", "string", WRITE_ONLY, None, validator="password"),
        _def(sec, "CertificateEntries", "integer", READ_ONLY, "0"),
        _def(sec, "AllowSecurityProfileDowngrade", "boolean", READ_WRITE, "false"),
        _def(clock, "DateTime", "dateTime", READ_ONLY, None),
        _def(clock, "TimeSource", "SequenceList", READ_WRITE, "Heartbeat",
             values_list=("Heartbeat", "NTP", "GPS", "RealTimeClock", "MobileNetwork", "RadioTimeTransmitter")),
        _def(clock, "NtpServerUri", "string", READ_WRITE, "", variable_instance="1"),
        _def(clock, "NtpServerUri", "string", READ_WRITE, "", variable_instance="2"),
        _def(clock, "TimeZone", "string", READ_WRITE, "UTC"),
        _def(smart, "Enabled", "boolean", READ_WRITE, "true"),
        _def(smart, "RateUnit", "MemberList", READ_ONLY, model.rate_units, values_list=tuple(model.rate_units.split(","))),
        _def(smart, "Entries", "integer", READ_ONLY, "0", variable_instance="ChargingProfiles"),
        _def(smart, "ProfileStackLevel", "integer", READ_ONLY, "8"),
        _def(smart, "PeriodsPerSchedule", "integer", READ_ONLY, "24"),
        _def(smart, "LimitChangeSignificance", "decimal", READ_WRITE, "0.1", validator="non_negative"),
        _def(local, "Enabled", "boolean", READ_WRITE, "true"),
        _def(local, "Entries", "integer", READ_ONLY, "0"),
        _def(local, "ItemsPerMessage", "integer", READ_ONLY, "100"),
        _def(local, "BytesPerMessage", "integer", READ_ONLY, "16384"),
        _def(local, "Storage", "integer", READ_ONLY, "1048576", unit="B"),
        _def(auth, "Enabled", "boolean", READ_WRITE, "true"),
        _def(auth, "AuthorizeRemoteStart", "boolean", READ_WRITE, "true"),
        _def(auth, "LocalAuthorizeOffline", "boolean", READ_WRITE, "true"),
        _def(auth, "LocalPreAuthorize", "boolean", READ_WRITE, "false"),
        _def(auth, "OfflineTxForUnknownIdEnabled", "boolean", READ_WRITE, "false"),
        _def(sampled, "Enabled", "boolean", READ_WRITE, "true"),
        _def(sampled, "TxUpdatedMeasurands", "MemberList", READ_WRITE, "Energy.Active.Import.Register",
             values_list=tuple(MEASURANDS.split(","))),
        _def(sampled, "TxUpdatedInterval", "integer", READ_WRITE, "60", unit="s", validator="non_negative"),
        _def(sampled, "TxEndedMeasurands", "MemberList", READ_WRITE, "Energy.Active.Import.Register",
             values_list=tuple(MEASURANDS.split(","))),
        _def(sampled, "TxEndedInterval", "integer", READ_WRITE, "0", unit="s", validator="non_negative"),
        _def(aligned, "Enabled", "boolean", READ_WRITE, "false"),
        _def(aligned, "Measurands", "MemberList", READ_WRITE, "Energy.Active.Import.Register",
             values_list=tuple(MEASURANDS.split(","))),
        _def(aligned, "Interval", "integer", READ_WRITE, "900", unit="s", validator="non_negative"),
        _def(device, "ItemsPerMessage", "integer", READ_ONLY, str(model.items_per_message or 16),
             variable_instance="GetVariables"),
        _def(device, "ItemsPerMessage", "integer", READ_ONLY, str(model.items_per_message or 8),
             variable_instance="SetVariables"),
        _def(device, "ItemsPerMessage", "integer", READ_ONLY, str(model.items_per_message or 50),
             variable_instance="GetReport"),
        _def(device, "BytesPerMessage", "integer", READ_ONLY, "8192", variable_instance="GetVariables"),
        _def(device, "BytesPerMessage", "integer", READ_ONLY, "8192", variable_instance="SetVariables"),
        _def(device, "BytesPerMessage", "integer", READ_ONLY, "16384", variable_instance="GetReport"),
        _def(tx, "EVConnectionTimeOut", "integer", READ_WRITE, "60", unit="s", validator="non_negative"),
        _def(tx, "StopTxOnInvalidId", "boolean", READ_WRITE, "true"),
    ]
    return rows


def _station_variables(station: dict) -> list[VariableDef]:
    cs = "ChargingStation"
    rows = [
        _def(cs, "Model", "string", READ_ONLY, station["model"]),
        _def(cs, "VendorName", "string", READ_ONLY, station["vendor"]),
        _def(cs, "SerialNumber", "string", READ_ONLY, station["serial_number"]),
        _def(cs, "FirmwareVersion", "string", READ_ONLY, station["firmware_version"]),
        _def(cs, "AvailabilityState", "OptionList", READ_ONLY, "Available",
             values_list=("Available", "Occupied", "Reserved", "Unavailable", "Faulted")),
    ]
    for evse in station["evses"]:
        phases = str(evse.get("phases", 3))
        power = float(evse["max_current_a"]) * 230 * int(phases)
        rows += [
            _def("EVSE", "AvailabilityState", "OptionList", READ_ONLY, "Available", evse=evse["id"],
                 values_list=("Available", "Occupied", "Reserved", "Unavailable", "Faulted")),
            _def("EVSE", "Power", "decimal", READ_ONLY, "0", evse=evse["id"], unit="W", max_limit=power),
            _def("EVSE", "SupplyPhases", "integer", READ_ONLY, phases, evse=evse["id"]),
        ]
        for connector in evse["connectors"]:
            where = {"evse": evse["id"], "connector": connector["id"]}
            rows += [
                _def("Connector", "ConnectorType", "string", READ_ONLY, connector["type"], **where),
                _def("Connector", "SupplyPhases", "integer", READ_ONLY, phases, **where),
                _def("Connector", "AvailabilityState", "OptionList", READ_ONLY, "Available", **where,
                     values_list=("Available", "Occupied", "Reserved", "Unavailable", "Faulted")),
            ]
    return rows


def _iccid(station_id: str) -> str:
    """A plausible, stable 19-digit ICCID (89 = telecom, 49 = country, issuer, account)."""
    body = "894901" + f"{zlib.crc32(station_id.encode()):010d}"[-10:] + "00"
    return body + _luhn_digit(body)


def _luhn_digit(digits: str) -> str:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char) * (2 if position % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return str((10 - total % 10) % 10)


def _network_interface_variables(station_id: str, iccid: str | None = None) -> list[VariableDef]:
    rows = []
    for instance in NETWORK_INTERFACES:
        def nic(variable, data_type, mutability, value, **extra):
            return _def("NetworkInterface", variable, data_type, mutability, value, component_instance=instance,
                        reboot_required=mutability != READ_ONLY, **extra)

        rows += [
            nic("Enabled", "boolean", READ_WRITE, "true" if instance == "Wired0" else "false"),
            nic("AddressMode", "OptionList", READ_WRITE, "DHCP", values_list=("DHCP", "Static")),
            nic("Ipv4Address", "string", READ_WRITE, "", validator="cidr"),
            nic("Ipv4Gateway", "string", READ_WRITE, "", validator="ipv4"),
            nic("DnsServers", "string", READ_WRITE, "", validator="ipv4_list"),
            nic("VpnEnabled", "boolean", READ_WRITE, "false"),
        ]
        if instance == "Wireless0":
            rows += [nic("Ssid", "string", READ_WRITE, ""),
                     nic("WifiPassphrase", "string", WRITE_ONLY, None, validator="passphrase")]
        if instance == "Cellular0":
            rows += [nic("Apn", "string", READ_WRITE, ""),
                     nic("ApnUsername", "string", READ_WRITE, ""),
                     nic("ApnPassword", "string", WRITE_ONLY, None),
                     nic("Iccid", "string", READ_ONLY, iccid or _iccid(station_id))]
    return rows


def _everest_rows(kind: str) -> list[dict]:
    return [row for row in json.loads(EVEREST_MODEL.read_text())["variables"] if row["scope"] == kind]


def _from_everest(row: dict, value: str | None = None, **where) -> VariableDef:
    values_list = tuple(row["values_list"].split(",")) if row.get("values_list") else None
    validator = {"NetworkConfigurationPriority": "priority"}.get(row["variable"])
    return VariableDef(row["component"], row["variable"], row["data_type"], row["mutability"],
                       row.get("value") if value is None else value, variable_instance=row.get("instance"),
                       values_list=values_list, unit=row.get("unit"), min_limit=row.get("min_limit"),
                       max_limit=row.get("max_limit"), validator=validator,
                       reboot_required=row["variable"] == "NetworkConfigurationPriority", **where)


def _everest_table(station: dict) -> list[VariableDef]:
    """The libocpp controllers with this station's identity, then libocpp's EVSE and Connector variables per EVSE."""
    own = {("SecurityCtrlr", "Identity"): station["id"], ("SecurityCtrlr", "SecurityProfile"): "1",
           ("ChargingStation", "Model"): station["model"], ("ChargingStation", "VendorName"): station["vendor"],
           ("ChargingStation", "SerialNumber"): station["serial_number"],
           ("ChargingStation", "FirmwareVersion"): station["firmware_version"],
           ("InternalCtrlr", "ChargePointId"): station["id"], ("InternalCtrlr", "ICCID"): station.get("iccid")}
    rows = [_from_everest(row, own.get((row["component"], row["variable"]))) for row in _everest_rows("station")
            if row["variable"] != "NetworkConnectionProfiles"]
    for evse in station["evses"]:
        phases = str(evse.get("phases", 3))
        evse_values = {"SupplyPhases": phases, "AvailabilityState": "Available", "Available": "true",
                       "Power": "0"}
        rows += [_from_everest(row, evse_values.get(row["variable"]), evse=evse["id"]) for row in _everest_rows("evse")]
        for connector in evse["connectors"]:
            values = {"ConnectorType": connector["type"], "SupplyPhases": phases, "AvailabilityState": "Available",
                      "Available": "true"}
            rows += [_from_everest(row, values.get(row["variable"]), evse=evse["id"], connector=connector["id"])
                     for row in _everest_rows("connector")]
    return rows


def build_table(station: dict) -> list[VariableDef]:
    """Every variable of one station, in report order, as its lab model has them."""
    station_id = station["id"]
    kind = station.get("lab_model") or "spec"
    if kind not in LAB_MODELS:
        raise ValueError(f"station {station_id}: lab_model {kind} is not one of {', '.join(LAB_MODELS)}")
    if kind == "everest":
        return _everest_table(station)
    rows = _controller_variables(station_id, LAB_MODELS[kind]) + _station_variables(station)
    if kind == "quirky":
        rows += _network_interface_variables(station_id, station.get("iccid"))
        # a vendor diagnostics component: how verbose the station's own log is (OCPP standardizes no such variable)
        rows.append(_def("VendorDiagnostics", "LogLevel", "OptionList", READ_WRITE, "Info",
                         values_list=("Debug", "Info", "Warn", "Error")))
    return rows


def factory_values(table: list[VariableDef]) -> dict[str, str | None]:
    return {row.key: row.value for row in table}


# --- validation --------------------------------------------------------------------------------------------

_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")


def _valid_by_type(row: VariableDef, value: str) -> bool:
    if row.data_type == "integer":
        return re.fullmatch(r"-?\d+", value) is not None
    if row.data_type == "decimal":
        return _DECIMAL.fullmatch(value) is not None
    if row.data_type == "boolean":
        return value in ("true", "false")
    if row.data_type == "dateTime":
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False
        return True
    if row.data_type == "OptionList":
        return value in (row.values_list or ())
    if row.data_type in ("MemberList", "SequenceList") and row.values_list:
        return all(member in row.values_list for member in value.split(",")) and value != ""
    return len(value) <= 2500


def _valid_ipv4(value: str) -> bool:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


def _valid_cidr(value: str) -> bool:
    if "/" not in value:
        return False
    try:
        ipaddress.IPv4Interface(value)
    except ValueError:
        return False
    return True


_VALIDATORS = {
    "positive": lambda value: int(value) > 0,
    "non_negative": lambda value: float(value) >= 0,
    "password": lambda value: 16 <= len(value) <= 40,
    "passphrase": lambda value: 8 <= len(value) <= 63,
    "ipv4": lambda value: value == "" or _valid_ipv4(value),
    "cidr": lambda value: value == "" or _valid_cidr(value),
    "ipv4_list": lambda value: value == "" or all(_valid_ipv4(part.strip()) for part in value.split(",")),
}


def _in_limits(row: VariableDef, value: str) -> bool:
    """minLimit/maxLimit: the number for integer and decimal variables, the length for strings."""
    if row.data_type in ("integer", "decimal"):
        measure = float(value)
    elif row.data_type == "string":
        measure = len(value)
    else:
        return True
    return ((row.min_limit is None or measure >= float(row.min_limit))
            and (row.max_limit is None or measure <= float(row.max_limit)))


def valid_value(row: VariableDef, value: str, network_slots: set[int]) -> bool:
    """True when a real station would accept `value` for `row` (type, valuesList and range)."""
    if not _valid_by_type(row, value) or not _in_limits(row, value):
        return False
    if row.validator == "priority":
        return _valid_priority(value, network_slots)
    check = _VALIDATORS.get(row.validator or "")
    return check(value) if check else True


def _valid_priority(value: str, network_slots: set[int]) -> bool:
    """Each entry a configured slot, none twice (the valuesList, checked by type, holds the slots there are)."""
    parts = value.split(",")
    if not all(part.strip().isdigit() for part in parts):
        return False
    slots = [int(part) for part in parts]
    return len(set(slots)) == len(slots) and all(slot in network_slots for slot in slots)


def valid_csms_url(url: str, security_profile: int) -> bool:
    """ws:// for profile 1 (and 0), wss:// for 2 and 3, with a host."""
    try:
        parsed = urlparse(url)
    except ValueError:
        return False
    expected = "ws" if security_profile <= 1 else "wss"
    return parsed.scheme == expected and bool(parsed.hostname) and " " not in url


def now_rfc3339() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class DeviceModel:
    """The table of one station plus its current values and the values pending a reboot."""

    table: list[VariableDef]
    values: dict[str, str | None]
    pending: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._by_key = {row.key: row for row in self.table}
        self._components = {(row.component, row.component_instance, row.evse, row.connector) for row in self.table}
        for row in self.table:
            self.values.setdefault(row.key, row.value)

    def find(self, component: dict, variable: dict) -> tuple[VariableDef | None, str | None]:
        """(row, None) or (None, "UnknownComponent" | "UnknownVariable") for a request's component/variable."""
        evse = component.get("evse") or {}
        evse_id = evse.get("id")
        connector_id = evse.get("connector_id", evse.get("connectorId"))
        where = (component["name"], component.get("instance"), evse_id, connector_id)
        if where not in self._components:
            return None, "UnknownComponent"
        key = variable_key(where[0], variable["name"], where[1], variable.get("instance"), evse_id, connector_id)
        row = self._by_key.get(key)
        return (row, None) if row else (None, "UnknownVariable")

    def set_now(self, key: str, value: str | None) -> None:
        self.values[key] = value

    def set_pending(self, key: str, value: str) -> None:
        self.pending[key] = value

    def apply_pending(self) -> list[str]:
        applied = list(self.pending)
        self.values.update(self.pending)
        self.pending.clear()
        return applied

    def actual(self, row: VariableDef) -> str | None:
        if row.key == variable_key("ClockCtrlr", "DateTime"):
            return now_rfc3339()
        return self.values.get(row.key)

    def report_data(self) -> list[dict]:
        """NotifyReport reportData for the full model (WriteOnly values are never reported)."""
        items = []
        for row in self.table:
            attribute: dict = {"type": "Actual", "mutability": row.mutability, "persistent": True,
                               "constant": row.mutability == READ_ONLY}
            value = self.actual(row)
            if row.mutability != WRITE_ONLY and value is not None:
                attribute["value"] = value
            items.append({"component": row.component_ref, "variable": row.variable_ref,
                          "variableAttribute": [attribute], "variableCharacteristics": row.characteristics()})
        return items

    def snapshot(self) -> list[dict]:
        """The control API's view: every variable with its value (WriteOnly as null) and pending value."""
        items = []
        for row in self.table:
            hidden = row.mutability == WRITE_ONLY
            attributes = {"type": "Actual", "mutability": row.mutability,
                          "value": None if hidden else self.actual(row),
                          "reboot_required": row.reboot_required}
            if row.key in self.pending:
                attributes["pending_value"] = None if hidden else self.pending[row.key]
            items.append({"component": row.component_ref, "variable": row.variable_ref, "attributes": attributes,
                          "characteristics": row.characteristics()})
        return items
