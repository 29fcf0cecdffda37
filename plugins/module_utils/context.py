# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a module's logic needs from its caller, the action plugin that runs it on the controller."""

from __future__ import annotations


class ModuleFailure(Exception):
    """Raised by module logic: the task fails with this message; ``details`` are returned beside it."""

    def __init__(self, message, **details):
        super().__init__(message)
        self.details = details


class RunContext(object):
    """check_mode/diff flags, a warning sink, and secrets discovered at run time (masked in the result)."""

    def __init__(self, check_mode=False, diff=False, warn=None, task_vars=None, host=None, station_id=None,
                 snapshot_plan=None, snapshot_limits=None):
        self.check_mode = check_mode
        self.diff = diff
        self.task_vars = task_vars or {}
        self.host = host
        self.warnings = []
        #: what the CSMS backend could not do or check ("not verifiable with backend ..."), returned as ``unverifiable``
        self.unverifiable = []
        self.no_log_values = set()
        self._warn = warn
        #: the host's own station (the one whose snapshot the task's variables carry) and a callable that lists the
        #: device-model variables the run declares for it (``station.snapshot``)
        self.station_id = station_id
        self.snapshot_plan = snapshot_plan
        #: a callable giving the station's message limits its model file declares, for a run without the capability
        #: fact (``station.snapshot.model_limits``)
        self.snapshot_limits = snapshot_limits
        #: the ``SnapshotBackend`` the task talks to its station through (set by ``task_backend``)
        self.snapshot_backend = None

    def snapshot_facts(self):
        """The host facts the task returns for the station snapshot (``{}`` when it used none)."""
        return self.snapshot_backend.fact() if self.snapshot_backend is not None else {}

    def warn(self, message):
        self.warnings.append(message)

    def add_secret(self, value):
        """Mask ``value`` wherever it would appear in the result."""
        if value:
            self.no_log_values.add(str(value))
