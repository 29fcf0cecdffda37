"""Planning decisions of security_profile and basic_auth_password (pure functions, no lab)."""

from __future__ import annotations

import socket

import pytest

from ansible_collections.evcs.provisioning.plugins.module_utils.basic_auth import kv_path, new_password
from ansible_collections.evcs.provisioning.plugins.module_utils.security_profile import (
    choose_slot, direction, downgrade_refusal, final_slot, on_endpoint, plan_steps, tls_chain_problem,
)


@pytest.mark.parametrize("wanted, profile, fallback, slots, slot", [
    (None, 2, 1, None, 2), (None, 3, 3, None, 1), (None, 1, 1, None, 2), (1, 3, 3, None, 1),
    (None, 3, 1, [1, 2], 2),      # a station with slots 1-2: profile 3 has no slot of its number
    (None, 1, 2, [1, 2], 1),      # a day-2 change of the running profile goes to the other slot
    (None, 1, 1, [1], None),      # one slot only: no free slot, no lockout-safe change
])
def test_choose_slot_never_overwrites_the_fallback_and_never_assumes_slot_0(wanted, profile, fallback, slots, slot):
    assert choose_slot(wanted, profile, fallback, slots) == slot


@pytest.mark.parametrize("slot_param, profile, slot, moves_csms, final", [
    (None, 3, 1, True, 3),    # promotion: test slot 3 was the fallback, production data ends in slot 3
    (None, 3, 1, False, 1),   # same CSMS: the station stays on the slot it moved to
    (None, 2, 2, True, 2),    # already the profile's own slot
    (1, 3, 0, True, 1),       # an explicit slot wins
])
def test_final_slot_of_a_move_to_another_csms(slot_param, profile, slot, moves_csms, final):
    assert final_slot({"slot": slot_param, "security_profile": profile}, slot, moves_csms) == final


def test_plan_of_a_promotion_names_the_resend_through_the_target_csms():
    data = {"ocppCsmsUrl": "wss://prod.example:443/ocpp"}
    steps = plan_steps("CP1", 0, 3, data, 3, True, final=3)
    assert steps[0].startswith("SetNetworkProfile slot 0")
    assert any(step.startswith("SetNetworkProfile slot 3 through the target CSMS") for step in steps)
    assert steps[-1].startswith("NetworkConfigurationPriority 3")
    assert not any("remove fallback" in step for step in steps)


@pytest.mark.parametrize("current, wanted, result", [(1, 2, "upgrade"), (None, 1, "upgrade"), (3, 3, "move"), (3, 2, "downgrade")])
def test_direction(current, wanted, result):
    assert direction(current, wanted) == result


def test_downgrade_rules_follow_a00_fr_005():
    assert downgrade_refusal("CP1", 1, 3, False) is None
    assert "never allowed" in downgrade_refusal("CP1", 3, 1, True)
    assert "never allowed" in downgrade_refusal("CP1", 2, 1, True)
    assert "AllowSecurityProfileDowngrade" in downgrade_refusal("CP1", 3, 2, False)
    assert downgrade_refusal("CP1", 3, 2, True) is None


def test_on_endpoint_needs_profile_and_url():
    connection = {"online": True, "security_profile": 2, "endpoint": "wss://h:1/ocpp/CP1"}
    assert on_endpoint(connection, 2, "wss://h:1/ocpp/", "CP1")
    assert not on_endpoint(connection, 3, "wss://h:1/ocpp", "CP1")
    assert not on_endpoint(dict(connection, online=False), 2, "wss://h:1/ocpp", "CP1")


def test_tls_check_reports_a_closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    problem = tls_chain_problem("wss://127.0.0.1:%d/ocpp" % port, None, timeout=2)
    assert problem.startswith("it does not answer")


def test_password_fits_ocpp_and_kv_path_names_environment():
    password = new_password(32)
    assert len(password) == 32 and password != new_password(32)
    assert kv_path({"environment": "production", "station_id": "CP1"}) == "evcs/production/stations/CP1"


def test_the_downgrade_switch_is_read_only_when_a_downgrade_asks_for_it():
    """AllowSecurityProfileDowngrade is not among the run's declared variables (issue 22: one GetVariables a station):
    the security stage reads it itself, once, and only for a downgrade."""
    from ansible_collections.evcs.provisioning.plugins.module_utils import security_profile

    asked = []

    class _Session(object):
        def get(self, items):
            asked.append([item['variable']['name'] for item in items])
            return {'SecurityCtrlr.AllowSecurityProfileDowngrade': {'attributeStatus': 'Accepted', 'attributeValue': 'true'}}

    station = object.__new__(security_profile._Station)  # pylint: disable=protected-access
    station.session, station._downgrade_allowed = _Session(), None  # pylint: disable=protected-access
    assert asked == []
    assert station.downgrade_allowed is True and station.downgrade_allowed is True
    assert asked == [['AllowSecurityProfileDowngrade']]
