"""No credential left behind (issue 17, item 3): after provision.yml every lab station refuses the shared staging
password, and a plain ws:// connection with it cannot replace a profile-3 station.

Before issue 17 the profile-3 stations kept the staging BasicAuthPassword and the CSMS admitted it: a ws:// connection
as LAB-CP-0001 with it was accepted and took the station's place.
"""

from __future__ import annotations

import asyncio
import base64
import json

import sys
from pathlib import Path

import pytest
import yaml
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import REPO_ROOT  # noqa: E402

PROFILE_3 = "LAB-CP-0001"
LAB = REPO_ROOT / "inventories" / "lab"
#: the stations of inventories/lab (its hosts.yml) and the OCPP version each declares: the lab fleet is mixed
FLEET = {host: str(yaml.safe_load((LAB / "host_vars" / f"{host}.yml").read_text())["evcs_station"]
                   .get("ocpp_version", "2.0.1"))
         for group in yaml.safe_load((LAB / "hosts.yml").read_text())["all"]["children"].values()
         for host in (group.get("hosts") or {})}


@pytest.fixture(scope="module")
def provisioned(lab, run_playbook, tmp_path_factory):
    reports = tmp_path_factory.mktemp("retired-reports")
    rc, output, recap = run_playbook("playbooks/provision.yml", env={"EVCS_REPORT_DIR": str(reports)})
    assert rc == 0, output[-5000:]
    return reports


async def _basic_auth_status(url: str, station_id: str, password: str) -> int:
    token = base64.b64encode(f"{station_id}:{password}".encode()).decode()
    try:
        async with connect(f"{url}/{station_id}", subprotocols=["ocpp2.0.1"], open_timeout=5,
                           additional_headers={"Authorization": f"Basic {token}"}):
            return 101
    except InvalidStatus as refused:
        return refused.response.status_code


def test_the_commissioning_report_proves_the_staging_password_is_refused(provisioned):
    (report,) = sorted(provisioned.glob("commissioning-*.json"))[-1:]
    stations = json.loads(report.read_text())
    assert sorted(station["station_id"] for station in stations) == sorted(FLEET)
    for station in stations:
        items = {item["name"]: item for item in station["checklist"]}
        assert items["staging_password_refused"]["status"] == "pass", station
    assert (provisioned.stat().st_mode & 0o777) == 0o700
    assert all((path.stat().st_mode & 0o777) == 0o600 for path in provisioned.iterdir())


def test_the_staging_password_cannot_replace_a_profile_3_station(lab, provisioned):
    staging = lab["csms"]["staging_password"]
    assert lab.csms.connection(PROFILE_3)["security_profile"] == 3
    assert asyncio.run(_basic_auth_status(lab["csms"]["ws_urls"]["1"], PROFILE_3, staging)) == 401
    connection = lab.csms.connection(PROFILE_3)
    assert connection["online"] and connection["security_profile"] == 3
    for station_id, version in FLEET.items():
        # a 1.6 charge point's factory AuthorizationKey is the staging password's hex form (docs/OCPP16.md)
        for password in (staging, *((staging.encode().hex().upper(),) if version == "1.6" else ())):
            assert lab.csms.http.request("POST", f"/api/stations/{station_id}/credentials/verify",
                                         json={"password": password}) == {"valid": False}, (station_id, version)
