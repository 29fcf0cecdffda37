# Copyright: (c) 2026, EVCS provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark callback: cProfile of the controller (the main process and every forked worker), for bench/fleet.py."""

from __future__ import annotations

import cProfile
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: bench_profile
type: aggregate
short_description: cProfile of ansible-playbook and its workers for bench/fleet.py --profile
description:
  - When C(EVCS_BENCH_PROFILE_DIR) names a directory, profiles the main process from the callback's start to the end
    of the playbook (C(main.prof)) and each forked worker's task (C(worker-<pid>-<n>.prof)), with cProfile.
  - Read them with C(bench/profile_report.py <dir>) (pstats, summed over the workers).
  - Does nothing without the variable.
requirements:
  - enabled in callbacks_enabled (bench/fleet.py --profile adds it)
"""

_DIR_ENV = "EVCS_BENCH_PROFILE_DIR"


def _profile_workers(directory: str) -> None:
    """Wrap ``WorkerProcess._run`` (the forked worker's task) in a cProfile that writes one file per worker."""
    from ansible.executor.process import worker  # pylint: disable=import-outside-toplevel

    original = worker.WorkerProcess._run
    if getattr(original, "_bench_profiled", False):
        return

    def _run(self):
        profile = cProfile.Profile()
        profile.enable()
        try:
            return original(self)
        finally:
            profile.disable()
            profile.dump_stats(os.path.join(directory, f"worker-{os.getpid()}-{time.monotonic_ns()}.prof"))

    _run._bench_profiled = True
    worker.WorkerProcess._run = _run


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_profile"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._directory = os.environ.get(_DIR_ENV)
        self._profile = None
        if self._directory:
            os.makedirs(self._directory, exist_ok=True)
            _profile_workers(self._directory)
            self._profile = cProfile.Profile()
            self._profile.enable()

    def v2_playbook_on_stats(self, stats):
        if self._profile is not None:
            self._profile.disable()
            self._profile.dump_stats(os.path.join(self._directory, "main.prof"))
            self._profile = None
