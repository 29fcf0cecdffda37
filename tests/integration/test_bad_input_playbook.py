"""Bad input is refused by provision.yml before anything changes anywhere.

Cases sampled from the bad-input corpus (tests/unit/data/bad_inputs.yml, which the unit tests run in full) patch the
corpus' good charger, pointed at the session lab (its CSMS, its Vault, two simulated stations of this module's own),
and run playbooks/provision.yml. Each run fails in the validate stage with a line naming the host, the field, the
value and the fix, and leaves every system as it was: no OCPP call and no record written by the CSMS, no certificate
issued by Vault (counted with the lab's root token), no change in the simulated stations.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import REPO_ROOT  # noqa: E402
from faults.lab import add_stations, endpoints, issued_certificates, run  # noqa: E402

pytestmark = pytest.mark.integration

DATA = REPO_ROOT / "tests" / "unit" / "data"
CORPUS = {case["name"]: case for case in yaml.safe_load((DATA / "bad_inputs.yml").read_text())}
GOOD = yaml.safe_load((DATA / "good_charger.yml").read_text())
HOSTS = {"charger-1": "TEST-CP-0001", "charger-2": "TEST-CP-0002"}
SAMPLE = [
    "station id with a space", "typo in a station key", "connector type misspelt", "phases 2",
    "negative EVSE current", "static address without prefix", "cellular without APN", "DNS server is a name",
    "profile 1 URL with wss", "CSMS REST API over http", "production PKI mount in a test inventory",
    "vendor with command substitution", "station maximum above the site cap", "duplicate station id across hosts",
    "site sum above the grid cap", "secret in an unknown key stays hidden",
]
#: simulator state that any write over OCPP would change
_STATION_STATE = ("device_model", "network_profiles", "installed_certificates", "charging_profiles", "local_list",
                  "monitors", "security_profile", "slot", "resets")
_RECORDS = ("stations", "locations", "tariffs", "id-tokens")


@pytest.fixture(scope="module")
def bad_input_lab(lab):
    add_stations(lab, list(HOSTS.values()))
    return lab


def _lab_charger(lab, host):
    """The corpus' good charger as ``host`` of the lab: the lab's environment, endpoints and rules."""
    variables = copy.deepcopy(GOOD)
    variables.update(yaml.safe_load((REPO_ROOT / "inventories/lab/group_vars/all/environment.yml").read_text()))
    variables.update(endpoints(lab))
    variables["evcs_csms"]["ws_urls"] = {int(profile): url for profile, url in variables["evcs_csms"]["ws_urls"].items()}
    variables["evcs_station"].update(id=HOSTS[host], serial_number="SN-%s" % HOSTS[host][-4:])
    return variables


def _walk(data, path):
    steps = [int(step) if step.isdigit() else step for step in path.replace("[", ".").replace("]", "").split(".")]
    for step in steps[:-1]:
        data = data[step]
    return data, steps[-1]


def _patched(variables, case):
    for path, value in (case.get("set") or {}).items():
        target, key = _walk(variables, path)
        target[key] = value
    for path in case.get("delete") or ():
        target, key = _walk(variables, path)
        del target[key]
    return variables


def _inventory(lab, directory, case):
    """One host (or two for a fleet case) whose variables are all host vars: charger-1 carries the patch."""
    hosts = ["charger-1", "charger-2"] if case.get("fleet") else ["charger-1"]
    chargers = {host: _lab_charger(lab, host) for host in hosts}
    _patched(chargers["charger-1"], case)
    directory.mkdir(parents=True, exist_ok=True)
    inventory = {"all": {"vars": {"ansible_connection": "local"},
                         "hosts": {host: variables for host, variables in chargers.items()}}}
    (directory / "hosts.yml").write_text(yaml.safe_dump(inventory))
    return str(directory / "hosts.yml")


def _snapshot(lab):
    """What a write to the CSMS, Vault or a station would change."""
    return {
        "ocpp calls": {sid: calls for sid, calls in (lab.csms.stats().get("stations") or {}).items() if sid in HOSTS.values()},
        "records": {collection: lab.csms.records(collection) for collection in _RECORDS},
        "certificates issued": issued_certificates(lab),
        "stations": {sid: _station_state(lab.sim.station(sid)) for sid in HOSTS.values()},
    }


def _station_state(state):
    """A station's configuration: its writable variables (not the clock) and the rest of ``_STATION_STATE``."""
    kept = {key: state.get(key) for key in _STATION_STATE}
    kept["device_model"] = [entry for entry in state["device_model"]
                            if entry["attributes"].get("mutability") != "ReadOnly"]
    return kept


def _problem_lines(output):
    """Every line of the run's messages (JSON strings in the output decoded, so a multi-line msg is split)."""
    lines = []
    for line in output.splitlines():
        text = line.strip().rstrip(",")
        start = text.find('"msg": "')
        if start >= 0:
            text = text[start + len('"msg": '):].split('", "', 1)[0].rstrip("}").rstrip()
            text = text if text.endswith('"') else text + '"'
        if text.startswith('"') and text.endswith('"'):
            try:
                lines.extend(json.loads(text).splitlines())
            except ValueError:
                continue
    return lines


def test_the_good_charger_passes_validation_on_the_lab(bad_input_lab, tmp_path):
    """The baseline the cases patch is valid, so each refusal below is caused by the case's patch alone."""
    inventory = _inventory(bad_input_lab, tmp_path / "inventory", {"fleet": True})
    rc, output, _recap = run(bad_input_lab, "playbooks/provision.yml", inventory, tags="validate")
    assert rc == 0 and "inventory ok: 2 charger(s)" in output, output[-3000:]


@pytest.mark.parametrize("name", SAMPLE)
def test_bad_input_fails_in_validate_and_nothing_is_written(bad_input_lab, tmp_path, name):
    case = CORPUS[name]
    before = _snapshot(bad_input_lab)
    rc, output, recap = run(bad_input_lab, "playbooks/provision.yml", _inventory(bad_input_lab, tmp_path / "inv", case))
    assert rc != 0, output[-3000:]
    assert all(counts["changed"] == 0 for counts in recap.values()), recap
    assert "FAILED  charger-1 in 'Check the inventory of every charger in the play'" in output, output[-3000:]
    prefix, fragment = "charger-1: %s = " % case["field"], case["fragment"].replace("test environment", "lab environment")
    message = next((line for line in _problem_lines(output) if line.startswith(prefix) and fragment in line), None)
    assert message, "no line %r...%r in:\n%s" % (prefix, fragment, output[-3000:])
    value, _sep, rest = message[len(prefix):].partition(": ")
    assert value and "; " in rest and rest.split("; ", 1)[1].strip(), message   # value, what is wrong; the fix
    for secret in case.get("hidden") or ():
        assert secret not in output
    assert _snapshot(bad_input_lab) == before
