"""The Reset race against the lab: a station that closes its websocket before its Reset answer reaches the CSMS.

The CSMS passthrough then answers 409 station_offline for the Reset call; station_reset (send_reset_and_wait, shared
with security_profile and basic_auth_password) counts the Reset as sent and the reconnect wait confirms it.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from module_task import csms_arguments, start_module  # noqa: E402
from security_helpers import add_stations, wait_for  # noqa: E402

STATION = "RST-CP-0001"


def test_a_reset_whose_answer_is_lost_counts_as_sent(lab):
    add_stations(lab, [STATION])
    before = lab.sim.station(STATION)
    lab.csms.reset_stats()
    # the station holds its Reset answer back, then its connection drops while the CSMS still waits for it
    lab.sim.faults(STATION, response_delay=5)
    task = start_module(lab, "station_reset", dict(csms_arguments(lab, STATION), wait_timeout=60, poll_interval=0.3))
    try:
        wait_for(lambda: ((lab.csms.stats().get("stations") or {}).get(STATION) or {}).get("Reset"), "Reset sent", 30)
        lab.sim.faults(STATION, response_delay=0, drop_connection=True)
        output = task.communicate(timeout=120)[0]
    finally:
        if task.poll() is None:
            task.kill()
        lab.sim.faults(STATION, response_delay=0)
    assert task.returncode == 0, output[-3000:]
    assert "reset_status: Unanswered" in output, output[-3000:]
    connection = lab.csms.connection(STATION)
    assert connection["online"] and connection["connections_total"] > 1
    assert lab.sim.station(STATION)["connect_history"][-1]["at"] > before["connect_history"][-1]["at"]
