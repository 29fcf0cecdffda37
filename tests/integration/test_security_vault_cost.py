"""The profile-3 prerequisite of security_profile costs Vault the same per station, whatever the PKI mount holds
(issue 22, item 5), against the lab's real OpenBao: its own file audit device counts every request.

Before: the check listed ``<pki mount>/certs`` and read every certificate stored there for each station (on a mount of
N stations, O(N) requests per station, O(N^2) per run). Now it reads the certificate the station's KV record names
(what the identity stage writes), by its serial.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter

import pytest

from evcs_lab.paths import LabPaths

from ansible_collections.evcs.provisioning.plugins.module_utils import identity
from ansible_collections.evcs.provisioning.plugins.module_utils import security_profile as sp
from ansible_collections.evcs.provisioning.plugins.module_utils import vault
from ansible_collections.evcs.provisioning.plugins.module_utils import x509 as certs
from ansible_collections.evcs.provisioning.plugins.module_utils.context import RunContext

ORGANIZATION = "EVCS Lab Operator"
PKI_MOUNT = "pki_lab"
STATIONS = [f"COST-CP-{number:04d}" for number in range(1, 6)]
AUDIT_DEVICE = "vault-cost-test"


@pytest.fixture(scope="module")
def openbao(vault_lab):
    """The module's own OpenBao with a file audit device (declared in its config, then SIGHUP: OpenBao refuses to
    enable audit devices over the API)."""
    home, lab = vault_lab
    log_file = home / "audit.log"
    with LabPaths(home).vault_config.open("a", encoding="utf-8") as config:
        config.write(f'\naudit "file" "{AUDIT_DEVICE}" {{\n  options {{\n    file_path = "{log_file}"\n  }}\n}}\n')
    os.kill(lab.pid, signal.SIGHUP)
    deadline = time.monotonic() + 15
    while not log_file.exists():
        assert time.monotonic() < deadline, "OpenBao did not open the audit log after SIGHUP"
        time.sleep(0.2)
    return lab, log_file


@pytest.fixture(scope="module")
def params(openbao):
    lab, _log = openbao
    return {
        "vault_url": lab.addr, "vault_ca_path": str(lab.ca_cert), "vault_validate_certs": True, "vault_timeout": 10,
        "vault_retries": 1, "vault_auth_method": "approle", "vault_role_id": lab.role_id,
        "vault_secret_id": lab.secret_id, "vault_pki_mount": PKI_MOUNT, "vault_pki_role": "charging-station",
        "vault_kv_mount": "secret", "environment": "lab", "security_profile": 3, "renew_before": 1,
    }


def _enroll(params, station_id, tmp_path, ttl="720h"):
    """The identity stage's factory mode: Vault issues the certificate and the station's KV record names it."""
    wanted = dict(params, station_id=station_id, mode="factory", state="present", dest=str(tmp_path / "image"),
                  organization=ORGANIZATION, ttl=ttl, renew_before=0, renew_at_fraction=1.0, force=True,
                  key_policy={}, csr_timeout=5)
    outcome = identity.run_station_certificate(wanted, RunContext())
    assert outcome["changed"], outcome
    return outcome


@pytest.fixture(scope="module")
def enrolled(params, tmp_path_factory):
    directory = tmp_path_factory.mktemp("factory")
    return {station_id: _enroll(params, station_id, directory) for station_id in STATIONS}


def _fill_mount(params, count):
    """``count`` certificates of other stations in the mount (no KV records): what a fleet's mount holds."""
    pki = vault.vault_pki(params)
    for _number in range(count):
        pki.issue("charging-station", f"OTHER-CP-{time.monotonic_ns()}", "1h")


def _requests(log_file, offset):
    """The requests OpenBao audited since ``offset``: Counter of ``(operation, path)``, station ids folded."""
    with open(log_file, "rb") as log:
        log.seek(offset)
        lines = log.read().decode("utf-8").splitlines()
    found = Counter()
    for line in lines:
        entry = json.loads(line)
        if entry.get("type") != "request":
            continue
        path = entry["request"]["path"]
        for station_id in STATIONS:
            path = path.replace(station_id, "<station>")
        found[(entry["request"]["operation"], "<serial>" if path.startswith(f"{PKI_MOUNT}/cert/") and
               not path.endswith("/ca") else path)] += 1
    return found


def _check(params, stations, connection=None):
    """The profile-3 client_certificate prerequisite of each station: {station: 'ok' or why not}."""
    results = {}
    for station_id in stations:
        outcome, _presented = sp._run_checks([("client_certificate", lambda station_id=station_id: sp._client_certificate(
            dict(params, station_id=station_id), RunContext(), sp._Plain(station_id, connection), station_id))])
        results[station_id] = outcome["client_certificate"]
    return results


def _measured(openbao, params, stations):
    _lab, log_file = openbao
    offset = log_file.stat().st_size
    results = _check(params, stations)
    assert results == {station_id: "ok" for station_id in stations}, results
    return _requests(log_file, offset)


def test_vault_requests_per_station_do_not_grow_with_the_mount(openbao, params, enrolled):
    one = _measured(openbao, params, STATIONS[:1])
    five = _measured(openbao, params, STATIONS)
    _fill_mount(params, 25)
    five_fuller = _measured(openbao, params, STATIONS)
    for counted in (one, five, five_fuller):
        assert not [key for key in counted if key[0] == "list"], counted  # no LIST of <mount>/certs
    per_station = sum(one.values())
    assert per_station <= 4, one  # login, issuing CA, KV record, the certificate by its serial
    assert sum(five.values()) == 5 * per_station, (one, five)
    assert five_fuller == five, (five, five_fuller)


def test_a_station_without_a_record_is_refused_clearly(params, enrolled):
    results = _check(params, ["COST-CP-NEW1"])
    assert "no usable client certificate" in results["COST-CP-NEW1"]
    assert "the station has no certificate" in results["COST-CP-NEW1"]
    assert "secret/data/evcs/lab/stations/COST-CP-NEW1" in results["COST-CP-NEW1"]
    assert "run the identity role" in results["COST-CP-NEW1"]


def test_a_station_without_a_record_counts_with_the_certificate_it_presents(params, enrolled):
    issued = vault.vault_pki(params).issue("charging-station", "COST-CP-NEW2", "72h")
    assert _check(params, ["COST-CP-NEW2"], {"client_certificate": issued["certificate"]}) == {"COST-CP-NEW2": "ok"}


def test_a_revoked_recorded_certificate_is_refused(params, enrolled, tmp_path):
    outcome = _enroll(params, "COST-CP-REV1", tmp_path)
    assert _check(params, ["COST-CP-REV1"]) == {"COST-CP-REV1": "ok"}
    vault.vault_pki(params).revoke(certs.vault_serial(int(outcome["serial"], 16)))
    result = _check(params, ["COST-CP-REV1"])["COST-CP-REV1"]
    assert f"serial {outcome['serial']} is revoked" in result and "run the identity role" in result


def test_an_expired_recorded_certificate_is_refused(params, enrolled, tmp_path):
    _enroll(params, "COST-CP-EXP1", tmp_path, ttl="2s")
    time.sleep(3)
    result = _check(params, ["COST-CP-EXP1"])["COST-CP-EXP1"]
    assert "the certificate expired on" in result and "run the identity role" in result
