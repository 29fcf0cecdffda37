"""promote.yml: a test-commissioned station moves to the production CSMS with a pki_prod certificate."""

from __future__ import annotations

import sys
from pathlib import Path

from cryptography import x509

sys.path.insert(0, str(Path(__file__).resolve().parent))

from evcs_lab.clients import CsmsApi  # noqa: E402
from security_helpers import add_stations, write_inventory  # noqa: E402

STATION = "PROM-CP-0001"


def _production_csms(lab) -> CsmsApi:
    return CsmsApi({"csms": lab["environments"]["production"]["csms"]})


def test_promote_moves_a_station_to_production(lab, run_playbook, tmp_path):
    add_stations(lab, [STATION])
    test_inventory = write_inventory(tmp_path / "test", {STATION: {"security_profile": 3, "serial_number": "SIM-PROM-1"}})
    rc, output, _recap = run_playbook("playbooks/security_upgrade.yml", inventory=test_inventory)
    assert rc == 0, output[-3000:]
    production = write_inventory(tmp_path / "production", {STATION: {"security_profile": 3, "serial_number": "SIM-PROM-1"}},
                                 source="inventories/lab-production")

    rc, output, _recap = run_playbook("playbooks/promote.yml", inventory=production)
    assert rc != 0 and "evcs_production_confirmed=true" in output

    rc, output, recap = run_playbook("playbooks/promote.yml", inventory=production, check=True, diff=True)
    assert rc == 0 and "SetNetworkProfile slot" in output, output[-3000:]
    assert lab.csms.connection(STATION)["security_profile"] == 3

    rc, output, recap = run_playbook("playbooks/promote.yml", inventory=production,
                                     extra_vars={"evcs_production_confirmed": True})
    assert rc == 0 and recap[STATION]["failed"] == 0, output[-4000:]
    assert "from_environment" in output and "to_environment" in output
    connection = _production_csms(lab).connection(STATION)
    assert connection["online"] and connection["security_profile"] == 3
    issuer = x509.load_pem_x509_certificate(connection["client_certificate"].encode()).issuer.rfc4514_string()
    assert "EVCS Prod Charger Issuing CA" in issuer
    assert lab.csms.record("stations", STATION) is None
    assert lab.sim.station(STATION)["device_model"] is not None
