# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs evcs.provisioning.station_capabilities on the controller (see plugins/modules/station_capabilities.py)."""

from __future__ import annotations

from ansible_collections.evcs.provisioning.plugins.module_utils.station.capabilities import (
    run_station_capabilities, station_capabilities_argument_spec,
)
from ansible_collections.evcs.provisioning.plugins.plugin_utils.station_action import StationActionBase


class ActionModule(StationActionBase):
    ARGUMENT_SPEC = station_capabilities_argument_spec()
    RUN = staticmethod(run_station_capabilities)
