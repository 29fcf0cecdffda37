# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs evcs.provisioning.device_model on the controller (see plugins/modules/device_model.py)."""

from __future__ import annotations

from ansible_collections.evcs.provisioning.plugins.module_utils.device_model import (
    device_model_argument_spec, run_device_model,
)
from ansible_collections.evcs.provisioning.plugins.plugin_utils.station_action import StationActionBase


class ActionModule(StationActionBase):
    ARGUMENT_SPEC = device_model_argument_spec()
    RUN = staticmethod(run_device_model)
