"""Small synchronous clients of a running lab, for tests, the demo and the benchmark.

The collection talks to the CSMS through ``plugins/module_utils/csms/reference.py``; these clients exist so
the lab can be driven and inspected without importing anything from ``plugins/``.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import requests

from evcs_lab.paths import LabPaths
from evcs_lab.state import read_state

RECORD_COLLECTIONS = ("stations", "locations", "tariffs", "id-tokens")


class LabApiError(RuntimeError):
    """A lab API answered with an error status; ``status`` and ``body`` say which."""

    def __init__(self, method: str, url: str, status: int, body):
        self.status = status
        self.body = body
        super().__init__(f"{method} {url} -> {status}: {body}")


class _Http:
    """One requests session against one base URL; JSON in, JSON out, errors raised as LabApiError."""

    def __init__(self, base_url: str, verify, token: str | None = None, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        # verify goes with every request: requests lets REQUESTS_CA_BUNDLE override a session's verify
        self.verify = verify
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str, path: str, *, allow: tuple[int, ...] = (), timeout: float | None = None, **kwargs):
        """The decoded JSON body; None for a status listed in ``allow`` (e.g. 404) or an empty body."""
        url = self.base_url + path
        response = self.session.request(method, url, timeout=timeout or self.timeout, verify=self.verify, **kwargs)
        if response.status_code in allow:
            return None
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = response.text[:500]
            raise LabApiError(method, url, response.status_code, body)
        return response.json() if response.content else None


class CsmsApi:
    """The reference CSMS REST API (bearer token, TLS verified with the lab root CA)."""

    def __init__(self, state: dict):
        csms = state["csms"]
        self.http = _Http(csms["api_url"], verify=csms["ca_cert"], token=csms["api_token"])

    def health(self) -> dict:
        return self.http.request("GET", "/api/health", timeout=5)

    def call(self, station_id: str, action: str, payload: dict, timeout: float | None = None) -> dict:
        """Send OCPP ``action`` to the station and return the station's response payload."""
        params = {"timeout": timeout} if timeout else None
        answer = self.http.request("POST", f"/api/stations/{station_id}/ocpp/{action}", json=payload, params=params,
                                   timeout=(timeout or self.http.timeout) + 5)
        return answer["payload"]

    def connection(self, station_id: str) -> dict | None:
        return self.http.request("GET", f"/api/stations/{station_id}/connection", allow=(404,))

    def events(self, since: str = "0", timeout: float = 0) -> dict:
        """The event stream of all stations: ``{'items': [...], 'cursor'}`` after ``since``."""
        return self.http.request("GET", "/api/events", params={"since": since, "timeout": timeout},
                                 timeout=timeout + 30)

    def csr(self, station_id: str) -> dict | None:
        return self.http.request("GET", f"/api/stations/{station_id}/csr", allow=(404,))

    def records(self, collection: str = "stations", **filters) -> list[dict]:
        listed = self.http.request("GET", f"/api/{collection}", params=filters or None)
        return listed.get("items", []) if isinstance(listed, dict) else listed

    def record(self, collection: str, record_id: str) -> dict | None:
        return self.http.request("GET", f"/api/{collection}/{record_id}", allow=(404,))

    def put_record(self, collection: str, record_id: str, record: dict) -> dict:
        return self.http.request("PUT", f"/api/{collection}/{record_id}", json=record)

    def delete_record(self, collection: str, record_id: str) -> None:
        self.http.request("DELETE", f"/api/{collection}/{record_id}", allow=(404,))

    def stats(self) -> dict:
        return self.http.request("GET", "/api/stats/ocpp")

    def reset_stats(self) -> None:
        self.http.request("DELETE", "/api/stats/ocpp")

    def wipe(self, station_ids=()) -> int:
        """Delete every record of every collection, the call statistics and what the CSMS remembers of the
        network profiles it sent to ``station_ids``; return how many records went."""
        deleted = 0
        for collection in RECORD_COLLECTIONS:
            for record in self.records(collection):
                self.delete_record(collection, record["id"])
                deleted += 1
        for station_id in station_ids:
            self.http.request("DELETE", f"/api/stations/{station_id}/network-profiles")
        self.reset_stats()
        return deleted


class SimControl:
    """The charger simulator's control API (loopback, lab and tests only)."""

    def __init__(self, state: dict):
        self.http = _Http(state["simulator"]["control_url"], verify=False)

    def stations(self) -> list[dict]:
        return self.http.request("GET", "/sim/stations", timeout=5)["items"]

    def station(self, station_id: str) -> dict:
        return self.http.request("GET", f"/sim/stations/{station_id}")

    def add(self, ids: list[str], ocpp_version: str | None = None) -> dict:
        """Add factory-new stations; ``ocpp_version="1.6"`` makes 1.6J charge points (lab model ``v16``)."""
        body = {"ids": list(ids), **({"ocpp_version": ocpp_version} if ocpp_version else {})}
        return self.http.request("POST", "/sim/stations", json=body)

    def factory_reset(self, station_id: str) -> dict:
        return self.http.request("POST", f"/sim/stations/{station_id}/factory-reset")

    def faults(self, station_id: str, **faults) -> dict:
        return self.http.request("POST", f"/sim/stations/{station_id}/faults", json=faults)

    def security_event(self, station_id: str, event_type: str, tech_info: str | None = None) -> dict:
        """Make the station send SecurityEventNotification of ``event_type`` now."""
        body = {"type": event_type, **({"tech_info": tech_info} if tech_info else {})}
        return self.http.request("POST", f"/sim/stations/{station_id}/security-event", json=body)

    def local_change(self, station_id: str, variables: list[dict]) -> dict:
        return self.http.request("POST", f"/sim/stations/{station_id}/local-change", json={"variables": variables})

    def local_change_keys(self, station_id: str, keys: dict) -> dict:
        """A 1.6 charge point's configuration keys changed at the station itself (drift): ``{"<key>": "<value>"}``."""
        return self.http.request("POST", f"/sim/stations/{station_id}/local-change", json={"keys": keys})


class LabState(dict):
    """``state.json`` of a running lab, with clients: ``.csms`` (CsmsApi), ``.sim`` (SimControl), ``.home``."""

    @classmethod
    def load(cls, home=None) -> "LabState":
        paths = LabPaths.resolve(home)
        state = read_state(paths)
        if state is None:
            raise FileNotFoundError(f"no lab state at {paths.state_file}: run `evcs-lab up` first")
        return cls(state)

    @property
    def home(self) -> Path:
        return Path(self["home"])

    @cached_property
    def csms(self) -> CsmsApi:
        return CsmsApi(self)

    @cached_property
    def sim(self) -> SimControl:
        return SimControl(self)
