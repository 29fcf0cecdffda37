"""No secret over plain ws:// without consent (issue 17, item 4): before, security_upgrade.yml sent a profile-1
station its BasicAuthPassword over ws:// without a word."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from security_helpers import add_stations, write_inventory  # noqa: E402

STATION = "PLAIN-CP-0001"
PLAYBOOK = "playbooks/security_upgrade.yml"


def test_a_password_for_a_profile_1_station_needs_the_inventorys_consent(lab, run_playbook, tmp_path):
    add_stations(lab, [STATION])
    inventory = write_inventory(tmp_path / "inv", {STATION: {}})
    rc, output, recap = run_playbook(PLAYBOOK, inventory=inventory, extra_vars={
        "security_profile_target": 1, "evcs_allow_plaintext_secrets": False})
    assert rc != 0 and recap[STATION]["failed"] == 1, output[-3000:]
    assert "runs security profile 1 (plain ws://)" in output and "nothing was sent" in output
    assert "evcs_allow_plaintext_secrets: true" in output
    # nothing of the password went anywhere: the CSMS stores none for the station
    assert lab.csms.http.request("GET", f"/api/stations/{STATION}/credentials") == {"count": 0}

    audit = tmp_path / "audit.jsonl"
    rc, output, recap = run_playbook(PLAYBOOK, inventory=inventory, diff=True, env={"EVCS_AUDIT_FILE": str(audit)},
                                     extra_vars={"security_profile_target": 1})
    assert rc == 0 and recap[STATION]["changed"] >= 1, output[-3000:]
    assert "sent unencrypted because the inventory sets evcs_allow_plaintext_secrets=true" in output
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    assert any("plaintext_secrets" in json.dumps(line) for line in lines if line.get("host") == STATION)
