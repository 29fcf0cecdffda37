"""What a simulated station remembers across power cycles: one JSON file per station plus its key files."""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import certificates
from .config_keys import (
    AUTHORIZATION_KEY, SECURITY_PROFILE_KEY, VENDOR_URL_KEY, ConfigKeys, build_keys,
)
from .device_model import DeviceModel, build_table, factory_values, lab_model, now_rfc3339, variable_key

HISTORY_LIMIT = 50
BASIC_AUTH_PASSWORD = variable_key("SecurityCtrlr", "BasicAuthPassword")
SECURITY_PROFILE = variable_key("SecurityCtrlr", "SecurityProfile")
PRIORITY = variable_key("OCPPCommCtrlr", "NetworkConfigurationPriority")


def atomic_write(path: Path, data: bytes, mode: int = 0o600, durable: bool = True) -> None:
    """Write `data` to `path` through a temporary file in the same directory and a rename (`durable`: fsync first)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(handle, mode)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            if durable:
                os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@dataclass
class Factory:
    """How every station leaves the factory."""

    csms_url: str
    staging_password: str
    security_profile: int = 1

    def profile(self) -> dict:
        """The connection profile a station leaves the factory with, in its first configuration slot."""
        return {"ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": self.csms_url,
                "messageTimeout": 30, "securityProfile": self.security_profile, "ocppInterface": "Wired0"}


@dataclass
class StationState:
    """The persisted state of one station; `save()` after every change."""

    #: the certificate types of the CSMS trust anchor and of the station's own certificate (OCPP 2.0.1 names)
    ROOT_TYPE = "CSMSRootCertificate"
    STATION_CERTIFICATE_TYPE = certificates.STATION_CERTIFICATE

    definition: dict
    directory: Path
    device_model: DeviceModel
    network_profiles: dict[int, dict] = field(default_factory=dict)
    installed_certificates: list[dict] = field(default_factory=list)
    charging_profiles: dict[int, dict] = field(default_factory=dict)
    local_list: dict = field(default_factory=lambda: {"version": 0, "entries": []})
    monitors: list[dict] = field(default_factory=list)
    connect_history: list[dict] = field(default_factory=list)
    resets: int = 0
    availability: dict[str, str] = field(default_factory=dict)
    boot_reason: str = "PowerUp"

    @property
    def station_id(self) -> str:
        return self.definition["id"]

    @property
    def json_path(self) -> Path:
        return self.directory / f"{self.station_id}.json"

    @property
    def key_path(self) -> Path:
        return self.directory / f"{self.station_id}.key"

    @property
    def pending_key_path(self) -> Path:
        return self.directory / f"{self.station_id}.pending.key"

    @property
    def certificate_path(self) -> Path:
        return self.directory / f"{self.station_id}.crt"

    # --- lifecycle -------------------------------------------------------------------------------------

    @classmethod
    def factory_new(cls, definition: dict, directory: Path, factory: Factory) -> StationState:
        values = factory_values(build_table(definition))
        values[BASIC_AUTH_PASSWORD] = factory.staging_password
        values[SECURITY_PROFILE] = str(factory.security_profile)
        first_slot = int(lab_model(definition).slots.split(",")[0])
        values[PRIORITY] = str(first_slot)
        state = cls(definition, directory, DeviceModel(build_table(definition), values),
                    network_profiles={first_slot: factory.profile()})
        state.forget_key_files()
        return state

    def forget_key_files(self) -> None:
        """A factory reset wipes the station's key pairs and its certificate."""
        for path in (self.key_path, self.pending_key_path, self.certificate_path):
            path.unlink(missing_ok=True)

    @classmethod
    def load_or_create(cls, definition: dict, directory: Path, factory: Factory) -> StationState:
        path = directory / f"{definition['id']}.json"
        if not path.exists():
            state = cls.factory_new(definition, directory, factory)
            state.save()
            return state
        stored = json.loads(path.read_text())
        model = cls._model(stored["definition"], factory, stored["values"], stored.get("pending", {}))
        return cls(stored["definition"], directory, model,
                   network_profiles={int(slot): data for slot, data in stored["network_profiles"].items()},
                   installed_certificates=stored["installed_certificates"],
                   charging_profiles={int(k): v for k, v in stored["charging_profiles"].items()},
                   local_list=stored["local_list"], monitors=stored["monitors"],
                   connect_history=stored["connect_history"], resets=stored["resets"],
                   availability=stored.get("availability", {}), boot_reason=stored.get("boot_reason", "PowerUp"),
                   **cls._more_fields(stored))

    @classmethod
    def _model(cls, definition: dict, factory: Factory, values: dict, pending: dict):
        """The station's configuration store (the 2.0.1 device model here) over stored values."""
        return DeviceModel(build_table(definition), values, pending)

    @classmethod
    def _more_fields(cls, stored: dict) -> dict:
        """Fields a subclass keeps beyond the common ones, from the stored document."""
        return {}

    def _document(self) -> dict:
        return {
            "definition": self.definition,
            "values": self.device_model.values,
            "pending": self.device_model.pending,
            "network_profiles": {str(slot): data for slot, data in self.network_profiles.items()},
            "installed_certificates": self.installed_certificates,
            "charging_profiles": {str(k): v for k, v in self.charging_profiles.items()},
            "local_list": self.local_list,
            "monitors": self.monitors,
            "connect_history": self.connect_history,
            "resets": self.resets,
            "availability": self.availability,
            "boot_reason": self.boot_reason,
        }

    def save(self, durable: bool = True) -> None:
        """Persist the station (``durable``: fsync it; a record of a failed connection is not worth one: thousands of
        stations retrying at once would stall the simulator's event loop on the disk, issue 22)."""
        atomic_write(self.json_path, json.dumps(self._document(), indent=1).encode(), durable=durable)

    # --- derived values --------------------------------------------------------------------------------

    def value(self, component: str, variable: str, instance: str | None = None) -> str | None:
        return self.device_model.values.get(variable_key(component, variable, variable_instance=instance))

    @property
    def security_profile(self) -> int:
        return int(self.value("SecurityCtrlr", "SecurityProfile") or 1)

    @property
    def priority(self) -> list[int]:
        return [int(slot) for slot in (self.value("OCPPCommCtrlr", "NetworkConfigurationPriority") or "").split(",")
                if slot.strip().isdigit()]

    @property
    def slots(self) -> set[int]:
        """The configuration slots this station has: the valuesList of NetworkConfigurationPriority."""
        row, _ = self.device_model.find({"name": "OCPPCommCtrlr"}, {"name": "NetworkConfigurationPriority"})
        return {int(slot) for slot in (row.values_list or ()) if slot.isdigit()} if row else set()

    @property
    def identity(self) -> str:
        return self.value("SecurityCtrlr", "Identity") or self.station_id

    @property
    def basic_auth_password(self) -> str | None:
        return self.device_model.values.get(BASIC_AUTH_PASSWORD)

    def record_connect(self, url: str, security_profile: int, result: str) -> None:
        self.connect_history.append({"at": now_rfc3339(), "url": url, "security_profile": security_profile,
                                     "result": result})
        del self.connect_history[:-HISTORY_LIMIT]

    # --- certificates ----------------------------------------------------------------------------------

    def certificates_of(self, types: list[str] | None) -> list[dict]:
        return [entry for entry in self.installed_certificates if not types or entry["certificate_type"] in types]

    def install_certificate(self, certificate_type: str, pem: str) -> None:
        hash_data = certificates.certificate_hash_data(pem)
        self.installed_certificates = [entry for entry in self.installed_certificates
                                       if not (entry["certificate_type"] == certificate_type
                                               and entry["hash_data"] == hash_data)]
        self.installed_certificates.append({"certificate_type": certificate_type, "pem": pem, "hash_data": hash_data})
        self._count_certificates()

    def delete_certificate(self, hash_data: dict) -> bool:
        wanted = {key: str(value).lower() for key, value in hash_data.items()}
        kept = [entry for entry in self.installed_certificates
                if {key: value.lower() for key, value in entry["hash_data"].items()} != wanted]
        deleted = len(kept) != len(self.installed_certificates)
        self.installed_certificates = kept
        self._count_certificates()
        return deleted

    def _count_certificates(self) -> None:
        self.device_model.set_now(variable_key("SecurityCtrlr", "CertificateEntries"),
                                  str(len(self.installed_certificates)))

    def new_pending_key(self):
        key = certificates.new_private_key()
        atomic_write(self.pending_key_path, certificates.private_key_pem(key))
        return key

    def pending_key(self):
        if not self.pending_key_path.exists():
            return None
        return certificates.load_private_key(self.pending_key_path.read_bytes())

    def activate_station_certificate(self, pem: str) -> None:
        """The signed chain becomes the station certificate; the pending key becomes the station key."""
        os.replace(self.pending_key_path, self.key_path)
        atomic_write(self.certificate_path, pem.encode(), mode=0o644)
        self.installed_certificates = [entry for entry in self.installed_certificates
                                       if entry["certificate_type"] != self.STATION_CERTIFICATE_TYPE]
        self.install_certificate(self.STATION_CERTIFICATE_TYPE, pem)

    def has_station_certificate(self) -> bool:
        return self.key_path.exists() and self.certificate_path.exists()

    def root_certificates_pem(self) -> str:
        return "".join(entry["pem"] for entry in self.certificates_of([self.ROOT_TYPE]))


@dataclass
class StationState16(StationState):
    """A 1.6J charge point: configuration keys (`config_keys.ConfigKeys`, kept in `device_model`) instead of a device
    model, no configuration slots, and the connection it last made (SecurityProfile and Central System URL), which it
    falls back to when it cannot connect with new ones (the Security Extension's rule)."""

    ROOT_TYPE = "CentralSystemRootCertificate"
    STATION_CERTIFICATE_TYPE = "ChargePointCertificate"

    #: {"security_profile": int, "url": str} of the last successful connection
    last_good_connection: dict | None = None

    @classmethod
    def factory_new(cls, definition: dict, directory: Path, factory: Factory) -> StationState16:
        model = cls._model(definition, factory, {}, {})
        model.set_now(AUTHORIZATION_KEY, factory.staging_password.encode().hex())
        model.set_now(SECURITY_PROFILE_KEY, str(factory.security_profile))
        state = cls(definition, directory, model)
        state.forget_key_files()
        return state

    @classmethod
    def _model(cls, definition: dict, factory: Factory, values: dict, pending: dict) -> ConfigKeys:
        return ConfigKeys(build_keys(definition, factory.csms_url), values, pending)

    @classmethod
    def _more_fields(cls, stored: dict) -> dict:
        return {"last_good_connection": stored.get("last_good_connection")}

    def _document(self) -> dict:
        return dict(super()._document(), last_good_connection=self.last_good_connection)

    def key(self, name: str) -> str | None:
        return self.device_model.values.get(name)

    def value(self, component: str, variable: str, instance: str | None = None) -> str | None:
        raise TypeError("a 1.6 station has configuration keys, not a device model: use key()")

    @property
    def security_profile(self) -> int:
        return int(self.key(SECURITY_PROFILE_KEY) or 0)

    @property
    def csms_url(self) -> str:
        return self.key(VENDOR_URL_KEY) or ""

    @property
    def identity(self) -> str:
        """The CN of the Charge Point certificate: the charge point's serial number (Security Extension, A00.FR.405)."""
        return self.definition["serial_number"]

    @property
    def basic_auth_password(self) -> bytes | None:
        """The password basic auth sends: the bytes the AuthorizationKey's hexadecimal representation stands for."""
        hex_key = self.key(AUTHORIZATION_KEY)
        return bytes.fromhex(hex_key) if hex_key else None

    def _count_certificates(self) -> None:
        """1.6 has no key counting installed certificates."""
