# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs evcs.provisioning.station on the controller (see plugins/modules/station.py)."""

from __future__ import annotations

from ansible_collections.evcs.provisioning.plugins.module_utils.records import station_record_argument_spec, run_station
from ansible_collections.evcs.provisioning.plugins.plugin_utils.station_action import StationActionBase


class ActionModule(StationActionBase):
    ARGUMENT_SPEC = station_record_argument_spec()
    RUN = staticmethod(run_station)
