"""CSMS faults during provision.yml, injected by a proxy in front of the REST API of a lab of this module's own.

Transient answers (503) are retried with a bounded backoff and the run succeeds; a permanent 5xx, a timeout or an
unreachable CSMS fail the affected station with a message that says what failed and what to do, the other station
carries on, and once the fault is gone the next run repairs only what is missing and the one after changes nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from faults.common import Fleet, assert_only_failed  # noqa: E402
from faults.lab import add_stations, changed, fault_lab  # noqa: E402

pytestmark = pytest.mark.integration

IDS = ["FC-0001", "FC-0002"]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with fault_lab(tmp_path_factory.mktemp("csms-faults")) as running:
        add_stations(running, IDS)
        yield running


@pytest.fixture(scope="module")
def fleet(lab, tmp_path_factory):
    provisioned = Fleet(lab, tmp_path_factory.mktemp("csms-inventory") / "inventory", IDS, env={"EVCS_CSMS_RETRIES": "2"})
    rc, output, _recap, failures = provisioned.provision()
    assert rc == 0 and not failures, output[-5000:]
    return provisioned


@pytest.fixture(autouse=True)
def _pass_through(lab):
    yield
    lab.csms_proxy.clear()
    lab.csms_proxy.resume()


def test_transient_503_is_retried_and_the_run_succeeds(lab, fleet):
    lab.csms_proxy.fail(503, count=2)
    rc, output, recap, failures = fleet.provision()
    assert rc == 0 and not failures, output[-5000:]
    assert set(changed(recap).values()) == {0}, recap
    log = lab.csms_proxy.log
    refused = [index for index, entry in enumerate(log) if entry[2] == 503]
    assert len(refused) == 2, log[:5]
    method, path, _status = log[refused[-1]]
    assert any(entry[:2] == (method, path) and entry[2] not in (0, 503) for entry in log[refused[-1] + 1:]), \
        "the refused call is repeated and then succeeds"


def test_permanent_500_fails_one_station_and_the_other_carries_on(lab, fleet):
    lab.csms_proxy.fail(500, path="/api/stations/FC-0002")
    lab.sim.local_change("FC-0001", [{"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval", "value": "77"}])
    lab.sim.local_change("FC-0002", [{"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval", "value": "77"}])
    rc, output, recap, failures = fleet.provision()
    assert rc != 0
    assert_only_failed(failures, "FC-0002", "HTTP 500", "check its health and logs, then run again")
    assert recap["FC-0001"]["changed"] > 0 and recap["FC-0001"]["failed"] == 0, "the healthy station was repaired"
    assert lab.csms_proxy.answered("/api/stations/FC-0002", 500), "the fault was hit"
    lab.csms_proxy.clear()
    fleet.converges(repaired=["FC-0002"])


def test_unreachable_csms_fails_every_station_with_what_to_check(lab, fleet):
    lab.csms_proxy.refuse()
    rc, output, recap, failures = fleet.provision(env={"EVCS_CSMS_RETRIES": "1"})
    assert rc != 0
    assert sorted(failures) == IDS, output[-5000:]
    # the sites' records are written in a loop: the summary names the task, the item's result the cause
    assert "is unreachable after 2 attempts" in output and "check csms_url" in output, output[-5000:]
    lab.csms_proxy.resume()
    fleet.converges(repaired=[])


def test_slow_csms_times_out_for_its_station_only(lab, fleet):
    lab.csms_proxy.delay(4, path="/api/stations/FC-0001")
    rc, output, recap, failures = fleet.provision(env={"EVCS_CSMS_TIMEOUT": "2", "EVCS_CSMS_RETRIES": "1"})
    assert rc != 0
    assert_only_failed(failures, "FC-0001", "did not answer", "within 2 s", "EVCS_CSMS_TIMEOUT")
    assert recap["FC-0002"]["failed"] == 0
    lab.csms_proxy.clear()
    fleet.converges(repaired=[])
