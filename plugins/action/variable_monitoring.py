# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs evcs.provisioning.variable_monitoring on the controller (see plugins/modules/variable_monitoring.py)."""

from __future__ import annotations

from ansible_collections.evcs.provisioning.plugins.module_utils.station.monitoring import (
    run_variable_monitoring, variable_monitoring_argument_spec,
)
from ansible_collections.evcs.provisioning.plugins.plugin_utils.station_action import StationActionBase


class ActionModule(StationActionBase):
    ARGUMENT_SPEC = variable_monitoring_argument_spec()
    RUN = staticmethod(run_variable_monitoring)
