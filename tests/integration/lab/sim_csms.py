"""A minimal CSMS for the simulator tests: OCPP 2.0.1 server side of the `ocpp` library over websockets,
security profile 1 (ws + HTTP Basic), run in a thread with its own event loop.
"""
from __future__ import annotations

import asyncio
import base64
import http
import json
import socket
import threading
from datetime import datetime, timezone

from ocpp.routing import on
from ocpp.v201 import ChargePoint, call_result
from ocpp.v201.enums import Action
from websockets.asyncio.server import serve


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


class CsmsSide(ChargePoint):
    """The CSMS's end of one station connection; records what the station sent."""

    def __init__(self, station_id, connection, csms: SimCsms):
        super().__init__(station_id, connection)
        self.csms = csms
        self.raw_results: list[list] = []

    async def route_message(self, raw_msg):
        message = json.loads(raw_msg)
        if message[0] == 3:
            self.raw_results.append(message)
        await super().route_message(raw_msg)

    @on(Action.boot_notification)
    def on_boot(self, charging_station, reason, **_):
        self.csms.boots.append((self.id, reason))
        return call_result.BootNotification(current_time=_now(), interval=300, status="Accepted")

    @on(Action.status_notification)
    def on_status(self, connector_status, evse_id, connector_id, **_):
        self.csms.statuses[(self.id, evse_id, connector_id)] = connector_status
        return call_result.StatusNotification()

    @on(Action.heartbeat)
    def on_heartbeat(self, **_):
        return call_result.Heartbeat(current_time=_now())

    @on(Action.sign_certificate)
    def on_sign_certificate(self, csr, **_):
        self.csms.csrs[self.id] = csr
        return call_result.SignCertificate(status="Accepted")

    @on(Action.notify_report)
    def on_notify_report(self, request_id, seq_no, report_data=None, tbc=False, **_):
        self.csms.reports.setdefault((self.id, request_id), []).append((seq_no, report_data or [], tbc))
        return call_result.NotifyReport()

    @on(Action.report_charging_profiles)
    def on_report_charging_profiles(self, request_id, charging_profile, evse_id, **_):
        self.csms.reports.setdefault((self.id, request_id), []).append((evse_id, charging_profile, False))
        return call_result.ReportChargingProfiles()


class SimCsms:
    """Accepts every station whose Basic-auth password is `password`; `call()` sends from the test thread."""

    def __init__(self, password: str):
        self.password = password
        self.port = free_port()
        self.url = f"ws://127.0.0.1:{self.port}/ocpp"
        self.sessions: dict[str, CsmsSide] = {}
        self.boots: list[tuple[str, str]] = []
        self.statuses: dict[tuple, str] = {}
        self.csrs: dict[str, str] = {}
        self.reports: dict[tuple, list] = {}
        self.refused_auth = 0
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Future | None = None
        self._server_task: asyncio.Task | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve_ready(), self._loop).result(10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(15)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _serve_ready(self) -> None:
        ready = asyncio.Event()
        self._stop = self._loop.create_future()
        self._server_task = self._loop.create_task(self._serve(ready))
        await ready.wait()

    async def _shutdown(self) -> None:
        self._stop.set_result(None)
        await self._server_task

    async def _serve(self, ready: asyncio.Event) -> None:
        async with serve(self._handle, "127.0.0.1", self.port, subprotocols=["ocpp2.0.1"],
                         process_request=self._check_auth):
            ready.set()
            await self._stop

    def _check_auth(self, connection, request):
        station_id = request.path.rstrip("/").split("/")[-1]
        expected = "Basic " + base64.b64encode(f"{station_id}:{self.password}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            self.refused_auth += 1
            return connection.respond(http.HTTPStatus.UNAUTHORIZED, "bad credentials\n")
        return None

    async def _handle(self, connection) -> None:
        station_id = connection.request.path.rstrip("/").split("/")[-1]
        session = CsmsSide(station_id, connection, self)
        self.sessions[station_id] = session
        try:
            await session.start()
        except Exception:  # the station went away; the session ends with it
            pass
        finally:
            if self.sessions.get(station_id) is session:
                del self.sessions[station_id]

    def call(self, station_id: str, payload, timeout: float = 15, suppress: bool = True):
        """Send an OCPP call to a connected station from the test thread and return its result."""
        session = self.sessions[station_id]
        future = asyncio.run_coroutine_threadsafe(session.call(payload, suppress=suppress), self._loop)
        return future.result(timeout)
