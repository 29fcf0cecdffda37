"""Security profile upgrades against the lab: 1 -> 2 -> 3 for a group, refusals, fallback, downgrade."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from security_helpers import add_stations, ocpp_writes, write_inventory  # noqa: E402

GROUP = ["SEC-CP-0001", "SEC-CP-0002", "SEC-CP-0003"]
PLAYBOOK = "playbooks/security_upgrade.yml"


@pytest.fixture(scope="module")
def group(lab, tmp_path_factory):
    add_stations(lab, GROUP)
    return write_inventory(tmp_path_factory.mktemp("security") / "inventory", {sid: {} for sid in GROUP})


def _upgrade(run_playbook, inventory, profile, **extra):
    return run_playbook(PLAYBOOK, inventory=inventory, extra_vars=dict(security_profile_target=profile, **extra))


def test_group_goes_1_2_3_and_second_run_changes_nothing(lab, group, run_playbook):
    for profile in (2, 3):
        rc, output, recap = _upgrade(run_playbook, group, profile)
        assert rc == 0, output[-4000:]
        assert all(recap[sid]["failed"] == 0 for sid in GROUP), output[-4000:]
        for sid in GROUP:
            connection = lab.csms.connection(sid)
            assert connection["online"] and connection["security_profile"] == profile
            station = lab.sim.station(sid)
            assert all(int(slot["securityProfile"]) >= profile for slot in station["network_profiles"].values())
        rc, output, recap = _upgrade(run_playbook, group, profile)
        assert rc == 0 and all(recap[sid]["changed"] == 0 for sid in GROUP), output[-4000:]
    presented = lab.csms.connection(GROUP[0])["client_certificate"]
    assert presented and "BEGIN CERTIFICATE" in presented


def test_downgrade_3_to_1_is_refused(lab, group, run_playbook):
    lab.csms.reset_stats()
    rc, output, recap = run_playbook(PLAYBOOK, inventory=group, extra_vars={"security_profile_target": 1,
                                                                           "evcs_targets": GROUP[0]})
    assert rc != 0 and recap[GROUP[0]]["failed"] == 1
    assert "never allowed" in output and GROUP[0] in output
    assert ocpp_writes(lab.csms.stats(), GROUP[0]) == {}
    assert lab.csms.connection(GROUP[0])["security_profile"] == 3
