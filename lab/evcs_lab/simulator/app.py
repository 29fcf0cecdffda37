"""The simulator process: every station of the config (and those added later) plus the control API."""
from __future__ import annotations

import asyncio
import json
import logging
import random
import signal
from pathlib import Path

from aiohttp import web

from .device_model import WRITE_ONLY
from .state import Factory, StationState, StationState16
from .station import SimStation, StationBase
from .station16 import SimStation16

LOG = logging.getLogger("evcs_lab.simulator")
OCPP_VERSIONS = ("1.6", "2.0.1")
#: the hardware of a 1.6 station added by id when the config has no 1.6 station to copy (lab model `v16`)
V16_TEMPLATE = {"vendor": "EVCS Sim", "model": "SimCharger AC11-16", "lab_model": "v16", "ocpp_version": "1.6",
                "firmware_version": "1.6.4", "site": "lab-depot",
                "evses": [{"id": 1, "max_current_a": 16, "phases": 3,
                           "connectors": [{"id": 1, "type": "cType2", "format": "Socket", "max_current_a": 16}]}]}
FAULT_KEYS = {"offline", "reject_variables", "reject_certificate_signed", "no_reconnect_after_reset",
              "drop_connection", "response_delay", "security_profile_at_reset"}


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


class Simulator:
    """All stations of one lab, keyed by station id."""

    def __init__(self, config: dict):
        self.config = config
        self.state_dir = Path(config["state_dir"])
        self.state_dir.mkdir(parents=True, exist_ok=True)
        factory = config["factory"]
        self.factory = Factory(factory["csms_url"], factory["staging_password"],
                               int(factory.get("security_profile", 1)))
        self.template = next((station for station in config["stations"] if not is_v16(station)), None)
        self.template16 = next((station for station in config["stations"] if is_v16(station)), V16_TEMPLATE)
        self.stations: dict[str, StationBase] = {}

    def _known_definitions(self) -> list[dict]:
        """The config's stations, then stations added over the control API in an earlier run."""
        definitions = {station["id"]: station for station in self.config["stations"]}
        for path in sorted(self.state_dir.glob("*.json")):
            definition = json.loads(path.read_text())["definition"]
            definitions.setdefault(definition["id"], definition)
        return list(definitions.values())

    def start(self) -> None:
        definitions = self._known_definitions()
        # first connections spread over 5 ms a station (at most 60 s): 10,000 stations at once overran the simulator's
        # own event loop on a loaded machine (every handshake timed out, and each retry added to the load)
        spread = min(60.0, len(definitions) * 0.005)
        for definition in definitions:
            self._add(definition, random.uniform(0, spread))
        LOG.info("started %d stations", len(definitions))

    def _add(self, definition: dict, initial_delay: float = 0.0) -> StationBase:
        state_class, station_class = (StationState16, SimStation16) if is_v16(definition) else (StationState, SimStation)
        state = state_class.load_or_create(definition, self.state_dir, self.factory)
        station = station_class(state, self.factory, LOG)
        station.reboot_seconds = float(self.config.get("reboot_seconds", 0))
        station.power_cycle()
        self.stations[definition["id"]] = station
        station.start(initial_delay)
        return station

    def definition_for(self, station_id: str, ocpp_version: str = "2.0.1") -> dict:
        """A factory-fresh definition for a new station id, shaped like the first configured station of that OCPP
        version (a 1.6 station: like the config's first 1.6 station, else the `v16` model's own hardware)."""
        template = self.template16 if ocpp_version == "1.6" else self.template
        if template is None:
            raise ValueError("the config has no station to copy the hardware from")
        definition = json.loads(json.dumps(template))
        definition.update({"id": station_id, "serial_number": f"SN-{station_id}"})
        definition.pop("iccid", None)
        return definition

    def add_stations(self, definitions: list[dict]) -> list[str]:
        added = []
        for definition in definitions:
            if definition["id"] not in self.stations:
                self._add(definition)
                added.append(definition["id"])
        return added

    async def stop(self) -> None:
        await asyncio.gather(*(station.shutdown() for station in self.stations.values()))


# --- control API ---------------------------------------------------------------------------------------


def is_v16(definition: dict) -> bool:
    """A station definition runs the 1.6J simulator when it says `ocpp_version: "1.6"` (lab model `v16`)."""
    return str(definition.get("ocpp_version", "")) == "1.6" or definition.get("lab_model") == "v16"


def _station(request: web.Request) -> StationBase:
    station = request.app["simulator"].stations.get(request.match_info["id"])
    if station is None:
        raise web.HTTPNotFound(text=json.dumps({"error": "not_found", "message": "no such station"}),
                               content_type="application/json")
    return station


async def _json_body(request: web.Request) -> dict:
    try:
        body = await request.json()
    except json.JSONDecodeError as error:
        raise web.HTTPBadRequest(text=json.dumps({"error": "invalid_json", "message": str(error)}),
                                 content_type="application/json") from error
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text=json.dumps({"error": "invalid_json", "message": "expected an object"}),
                                 content_type="application/json")
    return body


async def list_stations(request: web.Request) -> web.Response:
    stations = request.app["simulator"].stations.values()
    return web.json_response({"items": [station.summary() for station in stations]})


async def get_station(request: web.Request) -> web.Response:
    return web.json_response(_station(request).describe())


async def add_stations(request: web.Request) -> web.Response:
    simulator: Simulator = request.app["simulator"]
    body = await _json_body(request)
    definitions = list(body.get("stations", []))
    ocpp_version = str(body.get("ocpp_version") or "2.0.1")
    if ocpp_version not in OCPP_VERSIONS:
        return _error(400, "invalid_ocpp_version", f"ocpp_version must be one of {list(OCPP_VERSIONS)}")
    try:
        definitions += [simulator.definition_for(station_id, ocpp_version) for station_id in body.get("ids", [])]
    except ValueError as error:
        return _error(400, "no_template", str(error))
    return web.json_response({"added": simulator.add_stations(definitions)}, status=201)


async def factory_reset(request: web.Request) -> web.Response:
    station = _station(request)
    await station.factory_reset(station.state.definition)
    return web.json_response(station.summary())


async def set_faults(request: web.Request) -> web.Response:
    station = _station(request)
    body = await _json_body(request)
    unknown = set(body) - FAULT_KEYS
    if unknown:
        return _error(400, "unknown_fault", f"unknown faults: {sorted(unknown)}")
    await station.set_faults(body)
    return web.json_response({"faults": station.faults})


async def security_event(request: web.Request) -> web.Response:
    """Make the station send SecurityEventNotification ``{"type", "tech_info"?}`` now."""
    station = _station(request)
    body = await _json_body(request)
    if not isinstance(body.get("type"), str) or not body["type"]:
        return _error(400, "invalid_event", "give the security event type, e.g. InvalidChargingStationCertificate")
    if not await station.send_security_event(body["type"], body.get("tech_info")):
        return _error(409, "station_offline", f"{station.station_id} is not connected")
    return web.json_response({"sent": body["type"]})


async def local_change(request: web.Request) -> web.Response:
    """A change made at the station itself (its display, a technician): 2.0.1 ``{"variables": [...]}``,
    1.6 ``{"keys": {"<key>": "<value>", ...}}``; applied at once, whatever the key's mutability."""
    station = _station(request)
    body = await _json_body(request)
    if isinstance(station, SimStation16):
        return _local_change_keys(station, body.get("keys") or {})
    model = station.state.device_model
    rows = []
    for change in body.get("variables", []):
        component = {"name": change["component"], "instance": change.get("component_instance"),
                     "evse": {"id": change["evse"], "connector_id": change.get("connector")} if "evse" in change
                     else None}
        row, error = model.find(component, {"name": change["variable"], "instance": change.get("instance")})
        if error:
            return _error(400, error, f"{change['component']}.{change['variable']}: {error}")
        rows.append((row, str(change["value"])))
    for row, value in rows:
        model.set_now(row.key, value)
    station.state.save()
    return web.json_response({"changed": [row.key for row, _ in rows if row.mutability != WRITE_ONLY]})


def _local_change_keys(station: SimStation16, keys: dict) -> web.Response:
    model = station.state.device_model
    unknown = sorted(name for name in keys if model.find(name) is None)
    if unknown:
        return _error(400, "unknown_key", f"{station.station_id} has no configuration keys {unknown}")
    for name, value in keys.items():
        model.set_now(name, str(value))
    station.state.save()
    return web.json_response({"changed": sorted(name for name in keys if not model.find(name).write_only)})


async def health(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def control_app(simulator: Simulator) -> web.Application:
    app = web.Application()
    app["simulator"] = simulator
    app.router.add_get("/sim/health", health)
    app.router.add_get("/sim/stations", list_stations)
    app.router.add_post("/sim/stations", add_stations)
    app.router.add_get("/sim/stations/{id}", get_station)
    app.router.add_post("/sim/stations/{id}/factory-reset", factory_reset)
    app.router.add_post("/sim/stations/{id}/faults", set_faults)
    app.router.add_post("/sim/stations/{id}/local-change", local_change)
    app.router.add_post("/sim/stations/{id}/security-event", security_event)
    return app


def _configure_logging(path: str | None) -> None:
    handler = logging.FileHandler(path) if path else logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # The ocpp library logs whole messages, BasicAuthPassword values included, even at ERROR: silence it.
    logging.getLogger("ocpp").setLevel(logging.CRITICAL + 1)
    logging.getLogger("websockets").setLevel(logging.WARNING)


async def serve(config: dict) -> None:
    _configure_logging(config.get("log"))
    simulator = Simulator(config)
    runner = web.AppRunner(control_app(simulator), access_log=None)
    await runner.setup()
    simulator.start()
    site = web.TCPSite(runner, config.get("host", "127.0.0.1"), int(config["control_port"]))
    await site.start()
    port = runner.addresses[0][1]
    LOG.info("control API on http://%s:%s", config.get("host", "127.0.0.1"), port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    LOG.info("stopping")
    await simulator.stop()
    await runner.cleanup()
