# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs evcs.provisioning.commissioning_check on the controller."""

from __future__ import annotations

from ansible_collections.evcs.provisioning.plugins.module_utils.commissioning import (
    commissioning_check_argument_spec, run_commissioning_check,
)
from ansible_collections.evcs.provisioning.plugins.plugin_utils.station_action import StationActionBase


class ActionModule(StationActionBase):
    ARGUMENT_SPEC = commissioning_check_argument_spec()
    RUN = staticmethod(run_commissioning_check)
