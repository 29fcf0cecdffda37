"""Station faults during provision.yml, injected through the simulator's control API on a lab of this module's own:
a station offline at the start, one that drops its connection mid-run, one that rejects a variable, one that rejects
CertificateSigned, and one that does not come back after a reset. The affected station fails with a message that
says what failed and what to do, the other station carries on, and once the fault is cleared the next run repairs
only what is missing and the one after changes nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from faults.common import Fleet, assert_only_failed  # noqa: E402
from faults.lab import add_stations, fault_lab, issued_certificates, wait_for  # noqa: E402

pytestmark = pytest.mark.integration

IDS = ["FS-0001", "FS-0002"]
#: a drifted setting: a station that merely reconnects sends no BootNotification (OCPP F06), so it keeps the drift
#: until the next run repairs it
HEARTBEAT = {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval", "value": "77"}
DNS = {"component": "NetworkInterface", "component_instance": "Wired0", "variable": "DnsServers", "value": "10.9.9.9"}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with fault_lab(tmp_path_factory.mktemp("station-faults")) as running:
        add_stations(running, IDS)
        yield running


@pytest.fixture(scope="module")
def fleet(lab, tmp_path_factory):
    """Both stations provisioned; the tests then run the station-plane stages the faults hit (network, ocpp)."""
    directory = tmp_path_factory.mktemp("station-inventory")
    rc, output, _recap, failures = Fleet(lab, directory / "full", IDS).provision()
    assert rc == 0 and not failures, output[-5000:]
    return Fleet(lab, directory / "station-plane", IDS, tags="network,ocpp")


@pytest.fixture(autouse=True)
def _no_faults(lab):
    yield
    lab.csms_proxy.clear()
    for station_id in IDS:
        _clear(lab, station_id)


def _clear(lab, station_id):
    """Clear every fault of ``station_id`` and wait until it is back online."""
    lab.sim.faults(station_id, offline=False, reject_variables=[], reject_certificate_signed=False,
                   no_reconnect_after_reset=False)
    wait_for(lambda: (lab.csms.connection(station_id) or {}).get("online"), f"{station_id} online")


def _drift(lab, *variables):
    """A technician changed ``variables`` on both stations: each run that reaches a station repairs them."""
    for station_id in IDS:
        lab.sim.local_change(station_id, list(variables))


def _heartbeat(lab, station_id):
    model = lab.sim.station(station_id)["device_model"]
    return next(entry["attributes"]["value"] for entry in model if entry["variable"]["name"] == "HeartbeatInterval")


def test_station_offline_at_the_start(lab, fleet):
    _drift(lab, HEARTBEAT)
    lab.sim.faults("FS-0001", offline=True)
    wait_for(lambda: not (lab.csms.connection("FS-0001") or {}).get("online"), "FS-0001 offline")
    rc, output, recap, failures = fleet.provision()
    assert rc != 0
    assert_only_failed(failures, "FS-0001", "is not connected to the CSMS", "bring it online")
    assert recap["FS-0002"]["changed"] > 0, output[-6000:]
    _clear(lab, "FS-0001")
    assert _heartbeat(lab, "FS-0001") == "77", "a reconnect is no boot: the drift stays until the next run"
    fleet.converges(repaired=["FS-0001"])
    assert _heartbeat(lab, "FS-0001") == "300"


def test_station_disconnecting_mid_run(lab, fleet):
    _drift(lab, HEARTBEAT)
    # the first OCPP call of the OCPP stage for FS-0001: the station drops its connection just before it arrives
    lab.csms_proxy.before(lambda: lab.sim.faults("FS-0001", drop_connection=True, offline=True),
                          path=r"/api/stations/FS-0001/ocpp/SetVariables")
    rc, output, recap, failures = fleet.provision()
    assert rc != 0
    assert_only_failed(failures, "FS-0001", "FS-0001", "run again")
    assert recap["FS-0002"]["changed"] > 0 and recap["FS-0002"]["failed"] == 0
    lab.csms_proxy.clear()
    _clear(lab, "FS-0001")
    assert _heartbeat(lab, "FS-0001") == "77", "a reconnect is no boot: the drift stays until the next run"
    fleet.converges(repaired=["FS-0001"])
    assert _heartbeat(lab, "FS-0001") == "300"


def test_station_rejecting_a_variable(lab, fleet):
    _drift(lab, HEARTBEAT)
    lab.sim.faults("FS-0001", reject_variables=["OCPPCommCtrlr.HeartbeatInterval"])
    rc, output, recap, failures = fleet.provision()
    assert rc != 0
    assert_only_failed(failures, "FS-0001", "HeartbeatInterval", "Rejected")
    assert recap["FS-0002"]["changed"] > 0
    _clear(lab, "FS-0001")
    fleet.converges(repaired=["FS-0001"])


def test_certificate_signed_rejected(lab, tmp_path):
    """A new station (enrollment needs one) rejects its certificate: it is revoked again, the next run enrolls."""
    add_stations(lab, ["FS-0003"])
    lab.sim.faults("FS-0003", reject_certificate_signed=True)
    enrolling = Fleet(lab, tmp_path / "inventory", ["FS-0002", "FS-0003"])
    issued = issued_certificates(lab)
    rc, output, recap, failures = enrolling.provision()
    assert rc != 0
    assert_only_failed(failures, "FS-0003", "answered CertificateSigned with Rejected", "was revoked again",
                       "check the station's trust store and clock")
    assert recap["FS-0002"]["failed"] == 0
    assert issued_certificates(lab) == issued + 1, "signed once, then revoked"
    _clear(lab, "FS-0003")
    enrolling.converges(repaired=["FS-0003"])


def test_reset_after_which_the_station_does_not_come_back(lab, fleet):
    _drift(lab, DNS)     # a reboot-required network setting: applying it resets the station
    lab.sim.faults("FS-0001", no_reconnect_after_reset=True)
    short = {"network_reset_timeout": 8, "ocpp_reset_timeout": 8}
    rc, output, recap, failures = fleet.provision(extra_vars=short)
    assert rc != 0
    # the reset runs as a handler flushed inside provision.yml's block, so the rescue records it and the summary
    # names the station, the handler and what to do; the other station carries on
    assert_only_failed(failures, "FS-0001", "did not come back within 8s after Reset", "check its power and network")
    assert recap["FS-0001"]["rescued"] == 1 and recap["FS-0002"]["rescued"] == 0, output[-6000:]
    assert lab.sim.station("FS-0002")["resets"] > 0
    _clear(lab, "FS-0001")
    fleet.converges(repaired=[], extra_vars=short)
