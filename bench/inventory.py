"""Inventories and playbooks that the fleet benchmark generates for a lab of N stations.

The inventory follows docs/INVENTORY.md and ``inventories/lab``: the environment files of ``inventories/lab``
(``group_vars/all``: endpoints and secrets read lazily from ``$EVCS_LAB_HOME/state.json``) are copied as they are,
then one group per site of ``SITE_SIZE`` stations (a grid cap that fits the sum of the station limits) and one
``host_vars`` file per station, with the hardware ``evcs-lab up --count N`` simulates.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
LAB_INVENTORY = REPO_ROOT / "inventories" / "lab"
SITE_SIZE = 10
STATION_CURRENT_A = 32
#: the lab's 1.6 charge point (lab model v16) has one 16 A socket
STATION16_CURRENT_A = 16
# every 5th station on Wi-Fi, every 7th on cellular, the rest on wired ethernet: all three network modes are exercised
_WIFI_EVERY = 5
_CELLULAR_EVERY = 7


def station_id(number: int) -> str:
    """The station id ``evcs-lab up --count`` gives station ``number`` (1-based)."""
    return f"LAB-CP-{number:04d}"


def site_id(index: int) -> str:
    """Site ``index`` (0-based): ``bench-site-001``..."""
    return f"bench-site-{index + 1:03d}"


def site_group(index: int) -> str:
    """Inventory group name of site ``index`` (group names take no '-')."""
    return site_id(index).replace("-", "_")


def sites_of(count: int, site_size: int = SITE_SIZE) -> list[list[int]]:
    """Station numbers 1..count cut into sites of ``site_size`` (the last one may be smaller)."""
    numbers = list(range(1, count + 1))
    return [numbers[start:start + site_size] for start in range(0, count, site_size)]


def site_vars(index: int, station_count: int) -> dict:
    """``group_vars/<site>.yml``: a site whose grid cap fits the sum of its stations' limits."""
    return {
        "evcs_site": {
            "id": site_id(index),
            "name": f"Bench site {index + 1}",
            "address": {"street": f"Teststr. {index + 1}", "city": "Berlin", "postal_code": "10115", "country": "DE"},
            "coordinates": {"latitude": 52.52, "longitude": 13.40},
            "timezone": "Europe/Berlin",
            "operator": {"name": "EVCS Lab Operator", "organization": "EVCS Lab Operator"},
            "grid_connection": {"max_current_a": station_count * STATION_CURRENT_A, "phases": 3, "voltage_v": 230},
            "load_management_group": None,
            "tariff": {"id": "bench-standard", "currency": "EUR", "price_per_kwh": 0.39, "price_per_minute": 0.0,
                       "session_fee": 0.0},
            "id_tokens": [{"id_token": f"04B{index + 1:011X}", "type": "ISO14443", "status": "Accepted"}],
            "access": "public",
        },
        "evcs_network": {"ntp": ["pool.ntp.org"]},
        "evcs_ocpp": {"heartbeat_interval": 300},
    }


def _iccid(body: str) -> str:
    """``body`` completed with its Luhn check digit (ITU-T E.118), as a real SIM's ICCID is."""
    total = 0
    for index, char in enumerate(reversed(body)):
        digit = int(char) * (2 if index % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return body + str((10 - total % 10) % 10)


def _network(number: int) -> dict:
    if number % _WIFI_EVERY == 0:
        return {"mode": "wifi", "addressing": "dhcp", "wifi": {"ssid": "bench-depot", "passphrase": "bench-wifi-passphrase"}}
    if number % _CELLULAR_EVERY == 0:
        return {"mode": "cellular", "addressing": "dhcp",
                "cellular": {"apn": "iot.example", "iccid": _iccid(f"89490000000{number:07d}")}}
    return {"mode": "ethernet", "addressing": "dhcp"}


def station_vars(number: int) -> dict:
    """``host_vars/<station>.yml``: the hardware of ``evcs_lab.cli.generated_station`` plus its settings."""
    return {
        "evcs_station": {
            "id": station_id(number),
            "serial_number": f"SIM-{number:04d}",
            "vendor": "EVCS Sim",
            # every fifth station (the Wi-Fi ones) runs the lab's quirky model, as evcs_lab.cli.generated_station
            "model": "SimCharger Q" if number % _WIFI_EVERY == 0 else "SimCharger AC22",
            "firmware_version": "3.2.1" if number % _WIFI_EVERY == 0 else "1.0.0",
            "security_profile": 1,
            "evses": [{"id": 1, "max_current_a": STATION_CURRENT_A, "phases": 3, "voltage_v": 230,
                       "connectors": [{"id": 1, "type": "cType2", "format": "Socket",
                                       "max_current_a": STATION_CURRENT_A}]}],
            "network": _network(number),
            "load_management": {"max_current_a": STATION_CURRENT_A, "priority": 1},
            "firmware_channel": "stable",
            "monitoring": {"alerts": True, "offline_alert_after_s": 900},
            "asset": {"installer": "EVCS Bench", "installation_date": "2026-01-15", "warranty_start": "2026-01-15"},
            "state": "present",
        }
    }


def station_vars16(number: int) -> dict:
    """``host_vars/<station>.yml`` of an OCPP 1.6J station: the hardware of ``evcs_lab.cli.generated_station(number,
    "1.6")`` (lab model v16, one 16 A socket), declared ``ocpp_version: "1.6"``, on wired ethernet (1.6 has no network
    connection profiles: the network stage skips it) and profile 1 like the 2.0.1 fleet."""
    return {
        "evcs_station": {
            "id": station_id(number),
            "serial_number": f"SIM-{number:04d}",
            "vendor": "EVCS Sim",
            "model": "SimCharger AC11-16",
            "firmware_version": "1.6.4",
            "ocpp_version": "1.6",
            "security_profile": 1,
            "evses": [{"id": 1, "max_current_a": STATION16_CURRENT_A, "phases": 3, "voltage_v": 230,
                       "connectors": [{"id": 1, "type": "cType2", "format": "Socket",
                                       "max_current_a": STATION16_CURRENT_A}]}],
            "network": {"mode": "ethernet", "addressing": "dhcp"},
            "load_management": {"max_current_a": STATION16_CURRENT_A, "priority": 1},
            "firmware_channel": "stable",
            "monitoring": {"alerts": True, "offline_alert_after_s": 900},
            "asset": {"installer": "EVCS Bench", "installation_date": "2026-01-15", "warranty_start": "2026-01-15"},
            "state": "present",
        }
    }


#: the host_vars of a station per OCPP version
STATION_VARS = {"2.0.1": station_vars, "1.6": station_vars16}
#: the fleets ``bench/fleet.py --ocpp-version`` measures: all 2.0.1, all 1.6, or mixed (every MIXED_16_EVERY-th 1.6)
FLEET_VERSIONS = ("2.0.1", "1.6", "mixed")
MIXED_16_EVERY = 4


def station_ocpp_version(number: int, fleet_version: str = "2.0.1") -> str:
    """The OCPP version of station ``number`` in a fleet of ``fleet_version``."""
    if fleet_version == "mixed":
        return "1.6" if number % MIXED_16_EVERY == 0 else "2.0.1"
    return fleet_version


def write_lab_stations(path: Path, count: int, fleet_version: str) -> Path:
    """The lab's station list (``evcs-lab up --stations``) of a fleet of ``fleet_version``: station ``n`` as
    ``evcs-lab up --count`` generates it for its version (``evcs_lab.cli.generated_station``)."""
    from evcs_lab.cli import generated_station  # pylint: disable=import-outside-toplevel

    stations = [generated_station(number, station_ocpp_version(number, fleet_version)) for number in range(1, count + 1)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(stations, sort_keys=False))
    return path


def hosts_document(count: int, site_size: int = SITE_SIZE) -> dict:
    """``hosts.yml``: every site a group of its stations, all managed from the controller."""
    children = {site_group(index): {"hosts": {station_id(number): None for number in numbers}}
                for index, numbers in enumerate(sites_of(count, site_size))}
    return {"all": {"vars": {"ansible_connection": "local"}, "children": children}}


def _write_yaml(path: Path, document: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("---\n" + yaml.safe_dump(document, sort_keys=False, default_flow_style=None, width=160))


def write_inventory(directory: Path, count: int, site_size: int = SITE_SIZE, ocpp_version: str = "2.0.1") -> Path:
    """Write the inventory of stations 1..count of a fleet of ``ocpp_version`` (2.0.1, 1.6, mixed) under ``directory``;
    return it."""
    shutil.copytree(LAB_INVENTORY / "group_vars" / "all", directory / "group_vars" / "all", dirs_exist_ok=True)
    _write_yaml(directory / "hosts.yml", hosts_document(count, site_size))
    for index, numbers in enumerate(sites_of(count, site_size)):
        _write_yaml(directory / "group_vars" / f"{site_group(index)}.yml", site_vars(index, len(numbers)))
        for number in numbers:
            _write_yaml(directory / "host_vars" / f"{station_id(number)}.yml",
                        STATION_VARS[station_ocpp_version(number, ocpp_version)](number))
    return directory


def pin_lab_state(directory: Path, state_file: Path) -> Path:
    """Write the running lab's endpoints as literal inventory values (``group_vars/all/zz_lab_state.yml``, mode 0600:
    it holds the lab's tokens), overriding the lazy ``lookup('file', state.json)`` of ``inventories/lab``: a real
    inventory holds its endpoints as values, so the benchmark does not measure the lab's way of finding them."""
    path = directory / "group_vars" / "all" / "zz_lab_state.yml"
    path.touch(mode=0o600)
    path.write_text("---\n" + yaml.safe_dump({"evcs_lab_state": json.loads(state_file.read_text())}, sort_keys=False))
    return path


def pin_lab_endpoints(directory: Path, state_file: Path) -> Path:
    """``pin_lab_state`` and also ``evcs_csms`` and ``evcs_vault`` as literal values (``inventories/lab``'s templates of
    them rendered once with the running lab's state), as a production inventory holds its CSMS and Vault endpoints: the
    verify benchmark at thousands of stations must not measure the lab's indirection (Ansible renders those ~20
    templates for every host it reads, about 50 ms a host on these cores)."""
    from ansible.parsing.dataloader import DataLoader  # pylint: disable=import-outside-toplevel
    from ansible.template import Templar, trust_as_template  # pylint: disable=import-outside-toplevel

    state = json.loads(state_file.read_text())
    lab = yaml.safe_load((LAB_INVENTORY / "group_vars" / "all" / "lab.yml").read_text())

    def _trusted(value):
        if isinstance(value, dict):
            return {key: _trusted(item) for key, item in value.items()}
        return trust_as_template(value) if isinstance(value, str) else value

    templar = Templar(loader=DataLoader(), variables={"evcs_lab_state": state})
    pinned = {"evcs_lab_state": state}
    for name in ("evcs_csms", "evcs_vault"):
        pinned[name] = json.loads(json.dumps(templar.template(_trusted(lab[name]))))
    path = directory / "group_vars" / "all" / "zz_lab_state.yml"
    path.touch(mode=0o600)
    path.write_text("---\n" + yaml.safe_dump(pinned, sort_keys=False))
    return path


def floor_playbook(tasks_per_host: int, tasks_on_controller: int = 0) -> list[dict]:
    """The Ansible floor: as many ``set_fact`` tasks per station (and on localhost) as the measured run executed."""
    def _tasks(count: int) -> list[dict]:
        return [{"name": f"Floor task {number}", "ansible.builtin.set_fact": {"bench_floor": number}}
                for number in range(1, count + 1)]

    plays = [{"name": "Ansible floor: set_fact only", "hosts": "all", "gather_facts": False,
              "tasks": _tasks(tasks_per_host)}]
    if tasks_on_controller:
        plays.append({"name": "Ansible floor on the controller", "hosts": "localhost", "gather_facts": False,
                      "tasks": _tasks(tasks_on_controller)})
    return plays


def write_floor_playbook(path: Path, tasks_per_host: int, tasks_on_controller: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("---\n" + yaml.safe_dump(floor_playbook(tasks_per_host, tasks_on_controller), sort_keys=False))
    return path
