# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab CSMS's relay of one call: an answer the station sent just before it closed its connection reaches the
caller (under load the close could win the race, and the call failed with 409 although the station had answered)."""

from __future__ import annotations

import asyncio

import pytest
from evcs_lab.csms.hub import CallFailed, StationHub


class _Session:
    """A station connection whose close is seen before the call has taken the answer already read for it."""

    id = "LAB-CP-0099"

    def __init__(self, answer_after, answers=True):
        self.closed = asyncio.Event()
        self._answer_after = answer_after
        self._answers = answers

    async def call(self, request, suppress=False):
        self.closed.set()
        await asyncio.sleep(self._answer_after)
        if not self._answers:
            await asyncio.sleep(3600)
        return "the station's answer"


def _exchange(session):
    # _exchange uses nothing of the hub but the session
    return asyncio.run(StationHub._exchange(None, session, object(), timeout=5))


def test_an_answer_read_just_before_the_close_reaches_the_caller():
    assert _exchange(_Session(answer_after=0.05)) == "the station's answer"


def test_a_station_that_closes_without_answering_is_reported_offline():
    with pytest.raises(CallFailed) as failure:
        _exchange(_Session(answer_after=0, answers=False))
    assert failure.value.status == 409
