"""TLS everywhere by default: the roles verify the CSMS and Vault certificates unless the inventory says otherwise
(``evcs_csms.validate_certs``, ``evcs_vault.validate_certs``), and saying otherwise prints a warning.

A station of this module's own on the session lab is registered and enrolled (backend and identity stages):
- with verification switched off for both, the run works and its output warns about each endpoint;
- without the CA path, the lab's CSMS (certificate from the lab's own PKI) is refused with a TLS message naming the
  fix, and nothing is written.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from faults.lab import add_stations, endpoints, failed_stations, run, station, write_inventory  # noqa: E402

pytestmark = pytest.mark.integration

STATION = "TLS-CP-0001"
PROVISION = "playbooks/provision.yml"
CSMS_WARNING = "csms_validate_certs=false: the CSMS certificate at"
VAULT_WARNING = "vault_validate_certs=false: the Vault server certificate is not verified"


@pytest.fixture(scope="module")
def tls_lab(lab):
    add_stations(lab, [STATION])
    return lab


def _provision(lab, directory, **endpoint_overrides):
    """provision.yml (backend and identity) over the module's station; ``(rc, flattened output, failures)``."""
    variables = endpoints(lab)
    for key, value in endpoint_overrides.items():
        section, name = key.split("__")
        if value is None:
            variables[section].pop(name)
        else:
            variables[section][name] = value
    inventory = write_inventory(directory, {STATION: station(STATION)}, **variables)
    rc, output, _recap = run(lab, PROVISION, inventory, tags="backend,identity")
    return rc, " ".join(output.split()), failed_stations(output)


def test_switching_verification_off_works_and_warns(tls_lab, tmp_path):
    rc, flat, failures = _provision(tls_lab, tmp_path / "inventory",
                                    evcs_csms__validate_certs=False, evcs_vault__validate_certs=False)
    assert rc == 0 and not failures, flat[-3000:]
    assert CSMS_WARNING in flat and "give csms_ca_path (inventory: evcs_csms.ca_path) instead" in flat, flat[-3000:]
    assert VAULT_WARNING in flat, flat[-3000:]


def test_verification_is_on_by_default_and_quiet(tls_lab, tmp_path):
    rc, flat, failures = _provision(tls_lab, tmp_path / "inventory")
    assert rc == 0 and not failures, flat[-3000:]
    assert CSMS_WARNING not in flat and VAULT_WARNING not in flat


def test_csms_without_its_ca_is_refused_with_a_tls_message(tls_lab, tmp_path):
    tls_lab.csms.delete_record("stations", STATION)
    rc, flat, failures = _provision(tls_lab, tmp_path / "inventory", evcs_csms__ca_path=None)
    assert rc != 0, flat[-3000:]
    message = failures[STATION]
    assert "TLS verification of the CSMS at %s failed" % tls_lab["csms"]["api_url"] in message, message
    assert "set csms_ca_path (inventory: evcs_csms.ca_path)" in message, message
    assert tls_lab.csms.record("stations", STATION) is None, "nothing was written through an unverified connection"


def test_vault_without_its_ca_is_refused_with_a_tls_message(tls_lab, tmp_path):
    rc, flat, failures = _provision(tls_lab, tmp_path / "inventory", evcs_vault__ca_path=None)
    assert rc != 0, flat[-3000:]
    message = failures[STATION]
    assert "TLS verification of Vault failed" in message and "set vault_ca_path" in message, message
