# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs evcs.provisioning.configuration_keys on the controller (see plugins/modules/configuration_keys.py)."""

from __future__ import annotations

from ansible_collections.evcs.provisioning.plugins.module_utils.station.configuration_keys import (
    configuration_keys_argument_spec, run_configuration_keys,
)
from ansible_collections.evcs.provisioning.plugins.plugin_utils.station_action import StationActionBase


class ActionModule(StationActionBase):
    ARGUMENT_SPEC = configuration_keys_argument_spec()
    RUN = staticmethod(run_configuration_keys)
