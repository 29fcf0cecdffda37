"""The lab's stations spread their heartbeats (issue 22 item 2): an idle lab of thousands stays cheap."""

from __future__ import annotations

import random

from evcs_lab.simulator.station import heartbeat_wait


def test_after_the_first_heartbeat_the_interval_is_kept():
    assert heartbeat_wait(300, first=False, draw=lambda: 0.0) == 300


def test_the_first_heartbeat_comes_at_a_random_share_of_the_interval_never_later():
    assert heartbeat_wait(300, first=True, draw=lambda: 0.5) == 150
    assert heartbeat_wait(300, first=True, draw=lambda: 0.0) == 1.0  # not in the same instant as the boot
    draw = random.Random(22).random
    waits = [heartbeat_wait(60, first=True, draw=draw) for _ in range(1000)]
    assert all(1.0 <= wait <= 60 for wait in waits)
    # 1,000 stations booted together: no second of the interval gets more than a few percent of their heartbeats
    per_second = [sum(1 for wait in waits if second <= wait < second + 1) for second in range(60)]
    assert max(per_second) < 50, per_second
