"""Vault faults during provisioning (backend and identity stages), through a proxy in front of this module's own
OpenBao: 403 (policy too narrow), transient and permanent 5xx, Vault sealed in the middle of a run (with the lab's
root token) and unreachable. The affected stations fail with a message naming what failed and what to do; after the
fault is cleared the next run enrolls what is missing and the one after changes nothing.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from faults.common import Fleet  # noqa: E402
from faults.lab import add_stations, changed, fault_lab, issued_certificates, seal_vault, unseal_vault  # noqa: E402

pytestmark = pytest.mark.integration

SIGN = r"/v1/pki_lab/sign/"
_BATCHES = itertools.count(1)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with fault_lab(tmp_path_factory.mktemp("vault-faults")) as running:
        yield running


@pytest.fixture()
def fleet(lab, tmp_path):
    """Two new stations for each test, so the identity stage has something to enroll (a factory reset would not do:
    OCPP cannot read a station's client certificate back, so the PKI's record of what it signed stands for it)."""
    batch = next(_BATCHES)
    ids = [f"FV-{batch}-0001", f"FV-{batch}-0002"]
    add_stations(lab, ids)
    yield Fleet(lab, tmp_path / "inventory", ids, tags="backend,identity")
    lab.vault_proxy.clear()
    lab.vault_proxy.resume()
    unseal_vault(lab)


def _enrolled(fleet):
    """The next runs enroll both stations, then change nothing."""
    before = issued_certificates(fleet.lab)
    rc, output, recap, failures = fleet.provision()
    assert rc == 0 and not failures, output[-5000:]
    assert all(count > 0 for count in changed(recap).values()), recap
    assert issued_certificates(fleet.lab) == before + len(fleet.ids)
    rc, output, recap, failures = fleet.provision()
    assert rc == 0 and set(changed(recap).values()) == {0}, (changed(recap), output[-5000:])


def test_policy_too_narrow_403_names_path_and_capability(lab, fleet):
    lab.vault_proxy.fail(403, path=SIGN)
    rc, output, _recap, failures = fleet.provision()
    assert rc != 0 and sorted(failures) == fleet.ids, output[-5000:]
    for message in failures.values():
        assert "403" in message and 'pki_lab/sign/charging-station' in message and '"update" capability' in message
    lab.vault_proxy.clear()
    _enrolled(fleet)


def test_transient_5xx_is_retried_and_enrollment_succeeds(lab, fleet):
    lab.vault_proxy.fail(503, count=2, path=SIGN)
    _enrolled(fleet)
    assert len(lab.vault_proxy.answered(SIGN, 503)) == 2


def test_permanent_5xx_fails_with_what_to_check(lab, fleet):
    lab.vault_proxy.fail(500, path=SIGN)
    rc, output, _recap, failures = fleet.provision()
    assert rc != 0 and sorted(failures) == fleet.ids, output[-5000:]
    for message in failures.values():
        assert "failed after 4 attempts" in message and "unsealed and reachable" in message, message
    lab.vault_proxy.clear()
    _enrolled(fleet)


def test_vault_sealed_mid_run_then_unsealed_converges(lab, fleet):
    lab.vault_proxy.before(lambda: seal_vault(lab), path=r"/v1/auth/")
    rc, output, _recap, failures = fleet.provision()
    assert rc != 0 and sorted(failures) == fleet.ids, output[-5000:]
    for message in failures.values():
        assert "unsealed and reachable" in message, message
    # Vault is sealed before the run's first Vault request, which takes the station's lease (issue 18): so no stage
    # writes anything, not even the CSMS records
    assert not lab.csms.record("stations", fleet.ids[0]), "nothing was written without the lease"
    assert all("lease" in message for message in failures.values()), failures
    unseal_vault(lab)
    _enrolled(fleet)


def test_vault_unreachable_fails_with_what_to_check(lab, fleet):
    lab.vault_proxy.refuse()
    rc, output, _recap, failures = fleet.provision()
    assert rc != 0 and sorted(failures) == fleet.ids, output[-5000:]
    for message in failures.values():
        assert "check vault_url" in message, message
    lab.vault_proxy.resume()
    _enrolled(fleet)
