"""``evcs-lab up|down|status|reset``: start, inspect, wipe and stop the lab on loopback."""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

import requests
import yaml

from evcs_lab import citrineos, vault
from evcs_lab.clients import LabApiError, LabState
from evcs_lab.paths import DEFAULT_STATIONS_FILE, LabPaths
from evcs_lab.process import ManagedProcess, free_port, port_is_free
from evcs_lab.state import lab_secrets, read_json, write_state

HOST = "127.0.0.1"
COMPONENTS = ("csms", "simulator")
#: the second environment's CSMS: the same program as ``csms``, its own ports, database, PKI mount and token
PRODUCTION = "production"
PRODUCTION_CSMS = "csms-production"
CSMS_READY_TIMEOUT = 30.0
STATIONS_READY_TIMEOUT = 60.0


class LabError(RuntimeError):
    """The lab could not do what was asked; the message says why and what to look at."""


# -- stations ----------------------------------------------------------------------------------------------
#: every fifth generated station runs the quirky station model (a vendor component for Wi-Fi), the others the spec one
QUIRKY_EVERY = 5


def generated_station(number: int, ocpp_version: str = "2.0.1") -> dict:
    """Station ``LAB-CP-<number>`` as in the demo fleet: one EVSE, one Type 2 socket, 32 A, 3 phases; with
    ``ocpp_version="1.6"`` a 1.6J charge point of the `v16` model (one 16 A socket), like LAB-CP-0005."""
    if ocpp_version == "1.6":
        return {
            "id": f"LAB-CP-{number:04d}", "serial_number": f"SIM-{number:04d}", "vendor": "EVCS Sim",
            "model": "SimCharger AC11-16", "lab_model": "v16", "ocpp_version": "1.6", "firmware_version": "1.6.4",
            "site": "lab-depot",
            "evses": [{"id": 1, "max_current_a": 16, "phases": 3,
                       "connectors": [{"id": 1, "type": "cType2", "format": "Socket", "max_current_a": 16}]}],
        }
    quirky = number % QUIRKY_EVERY == 0
    return {
        "id": f"LAB-CP-{number:04d}", "serial_number": f"SIM-{number:04d}", "vendor": "EVCS Sim",
        "model": "SimCharger Q" if quirky else "SimCharger AC22", "lab_model": "quirky" if quirky else "spec",
        "firmware_version": "3.2.1" if quirky else "1.0.0", "site": "lab-depot",
        "evses": [{"id": 1, "max_current_a": 32, "phases": 3,
                   "connectors": [{"id": 1, "type": "cType2", "format": "Socket", "max_current_a": 32}]}],
    }


def load_stations(count: int | None = None, stations_file: str | Path | None = None,
                  ocpp_version: str = "2.0.1") -> list[dict]:
    if count is not None:
        return [generated_station(number, ocpp_version) for number in range(1, count + 1)]
    path = Path(stations_file or DEFAULT_STATIONS_FILE)
    stations = yaml.safe_load(path.read_text())
    if not isinstance(stations, list) or not all(isinstance(item, dict) and item.get("id") for item in stations):
        raise LabError(f"{path} must be a YAML list of stations, each with an id")
    return stations


# -- components --------------------------------------------------------------------------------------------
def component_process(paths: LabPaths, name: str, module: str | None = None) -> ManagedProcess:
    config = paths.config_file(name)
    return ManagedProcess(name=name, argv=[sys.executable, "-m", f"evcs_lab.{module or name}", "--config", str(config)],
                          pid_file=paths.pid_file(name), log_file=paths.console_file(name), marker=str(config))


def production_csms_process(paths: LabPaths) -> ManagedProcess:
    return component_process(paths, PRODUCTION_CSMS, module="csms")


def _reuse_ports(wanted: dict, running: bool) -> dict:
    """Keep the previous ports (persisted station URLs point at them) unless one was taken meanwhile."""
    if all(wanted.values()) and (running or all(port_is_free(port, HOST) for port in wanted.values())):
        return wanted
    return {key: free_port(HOST) for key in wanted}


def _csms_ports(previous: dict | None, running: bool) -> dict:
    if previous:
        ports = {"api": previous["api_port"], **previous["ws_ports"]}
    else:
        ports = {"api": 0, "1": 0, "2": 0, "3": 0}
    return _reuse_ports(ports, running and previous is not None)


def csms_config(paths: LabPaths, vault_lab: vault.VaultLab, secrets: dict, running: bool,
                environment: str = "lab") -> dict:
    """The config of the lab CSMS, or with ``environment="production"`` of the production CSMS."""
    component = "csms" if environment == "lab" else PRODUCTION_CSMS
    prefix = "" if environment == "lab" else environment + "_"
    mount = vault.ISSUING_CAS[environment][0]
    tls = paths.csms_tls(environment)
    ports = _csms_ports(read_json(paths.config_file(component)), running)
    return {
        "host": HOST,
        "api_port": ports["api"],
        "ws_ports": {profile: ports[profile] for profile in ("1", "2", "3")},
        "tls": {"cert": str(tls.cert), "key": str(tls.key), "chain": str(tls.chain)},
        "client_ca": str(tls.client_ca),
        "crls": [{"url": f"{vault_lab.addr}/v1/{mount}/crl", "ca_cert": str(paths.bootstrap_ca),
                  "refresh_seconds": 5}],
        "api_token": secrets[prefix + "api_token"],
        "staging_password": secrets[prefix + "staging_password"],
        "db": str(paths.component_dir(component) / "csms.sqlite3"),
        "log": str(paths.log_file(component)),
        "heartbeat_interval": 60,
        "boot_retry_interval": 5,
        "call_timeout": 30,
    }


def ws_urls(config: dict) -> dict:
    schemes = {"1": "ws", "2": "wss", "3": "wss"}
    return {profile: f"{schemes[profile]}://{HOST}:{port}/ocpp" for profile, port in config["ws_ports"].items()}


def simulator_config(paths: LabPaths, csms: dict, secrets: dict, stations: list[dict], running: bool) -> dict:
    previous = read_json(paths.config_file("simulator")) or {}
    ports = _reuse_ports({"control": previous.get("control_port", 0)}, running and bool(previous))
    return {
        "host": HOST,
        "control_port": ports["control"],
        "state_dir": str(paths.simulator_state_dir),
        "stations": stations,
        "factory": {"csms_url": ws_urls(csms)["1"], "staging_password": secrets["staging_password"],
                    "security_profile": 1},
        "csms_root_ca": str(paths.root_ca),
        "log": str(paths.log_file("simulator")),
    }


def _apply_config(paths: LabPaths, name: str, config: dict, process: ManagedProcess) -> None:
    """Write the component's config; a running component whose config changed is stopped to pick it up."""
    path = paths.config_file(name)
    if read_json(path) == config:
        return
    process.stop()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=2) + "\n")


def _ensure_running(process: ManagedProcess, ready, timeout: float, what: str, progress=None) -> int:
    """Start the component unless it runs, then wait until ``ready()``; on timeout show the log tail."""
    if process.pid() is None:
        process.start()
    deadline = time.monotonic() + timeout
    while not ready():
        if process.pid() is None:
            raise LabError(f"{process.name} exited while starting; last lines of {process.log_file}:\n"
                           f"{process.log_tail()}")
        if time.monotonic() >= deadline:
            process.stop()
            raise LabError(f"{what} not ready after {timeout:.0f}s; last lines of {process.log_file}:\n"
                           f"{process.log_tail()}")
        if progress:
            progress()
        time.sleep(0.3)
    return process.pid()


def _csms_healthy(config: dict, root_ca: Path) -> bool:
    try:
        response = requests.get(f"https://{HOST}:{config['api_port']}/api/health", verify=str(root_ca), timeout=2)
    except requests.RequestException:
        return False
    return response.ok and response.json().get("status") == "ok"


def _sim_stations(control_url: str) -> list[dict] | None:
    try:
        response = requests.get(f"{control_url}/sim/stations", timeout=2)
    except requests.RequestException:
        return None
    return response.json().get("items", []) if response.ok else None


class _StationsProgress:
    """Reports "stations connected n/N" on one line while the simulator's stations connect."""

    def __init__(self, control_url: str, expected: list[str]):
        self.control_url = control_url
        self.expected = set(expected)
        self.shown = None

    def connected(self) -> int:
        items = _sim_stations(self.control_url) or []
        return len({item["id"] for item in items if item.get("connected")} & self.expected)

    def ready(self) -> bool:
        self.report(self.connected())
        return self.shown == len(self.expected)

    def report(self, count: int) -> None:
        if count != self.shown:
            self.shown = count
            done = count == len(self.expected)
            if sys.stdout.isatty():
                print(f"\r  stations connected {count}/{len(self.expected)}", end="\n" if done else "", flush=True)
            else:
                print(f"  stations connected {count}/{len(self.expected)}", flush=True)


def missing_components() -> list[str]:
    """Components that cannot be run with ``python -m evcs_lab.<name>`` from this environment."""
    return [name for name in COMPONENTS if not _runnable(f"evcs_lab.{name}")]


def _runnable(module: str) -> bool:
    spec = importlib.util.find_spec(module)
    if spec is None:
        return False
    return spec.submodule_search_locations is None or importlib.util.find_spec(f"{module}.__main__") is not None


def _require_component_modules() -> None:
    missing = missing_components()
    if missing:
        raise LabError(f"lab component(s) {', '.join(missing)} cannot be run (python -m evcs_lab.<name>): "
                       "run `make venv`")


def _step(title: str, action):
    start = time.monotonic()
    print(f"{title} ...", flush=True)
    result = action()
    print(f"{title}: ok ({time.monotonic() - start:.1f}s)", flush=True)
    return result


CSMS_KINDS = ("reference", "citrineos")


def _check_csms_kind(paths: LabPaths, csms_kind: str) -> None:
    """A lab home serves one CSMS: its stations keep the URLs and passwords of the CSMS they were provisioned with."""
    previous = (read_json(paths.state_file) or {}).get("csms_kind", "reference") if paths.state_file.exists() else None
    if previous and previous != csms_kind:
        raise LabError(f"the lab home {paths.home} runs the {previous} CSMS; run `evcs-lab down` and use another "
                       f"--home (or EVCS_LAB_HOME) for --csms {csms_kind}, or delete {paths.home}")


def _without_ocpp16(stations: list[dict]) -> list[dict]:
    """The fleet a CitrineOS lab runs: its websocket servers speak OCPP 2.0.1 only (the lab configures no 1.6 server
    yet), so 1.6 charge points stay out instead of never connecting."""
    left_out = [station["id"] for station in stations
                if str(station.get("ocpp_version", "")) == "1.6" or station.get("lab_model") == "v16"]
    if left_out:
        print(f"citrineos: OCPP 1.6 charge points left out of this lab: {', '.join(left_out)}")
    return [station for station in stations if station["id"] not in left_out]


def up(home=None, count: int | None = None, stations_file=None, csms_kind: str = "reference",
       ocpp_version: str = "2.0.1") -> dict:
    """Start or reuse every component, wait until all stations are connected, write ``state.json``.

    With ``csms_kind="citrineos"`` the lab also builds (once) and runs CitrineOS (``evcs_lab.citrineos``), registers
    the fleet there, and the simulated stations leave the factory pointed at CitrineOS instead of the reference CSMS.
    """
    paths = LabPaths.resolve(home)
    paths.home.mkdir(parents=True, exist_ok=True)
    _require_component_modules()
    _check_csms_kind(paths, csms_kind)
    stations = load_stations(count, stations_file, ocpp_version)
    vault_lab = _step("openbao", lambda: vault.up(paths.home))
    secrets = lab_secrets(paths)

    csms_process = component_process(paths, "csms")
    csms = csms_config(paths, vault_lab, secrets, csms_process.pid() is not None)
    _apply_config(paths, "csms", csms, csms_process)
    csms_pid = _step("csms", lambda: _ensure_running(csms_process, lambda: _csms_healthy(csms, paths.root_ca),
                                                     CSMS_READY_TIMEOUT, "the reference CSMS"))

    prod_process = production_csms_process(paths)
    prod = csms_config(paths, vault_lab, secrets, prod_process.pid() is not None, PRODUCTION)
    _apply_config(paths, PRODUCTION_CSMS, prod, prod_process)
    prod_pid = _step("csms (production)", lambda: _ensure_running(
        prod_process, lambda: _csms_healthy(prod, paths.root_ca), CSMS_READY_TIMEOUT, "the production CSMS"))

    fleet_csms = _csms_state(paths, csms)
    if csms_kind == "citrineos":
        stations = _without_ocpp16(stations)
        try:
            fleet_csms = _step("citrineos", lambda: citrineos.up(paths, stations, secrets["staging_password"]))
        except citrineos.CitrineError as exc:
            raise LabError(str(exc)) from exc

    sim_process = component_process(paths, "simulator")
    sim = simulator_config(paths, csms, secrets, stations, sim_process.pid() is not None)
    sim["factory"]["csms_url"] = fleet_csms["ws_urls"]["1"]
    if csms_kind == "citrineos":
        # CitrineOS 1.8.3 loses its message-broker channel when a station reconnects within a second of its
        # disconnect; a real station takes longer than that to reboot (lab/README.md)
        sim["reboot_seconds"] = citrineos.STATION_REBOOT_SECONDS
    _apply_config(paths, "simulator", sim, sim_process)
    control_url = f"http://{HOST}:{sim['control_port']}"
    progress = _StationsProgress(control_url, [station["id"] for station in stations])
    sim_pid = _step("simulator", lambda: _ensure_running(sim_process, progress.ready,
                                                         STATIONS_READY_TIMEOUT + 0.5 * len(stations),
                                                         "the simulated stations"))
    state = {
        "environment": "lab",
        "csms_kind": csms_kind,
        "home": str(paths.home),
        "vault": vault_lab.state(),
        "csms": fleet_csms,
        "simulator": {"control_url": control_url, "stations": [station["id"] for station in stations]},
        "processes": {"vault": vault_lab.pid, "csms": csms_pid, "simulator": sim_pid,
                      **{name: pid for name, pid in fleet_csms.get("pids", {}).items()}},
        "environments": {PRODUCTION: {"csms": _csms_state(paths, prod), "vault": vault_lab.production_state(),
                                      "processes": {"csms": prod_pid}}},
    }
    write_state(paths, state)
    print(f"lab up: {len(stations)} stations, state in {paths.state_file}")
    return state


def _csms_state(paths: LabPaths, config: dict) -> dict:
    """What ``state.json`` publishes about one CSMS (the ``csms`` key, and each environment's)."""
    return {"api_url": f"https://{HOST}:{config['api_port']}", "api_token": config["api_token"],
            "ca_cert": str(paths.root_ca), "root_ca_pem": str(paths.root_ca), "ws_urls": ws_urls(config),
            "staging_password": config["staging_password"]}


def down(home=None) -> None:
    """Stop the simulator, the CSMS and OpenBao (SIGTERM, SIGKILL after a grace period)."""
    paths = LabPaths.resolve(home)
    for process in [component_process(paths, "simulator"), production_csms_process(paths),
                    component_process(paths, "csms")]:
        stopped = process.stop()
        print(f"{process.name}: {'stopped' if stopped else 'not running'}")
    for name, stopped in citrineos.down(paths):
        if stopped:
            print(f"{name}: stopped")
    print(f"vault: {'stopped' if vault.down(paths.home) else 'not running'}")


def _component_line(name: str, pid: int | None, endpoint: str) -> str:
    return f"{name:<10} {'up' if pid else 'down':<5} pid {pid or '-':<8} {endpoint}"


def status(home=None) -> int:
    """Print each component and each station's connection state; 0 when everything is up."""
    paths = LabPaths.resolve(home)
    vault_status = vault.status(paths.home)
    csms = read_json(paths.config_file("csms")) or {}
    sim = read_json(paths.config_file("simulator")) or {}
    pids = {name: component_process(paths, name).pid() for name in COMPONENTS}
    pids[PRODUCTION_CSMS] = production_csms_process(paths).pid()
    production = read_json(paths.config_file(PRODUCTION_CSMS)) or {}
    vault_pid = vault_status["pid"] if vault_status["up"] else None
    print(_component_line("vault", vault_pid, f"https://{HOST}:{vault_status['port']}"))
    print(_component_line("csms", pids["csms"],
                          f"https://{HOST}:{csms.get('api_port')}  ws {csms.get('ws_ports')}"))
    print(_component_line(PRODUCTION_CSMS, pids[PRODUCTION_CSMS],
                          f"https://{HOST}:{production.get('api_port')}  ws {production.get('ws_ports')}"))
    control_url = f"http://{HOST}:{sim.get('control_port')}"
    print(_component_line("simulator", pids["simulator"], control_url))
    for name, pid, endpoint in citrineos.status_lines(paths):
        print(_component_line(name, pid, endpoint))
        pids[name] = pid
    items = _sim_stations(control_url) if pids["simulator"] else None
    for item in items or []:
        state = "connected" if item.get("connected") else "disconnected"
        slot = item.get("slot") if item.get("ocpp_version") != "1.6" else "-"
        print(f"  {item['id']:<14} {state:<13} OCPP {item.get('ocpp_version', '2.0.1'):<5}  profile "
              f"{item.get('security_profile')}  slot {slot}  model {item.get('lab_model', 'spec')}")
    all_up = vault_pid and all(pids.values()) and items is not None and all(i.get("connected") for i in items)
    return 0 if all_up else 1


def reset(home=None) -> None:
    """Wipe the CSMS records and factory-reset every simulated station."""
    lab = LabState.load(home)
    stations = lab.sim.stations()
    deleted = lab.csms.wipe(item["id"] for item in stations)
    for item in stations:
        lab.sim.factory_reset(item["id"])
    print(f"reset: {deleted} CSMS records deleted, {len(stations)} stations factory-reset")


# -- command line ---------------------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home", default=argparse.SUPPRESS,
                        help="lab home (default: $EVCS_LAB_HOME, else <repo>/.lab)")
    parser = argparse.ArgumentParser(prog="evcs-lab", parents=[common], description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up_parser = commands.add_parser("up", parents=[common], help="start (or reuse) OpenBao, the CSMS, the simulator")
    fleet = up_parser.add_mutually_exclusive_group()
    fleet.add_argument("--count", type=int, help="simulate LAB-CP-0001..N instead of lab/stations.yml")
    fleet.add_argument("--stations", help="YAML file with the stations to simulate")
    up_parser.add_argument("--ocpp-version", choices=("2.0.1", "1.6"), default="2.0.1",
                           help="with --count: the OCPP version of the generated stations (1.6: 1.6J charge points "
                                "of the v16 model, for a 1.6 fleet in the benchmark)")
    up_parser.add_argument("--csms", choices=CSMS_KINDS, default="reference",
                           help="the CSMS the stations are onboarded to: the lab's reference CSMS (default) or a "
                                "real CitrineOS built from $CITRINEOS_SRC (lab/README.md)")
    commands.add_parser("down", parents=[common], help="stop every process the lab started")
    commands.add_parser("status", parents=[common], help="each component, each station's connection state")
    commands.add_parser("reset", parents=[common], help="factory-reset every station, wipe CSMS records")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    home = getattr(args, "home", None)
    try:
        if args.command == "up":
            up(home, count=args.count, stations_file=args.stations, csms_kind=args.csms, ocpp_version=args.ocpp_version)
        elif args.command == "down":
            down(home)
        elif args.command == "status":
            return status(home)
        else:
            reset(home)
    except (LabError, vault.VaultLabError, LabApiError, FileNotFoundError) as exc:
        print(f"evcs-lab: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
