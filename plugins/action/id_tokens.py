# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs evcs.provisioning.id_tokens on the controller (see plugins/modules/id_tokens.py)."""

from __future__ import annotations

from ansible_collections.evcs.provisioning.plugins.module_utils.local_list import id_tokens_argument_spec, run_id_tokens, ID_TOKENS_REQUIRED_IF
from ansible_collections.evcs.provisioning.plugins.plugin_utils.station_action import StationActionBase


class ActionModule(StationActionBase):
    ARGUMENT_SPEC = id_tokens_argument_spec()
    RUN = staticmethod(run_id_tokens)
    REQUIRED_IF = ID_TOKENS_REQUIRED_IF
