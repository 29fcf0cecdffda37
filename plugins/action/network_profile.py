# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs evcs.provisioning.network_profile on the controller (see plugins/modules/network_profile.py)."""

from __future__ import annotations

from ansible_collections.evcs.provisioning.plugins.module_utils.network_profile import (
    network_profile_argument_spec, run_network_profile,
)
from ansible_collections.evcs.provisioning.plugins.plugin_utils.station_action import StationActionBase


class ActionModule(StationActionBase):
    ARGUMENT_SPEC = network_profile_argument_spec()
    RUN = staticmethod(run_network_profile)
