# Copyright: (c) 2026, EVCS provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark callback: per-host task counts and per-task wall time, written as JSON when the run ends."""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: bench_tasks
type: aggregate
short_description: per-host task counts and per-task wall time for bench/fleet.py
description:
  - Counts the task results of every host (ok, changed, skipped, failed, unreachable) and times every task
    from its start to the start of the next one, grouped by role.
  - Writes them as JSON to the file named by C(EVCS_BENCH_TASKS_FILE) when the playbook ends.
requirements:
  - enabled in callbacks_enabled (bench/fleet.py sets ANSIBLE_CALLBACKS_ENABLED=bench_tasks)
"""

_OUTPUT_ENV = "EVCS_BENCH_TASKS_FILE"


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_tasks"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._hosts: dict = {}
        self._tasks: list = []
        self._current = None

    # -- task timing ------------------------------------------------------------------------------------------
    def _close_task(self) -> None:
        if self._current is not None:
            self._current["seconds"] = round(time.monotonic() - self._current.pop("_started"), 4)
            self._tasks.append(self._current)
            self._current = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close_task()
        role = task._role.get_name(include_role_fqcn=False) if task._role else None
        self._current = {"name": task.get_name(), "role": role, "action": task.action, "hosts": 0,
                         "_started": time.monotonic()}

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    # -- per-host counts --------------------------------------------------------------------------------------
    def _count(self, result, status: str) -> None:
        counts = self._hosts.setdefault(result._host.get_name(), {})
        counts[status] = counts.get(status, 0) + 1
        if self._current is not None:
            self._current["hosts"] += 1

    def v2_runner_on_ok(self, result):
        self._count(result, "changed" if result._result.get("changed") else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._count(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._count(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        self._close_task()
        path = os.environ.get(_OUTPUT_ENV)
        if path:
            with open(path, "w", encoding="utf-8") as output:
                json.dump({"hosts": self._hosts, "tasks": self._tasks}, output, indent=1)
