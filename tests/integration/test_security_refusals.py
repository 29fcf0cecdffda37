"""Prerequisites stop an upgrade before anything is sent; an unreachable endpoint fails one host only; passwords."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import hvac
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from security_helpers import add_stations, ocpp_writes, write_inventory  # noqa: E402

PLAYBOOK = "playbooks/security_upgrade.yml"
NO_ROOT, SHORT_CERT, WRONG_ENV = "SECR-CP-0001", "SECR-CP-0002", "SECR-CP-0003"
UNREACHABLE, NEIGHBOUR, PASSWORD = "SECR-CP-0004", "SECR-CP-0005", "SECR-CP-0006"


@pytest.fixture(scope="module")
def stations(lab):
    add_stations(lab, [NO_ROOT, SHORT_CERT, WRONG_ENV, UNREACHABLE, NEIGHBOUR, PASSWORD])


def _refused(lab, run_playbook, inventory, station_id, profile, prerequisite, **extra):
    lab.csms.reset_stats()
    rc, output, recap = run_playbook(PLAYBOOK, inventory=inventory, extra_vars=dict(
        security_profile_target=profile, security_upgrade_identity=False, **extra))
    assert rc != 0 and recap[station_id]["failed"] == 1, output[-3000:]
    assert f"station {station_id}: security profile {profile} refused before anything was sent" in output
    assert prerequisite in output
    assert ocpp_writes(lab.csms.stats(), station_id) == {}
    assert lab.csms.connection(station_id)["security_profile"] == 1


def test_missing_csms_root_stops_before_anything_is_sent(lab, stations, run_playbook, tmp_path):
    inventory = write_inventory(tmp_path / "inv", {NO_ROOT: {}})
    _refused(lab, run_playbook, inventory, NO_ROOT, 2, "prerequisite csms_root_installed not met")


def test_wrong_environment_url_stops_before_anything_is_sent(lab, stations, run_playbook, tmp_path):
    inventory = write_inventory(tmp_path / "inv", {WRONG_ENV: {}})
    _refused(lab, run_playbook, inventory, WRONG_ENV, 1, "prerequisite url_in_environment not met",
             security_csms_url="ws://csms.production.example.net/ocpp", security_manage_password=False)


def test_expiring_client_certificate_stops_before_anything_is_sent(lab, stations, run_playbook, tmp_path):
    inventory = write_inventory(tmp_path / "inv", {SHORT_CERT: {}})
    rc, output, _recap = run_playbook(PLAYBOOK, inventory=inventory, extra_vars={
        "security_profile_target": 3, "identity_ttl": "3s", "identity_renew_before": 0})
    assert rc != 0 and "prerequisite client_certificate not met" in output, output[-3000:]
    time.sleep(3)
    _refused(lab, run_playbook, inventory, SHORT_CERT, 3, "the certificate expired on")


def test_unreachable_endpoint_falls_back_and_fails_that_host_only(lab, stations, run_playbook, tmp_path):
    # the mTLS endpoint answers TLS with the right chain, but refuses a profile-2 station without a client certificate
    inventory = write_inventory(tmp_path / "inv", {UNREACHABLE: {}, NEIGHBOUR: {}})
    hosts = Path(inventory) / "host_vars"
    hosts.mkdir()
    (hosts / f"{UNREACHABLE}.yml").write_text(f"security_csms_url: {lab['csms']['ws_urls']['3']}\n")
    rc, output, recap = run_playbook(PLAYBOOK, inventory=inventory, extra_vars={
        "security_profile_target": 2, "security_manage_password": False, "security_timeout": 40})
    assert rc != 0 and recap[UNREACHABLE]["failed"] == 1 and recap[NEIGHBOUR]["failed"] == 0, output[-3000:]
    assert "back on its previous profile 1" in output
    assert lab.csms.connection(NEIGHBOUR)["security_profile"] == 2
    connection = lab.csms.connection(UNREACHABLE)
    assert connection["online"] and connection["security_profile"] == 1


def _kv(lab, station_id):
    vault = lab["vault"]
    client = hvac.Client(url=vault["addr"], token=vault["token"], verify=vault["ca_cert"])
    return client.secrets.kv.v2.read_secret_version(path=f"evcs/lab/stations/{station_id}", mount_point="secret",
                                                    raise_on_deleted_version=False)["data"]["data"]


def test_password_rotation_retires_the_old_password_and_never_shows_it(lab, stations, run_playbook, tmp_path):
    inventory = write_inventory(tmp_path / "inv", {PASSWORD: {}})
    options = {"security_profile_target": 1}
    rc, first_output, _recap = run_playbook(PLAYBOOK, inventory=inventory, extra_vars=options, diff=True)
    assert rc == 0, first_output[-3000:]
    old = _kv(lab, PASSWORD)["basic_auth_password"]
    rc, output, recap = run_playbook(PLAYBOOK, inventory=inventory, extra_vars=dict(options, security_rotate_password=True),
                                     diff=True, verbosity=2)
    assert rc == 0 and recap[PASSWORD]["changed"] == 1, output[-3000:]
    new = _kv(lab, PASSWORD)["basic_auth_password"]
    assert new != old and "basic_auth_password_previous" not in _kv(lab, PASSWORD)
    assert lab.csms.http.request("POST", f"/api/stations/{PASSWORD}/credentials/verify", json={"password": old}) == {"valid": False}
    assert lab.csms.http.request("POST", f"/api/stations/{PASSWORD}/credentials/verify", json={"password": new}) == {"valid": True}
    assert lab.csms.http.request("GET", f"/api/stations/{PASSWORD}/credentials") == {"count": 1}
    assert lab.csms.connection(PASSWORD)["online"]
    assert "(rotated)" in output
    for text in (first_output, output):
        assert old not in text and new not in text
    rc, output, recap = run_playbook(PLAYBOOK, inventory=inventory, extra_vars=options)
    assert rc == 0 and recap[PASSWORD]["changed"] == 0, output[-3000:]
