"""Secrets never leak (TLS defaults: tests/integration/test_tls_defaults.py).

The secrets test seeds distinctive values into an inventory of two stations on a lab of its own (the lab's Vault
token and AppRole secret id, a basic-auth staging password, an APN password, a Wi-Fi passphrase, a VPN key), runs
provision.yml, verify.yml and decommission.yml with -vvv, --diff and the audit callback, and searches the output,
the audit file, the commissioning reports and the lab's logs for each value.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import REPO_ROOT, VENV_BIN, lab_env  # noqa: E402
from faults.lab import add_stations, endpoints, fault_lab, run, station, write_inventory  # noqa: E402

pytestmark = pytest.mark.integration

APN_PASSWORD = "apn-Zq7SEKRETx41"
WIFI_PASSPHRASE = "wifi-Kp2SEKRETm93"
VPN_KEY = "vpn-Tr5SEKRETq08"
VPN_PASSWORD = "vpn-Wd3SEKRETp55"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with fault_lab(tmp_path_factory.mktemp("secrets")) as running:
        add_stations(running, ["SEC-S-0001", "SEC-S-0002"])
        yield running


def _secrets(lab):
    return {"vault token": lab["vault"]["token"], "approle secret id": lab["vault"]["secret_id"],
            "csms api token": lab["csms"]["api_token"], "staging password": lab["csms"]["staging_password"],
            "apn password": APN_PASSWORD, "wifi passphrase": WIFI_PASSPHRASE, "vpn key": VPN_KEY,
            "vpn password": VPN_PASSWORD}


def _leaks(text, secrets):
    """``[(name, the line that shows it)]`` for each secret found in ``text``."""
    return sorted((name, _where(text, value)) for name, value in secrets.items() if value and value in text)


def _where(text, value):
    """The task header above the first line showing ``value``, and that line."""
    task = ""
    for line in text.splitlines():
        if line.startswith(("TASK [", "RUNNING HANDLER [")):
            task = line
        if value in line:
            return "%s / %s" % (task[:120], line.strip()[:120])
    return ""


def test_no_secret_in_output_audit_reports_or_lab_logs(lab, tmp_path):
    stations = {
        "SEC-S-0001": station("SEC-S-0001", network={
            "mode": "cellular", "addressing": "dhcp",
            "cellular": {"apn": "iot.lab.example", "username": "lab", "password": APN_PASSWORD},
            "vpn": {"enabled": True, "type": "IKEv2", "server": "vpn.lab.example", "username": "lab-vpn",
                    "password": VPN_PASSWORD, "key": VPN_KEY}}),
        "SEC-S-0002": station("SEC-S-0002", network={"mode": "wifi", "addressing": "dhcp",
                                                      "wifi": {"ssid": "lab-office", "passphrase": WIFI_PASSPHRASE}}),
    }
    inventory = write_inventory(tmp_path / "inventory", stations, **endpoints(lab))
    env = {"EVCS_AUDIT_FILE": str(tmp_path / "audit.jsonl"), "EVCS_REPORT_DIR": str(tmp_path / "reports"),
           "ANSIBLE_CALLBACKS_ENABLED": "evcs.provisioning.audit"}
    outputs = []
    for playbook in ("playbooks/provision.yml", "playbooks/verify.yml"):
        rc, output, _recap = run(lab, playbook, inventory, env=env, diff=True, verbosity=3)
        outputs.append((playbook, rc, output))
    outputs.append(("playbooks/decommission.yml", *_decommission(lab, inventory, env)))
    provision_rc = outputs[0][1]
    assert provision_rc == 0, outputs[0][2][-5000:]
    secrets = _secrets(lab)
    for playbook, _rc, output in outputs:
        assert _leaks(output, secrets) == [], playbook
    assert _leaks((tmp_path / "audit.jsonl").read_text(), secrets) == []
    reports = list((tmp_path / "reports").glob("*"))
    assert reports and all(_leaks(report.read_text(), secrets) == [] for report in reports)
    logs = [path for component in ("csms", "simulator") for path in (lab.home / component).glob("*")
            if path.suffix in (".log", ".out")]
    assert logs and {str(path): _leaks(path.read_text(), secrets) for path in logs} == {str(path): [] for path in logs}


def _decommission(lab, inventory, env):
    argv = [str(VENV_BIN / "ansible-playbook"), "-i", inventory, "playbooks/decommission.yml", "--limit", "SEC-S-0001",
            "-e", "evcs_decommission_confirmed=true", "--diff", "-vvv"]
    done = subprocess.run(argv, env=lab_env(lab.home, env), cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=600, check=False)
    return done.returncode, done.stdout + done.stderr

