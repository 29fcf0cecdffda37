"""A lab of the fault tests' own (they seal its Vault and break its CSMS), its stations and inventories.

``fault_lab(home)`` starts a whole lab in ``home`` with a fault proxy in front of its CSMS REST API and another in
front of its OpenBao; ``write_inventory`` writes an inventory whose endpoints and secrets are literal values (the lab's,
or seeded ones), so a test can point it at a proxy or plant a distinctive secret.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from pathlib import Path

import hvac
import requests
import yaml

from conftest import REPO_ROOT, ansible_playbook, evcs_lab
from evcs_lab.clients import LabState
from evcs_lab.paths import LabPaths

from faults.proxy import FaultProxy

SITE = {
    "id": "fault-depot", "name": "Fault depot",
    "address": {"street": "Hauptstr. 2", "city": "Berlin", "postal_code": "10115", "country": "DE"},
    "timezone": "Europe/Berlin",
    "operator": {"name": "EVCS Lab Operator", "organization": "EVCS Lab Operator"},
    "grid_connection": {"max_current_a": 400, "phases": 3, "voltage_v": 230},
    "tariff": {"id": "fault-standard", "currency": "EUR", "price_per_kwh": 0.39},
    "id_tokens": [{"id_token": "04F0F1F2F3F4F5", "type": "ISO14443", "status": "Accepted"}],
    "access": "public",
}


#: the fault stations run the lab's quirky station model: its vendor NetworkInterface component holds DNS servers,
#: which need a reboot (station_models/evcs-sim-q.yml)
MODEL = {"vendor": "EVCS Sim", "model": "SimCharger Q", "firmware_version": "3.2.1"}
EVSES = [{"id": 1, "max_current_a": 32, "phases": 3,
          "connectors": [{"id": 1, "type": "cType2", "format": "Socket", "max_current_a": 32}]}]


def station(station_id: str, **overrides) -> dict:
    """The ``evcs_station`` of a simulated station (the hardware ``add_stations`` gives it: one 32 A EVSE)."""
    definition = {
        "id": station_id, "serial_number": station_id, **MODEL, "security_profile": 1,
        "evses": [{"id": 1, "max_current_a": 32, "phases": 3, "voltage_v": 230,
                   "connectors": [{"id": 1, "type": "cType2", "format": "Socket", "max_current_a": 32}]}],
        "network": {"mode": "ethernet", "addressing": "dhcp", "dns": ["192.168.10.1"], "ntp": ["pool.ntp.org"]},
        "load_management": {"max_current_a": 32, "priority": 1},
    }
    definition.update(overrides)
    return definition


def endpoints(lab: LabState, csms_url: str | None = None, vault_url: str | None = None, **secrets) -> dict:
    """``evcs_csms`` and ``evcs_vault`` as literal values from the lab state; ``secrets`` overrides e.g. token."""
    csms, vault = lab["csms"], lab["vault"]
    evcs_csms = {"backend": "reference", "url": csms_url or csms["api_url"], "token": csms["api_token"],
                 "ca_path": csms["ca_cert"], "ws_urls": csms["ws_urls"], "root_ca_path": csms["root_ca_pem"],
                 "staging_password": csms["staging_password"]}
    evcs_vault = {"url": vault_url or vault["addr"], "ca_path": vault["ca_cert"], "auth_method": "approle",
                  "approle_mount": vault["approle_mount"], "role_id": vault["role_id"], "secret_id": vault["secret_id"],
                  "pki_mount": vault["pki_mount"], "pki_root_mount": vault["pki_root_mount"],
                  "station_role": vault["station_role"], "csms_role": vault["csms_role"],
                  "kv_mount": vault["kv_mount"], "organization": vault["organization"]}
    for key, value in secrets.items():
        section, name = key.split("__")
        {"csms": evcs_csms, "vault": evcs_vault}[section][name] = value
    return {"evcs_csms": evcs_csms, "evcs_vault": evcs_vault}


def write_inventory(directory: Path, stations: dict[str, dict], site_vars: dict | None = None,
                    **endpoint_vars) -> str:
    """An inventory of ``stations`` ({host: evcs_station}) in one site; endpoints as ``endpoints()`` returns them."""
    if directory.exists():
        shutil.rmtree(directory)
    (directory / "group_vars" / "all").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "inventories/lab/group_vars/all/environment.yml", directory / "group_vars/all/environment.yml")
    (directory / "group_vars/all/endpoints.yml").write_text(yaml.safe_dump(endpoint_vars))
    site = dict({"evcs_site": SITE, "evcs_ocpp": {"heartbeat_interval": 300}}, **(site_vars or {}))
    hosts = {"all": {"vars": {"ansible_connection": "local"},
                     "children": {"fault_depot": {"vars": site, "hosts": {
                         host: {"evcs_station": definition} for host, definition in stations.items()}}}}}
    (directory / "hosts.yml").write_text(yaml.safe_dump(hosts))
    return str(directory)


def add_stations(lab: LabState, ids: list[str]) -> None:
    """Factory-fresh simulated stations of the quirky lab model, connected (the backend role writes their records)."""
    lab.sim.http.request("POST", "/sim/stations", json={"stations": [
        dict(MODEL, id=station_id, serial_number=station_id, lab_model="quirky", site="lab-depot", evses=EVSES)
        for station_id in ids]})
    wait_for(lambda: all(item["connected"] for item in lab.sim.stations() if item["id"] in ids), "stations online")


def wait_for(predicate, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not reached within {timeout:.0f}s")
        time.sleep(0.3)


def run(lab: LabState, playbook: str, inventory: str, tags: str | None = None, env: dict | None = None, **options):
    """``ansible-playbook`` against ``lab``: ``(rc, output, recap)``; ``tags`` limits the stages (validate always runs)."""
    extra_env = dict({"ANSIBLE_CALLBACK_RESULT_FORMAT": "json"}, **(env or {}))
    if tags:
        extra_env["ANSIBLE_RUN_TAGS"] = tags
    return ansible_playbook(lab.home, playbook, inventory=inventory, env=extra_env, **options)


def changed(recap: dict) -> dict:
    """``{host: changed}`` of the stations in a PLAY RECAP (localhost left out)."""
    return {host: counts["changed"] for host, counts in recap.items() if host != "localhost"}


def failed_stations(output: str) -> dict:
    """``{station: message}`` from provision.yml's summary lines ``FAILED  <station> in '<task>': <message>``."""
    failures = {}
    for line in output.splitlines():
        text = line.strip().rstrip(",")
        if text.startswith('"FAILED  '):
            station_id, _, rest = json.loads(text)[len("FAILED  "):].partition(" in ")
            failures[station_id] = rest
    return failures


# -- the lab's OpenBao, through its root token (only these tests and the lab's bootstrap use it) ----------------
def _root_client(lab: LabState) -> hvac.Client:
    paths = LabPaths.resolve(lab.home)
    client = hvac.Client(url=lab["vault"]["addr"], verify=lab["vault"]["ca_cert"])
    client.token = paths.root_token.read_text().strip()
    return client


def seal_vault(lab: LabState) -> None:
    _root_client(lab).sys.seal()


def unseal_vault(lab: LabState) -> None:
    client = _root_client(lab)
    if client.sys.is_sealed():
        client.sys.submit_unseal_key(LabPaths.resolve(lab.home).unseal_key.read_text().strip())
    wait_for(lambda: _active(lab), "Vault unsealed and active")


def _active(lab: LabState) -> bool:
    health = requests.get(lab["vault"]["addr"] + "/v1/sys/health", verify=lab["vault"]["ca_cert"], timeout=5,
                          params={"sealedcode": 200, "standbycode": 200}).json()
    return health.get("sealed") is False and not health.get("standby")


def issued_certificates(lab: LabState) -> int:
    """How many certificates the lab's issuing mount stores."""
    listed = _root_client(lab).list(f"{lab['vault']['pki_mount']}/certs") or {}
    return len(listed.get("data", {}).get("keys", []))


# -- the lab itself ------------------------------------------------------------------------------------------
@contextlib.contextmanager
def fault_lab(home: Path):
    """A whole lab in ``home`` with ``.csms_proxy`` and ``.vault_proxy`` (FaultProxy) in front of it."""
    try:
        started = evcs_lab(home, "up")
        if started.returncode != 0:
            raise AssertionError(f"evcs-lab up failed ({started.returncode}):\n{started.stdout}\n{started.stderr}")
        lab = LabState.load(home)
        paths = LabPaths.resolve(home)
        csms_tls = json.loads(paths.config_file("csms").read_text())["tls"]
        with FaultProxy(lab["csms"]["api_url"], csms_tls["cert"], csms_tls["key"], lab["csms"]["ca_cert"]) as csms_proxy, \
                FaultProxy(lab["vault"]["addr"], paths.vault_listener_cert, paths.vault_listener_key,
                           lab["vault"]["ca_cert"]) as vault_proxy:
            lab.csms_proxy, lab.vault_proxy = csms_proxy, vault_proxy
            yield lab
    finally:
        evcs_lab(home, "down", timeout=120)
