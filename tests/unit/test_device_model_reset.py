# -*- coding: utf-8 -*-
"""station_reset: when a station counts as back after Reset."""

from __future__ import annotations

import pytest

from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure
from ansible_collections.evcs.provisioning.plugins.module_utils.station_reset import came_back, wait_for_return

BEFORE = {'online': True, 'connected_at': '2026-01-01T10:00:00Z', 'boot': {'status': 'Accepted', 'at': '2026-01-01T10:00:01Z'}}


def _now(connected, booted, online=True):
    return {'online': online, 'connected_at': connected, 'boot': {'status': 'Accepted', 'at': booted}}


@pytest.mark.parametrize('now,back', [
    (BEFORE, False),
    (_now('2026-01-01T10:05:00Z', '2026-01-01T10:00:01Z'), False),      # reconnected, no new BootNotification yet
    (_now('2026-01-01T10:05:00Z', '2026-01-01T10:05:01Z'), True),
    (_now('2026-01-01T10:05:00+00:00', '2026-01-01T10:05:01+00:00'), True),
    (_now('2026-01-01T10:05:00Z', '2026-01-01T10:05:01Z', online=False), False),
])
def test_came_back_needs_a_new_connection_and_boot(now, back):
    assert came_back(BEFORE, now) is back


def test_a_reconnect_within_the_same_second_counts_by_the_connection_counter():
    before = dict(BEFORE, connections_total=3)
    same_second = _now('2026-01-01T10:00:00Z', '2026-01-01T10:00:00Z')
    assert came_back(before, dict(same_second, connections_total=4))
    assert not came_back(before, dict(same_second, connections_total=3))


class _Connections(object):
    def __init__(self, answers):
        self.answers = list(answers)

    def connection(self, station_id):
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def test_wait_returns_the_new_connection():
    back = _now('2026-01-01T10:05:00Z', '2026-01-01T10:05:01Z')
    backend = _Connections([dict(BEFORE, online=False), back])
    assert wait_for_return(backend, 'CP1', BEFORE, 10, 0, sleep=lambda _: None) == back


def test_wait_fails_with_what_the_csms_saw():
    ticks = iter(range(100))
    with pytest.raises(ModuleFailure, match=r'CP1 did not come back within 5s .*online=False'):
        wait_for_return(_Connections([dict(BEFORE, online=False)]), 'CP1', BEFORE, 5, 0,
                        clock=lambda: next(ticks), sleep=lambda _: None)
