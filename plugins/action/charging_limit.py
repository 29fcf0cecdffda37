# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs evcs.provisioning.charging_limit on the controller (see plugins/modules/charging_limit.py)."""

from __future__ import annotations

from ansible_collections.evcs.provisioning.plugins.module_utils.charging_limit import (
    charging_limit_argument_spec, run_charging_limit,
)
from ansible_collections.evcs.provisioning.plugins.plugin_utils.station_action import StationActionBase


class ActionModule(StationActionBase):
    ARGUMENT_SPEC = charging_limit_argument_spec()
    RUN = staticmethod(run_charging_limit)
