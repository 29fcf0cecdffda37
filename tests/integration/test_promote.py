"""promote.yml: a test-commissioned station moves to the production CSMS with a pki_prod certificate, and verify.yml
against the production inventory then passes (issue 11)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import yaml
from cryptography import x509

sys.path.insert(0, str(Path(__file__).resolve().parent))

from evcs_lab.clients import CsmsApi  # noqa: E402
from security_helpers import REPO_ROOT, add_stations, write_inventory  # noqa: E402

STATION = "PROM-CP-0001"
LAB = REPO_ROOT / "inventories" / "lab"
CONFIRMED = {"evcs_production_confirmed": True}
MESSAGE_TIMEOUT = 45  # not the module's default (30): the production slot must carry the station's own settings


def _production_csms(lab) -> CsmsApi:
    return CsmsApi({"csms": lab["environments"]["production"]["csms"]})


def _inventory(directory: Path, source: str) -> str:
    """LAB-CP-0001's hardware (profile 3) under this station's id, with a message timeout of its own, at the lab
    depot site, with ``source``'s group_vars/all (the environment)."""
    station = yaml.safe_load((LAB / "host_vars" / "LAB-CP-0001.yml").read_text())["evcs_station"]
    station.update(id=STATION, serial_number=f"SN-{STATION}", security_profile=3,
                   ocpp={"message_timeout": MESSAGE_TIMEOUT})
    inventory = write_inventory(directory, {STATION: station}, source=source)
    shutil.copy(LAB / "group_vars" / "lab_depot.yml", Path(inventory) / "group_vars" / "all" / "site.yml")
    return inventory


@pytest.fixture(scope="module")
def promoted(lab, run_playbook, tmp_path_factory):
    """A station provisioned (commissioned) against the test environment, then promoted: the production inventory
    and the output of the confirmed promote.yml run."""
    directory = tmp_path_factory.mktemp("promote")
    add_stations(lab, [STATION])
    test = _inventory(directory / "test", "inventories/lab")
    rc, output, recap = run_playbook("playbooks/provision.yml", inventory=test,
                                     env={"EVCS_REPORT_DIR": str(directory / "reports")})
    assert rc == 0 and recap[STATION]["failed"] == 0, output[-4000:]
    production = _inventory(directory / "production", "inventories/lab-production")

    rc, output, _recap = run_playbook("playbooks/promote.yml", inventory=production)
    assert rc != 0 and "evcs_production_confirmed=true" in output

    rc, output, recap = run_playbook("playbooks/promote.yml", inventory=production, check=True, diff=True)
    assert rc == 0 and "SetNetworkProfile slot" in output, output[-3000:]
    assert lab.csms.connection(STATION)["security_profile"] == 3

    rc, output, recap = run_playbook("playbooks/promote.yml", inventory=production, extra_vars=CONFIRMED)
    assert rc == 0 and recap[STATION]["failed"] == 0, output[-4000:]
    return production, output


def test_promote_moves_a_station_to_production(lab, promoted):
    output = promoted[1]
    assert "from_environment" in output and "to_environment" in output
    connection = _production_csms(lab).connection(STATION)
    assert connection["online"] and connection["security_profile"] == 3
    issuer = x509.load_pem_x509_certificate(connection["client_certificate"].encode()).issuer.rfc4514_string()
    assert "EVCS Prod Charger Issuing CA" in issuer
    assert lab.csms.record("stations", STATION) is None
    station = lab.sim.station(STATION)
    assert station["device_model"] is not None
    # it ends on the profile's own slot, which the production CSMS sent (and so keeps the record of)
    assert station["slot"] == 3, station["slot"]
    sent = _production_csms(lab).http.request("GET", f"/api/stations/{STATION}/network-profiles")
    assert "3" in sent and lab["environments"]["production"]["csms"]["ws_urls"]["3"] in sent["3"]["ocppCsmsUrl"], sent


def test_promoted_station_keeps_its_connection_settings(lab, promoted):
    """The production slot carries the interface and message timeout the network role renders for the station."""
    station = lab.sim.station(STATION)
    slot = station["network_profiles"][str(station["slot"])]
    assert lab["environments"]["production"]["csms"]["ws_urls"]["3"] in slot["ocppCsmsUrl"], slot
    assert slot["ocppInterface"] == "Wired0" and slot["messageTimeout"] == MESSAGE_TIMEOUT, slot


def test_verify_passes_on_the_promoted_station(run_playbook, promoted):
    """issue 11: verify.yml against the production inventory, limited to the promoted station, exits 0."""
    rc, output, recap = run_playbook("playbooks/verify.yml", inventory=promoted[0],
                                     extra_vars=dict(CONFIRMED, evcs_targets=STATION))
    assert rc == 0 and recap[STATION]["failed"] == 0, output[-6000:]
    assert "no drift on 1 station(s)" in output, output[-3000:]
