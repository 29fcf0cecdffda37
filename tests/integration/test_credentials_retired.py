"""No credential left behind (issue 17, item 3): after provision.yml every lab station refuses the shared staging
password, and a plain ws:// connection with it cannot replace a profile-3 station.

Before issue 17 the profile-3 stations kept the staging BasicAuthPassword and the CSMS admitted it: a ws:// connection
as LAB-CP-0001 with it was accepted and took the station's place.
"""

from __future__ import annotations

import asyncio
import base64
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

PROFILE_3 = "LAB-CP-0001"


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
    assert len(stations) == 4
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
    for station_id in ("LAB-CP-0001", "LAB-CP-0002", "LAB-CP-0003", "LAB-CP-0004"):
        assert lab.csms.http.request("POST", f"/api/stations/{station_id}/credentials/verify",
                                     json={"password": staging}) == {"valid": False}
