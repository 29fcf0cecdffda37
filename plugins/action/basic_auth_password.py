# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs evcs.provisioning.basic_auth_password on the controller (see plugins/modules/basic_auth_password.py)."""

from __future__ import annotations

from ansible_collections.evcs.provisioning.plugins.module_utils.basic_auth import (
    basic_auth_password_argument_spec, run_basic_auth_password,
)
from ansible_collections.evcs.provisioning.plugins.plugin_utils.station_action import StationActionBase


class ActionModule(StationActionBase):
    ARGUMENT_SPEC = basic_auth_password_argument_spec()
    RUN = staticmethod(run_basic_auth_password)
