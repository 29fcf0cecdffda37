# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of evcs.provisioning.fleet_verify_result: one station's part of a fleet verify, on its own host."""

from __future__ import annotations

from ansible_collections.evcs.provisioning.plugins.plugin_utils.fleet_verify import host_outcome
from ansible_collections.evcs.provisioning.plugins.plugin_utils.station_action import StationActionBase


def _run(params, context):
    return host_outcome(params['station'], context.host, fail_on_drift=params['fail_on_drift'])


class ActionModule(StationActionBase):
    ARGUMENT_SPEC = dict(station=dict(type='dict', required=True), fail_on_drift=dict(type='bool', default=False))
    RUN = staticmethod(_run)
