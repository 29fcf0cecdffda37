# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs evcs.provisioning.site on the controller (see plugins/modules/site.py)."""

from __future__ import annotations

from ansible_collections.evcs.provisioning.plugins.module_utils.records import site_argument_spec, run_site
from ansible_collections.evcs.provisioning.plugins.plugin_utils.station_action import StationActionBase


class ActionModule(StationActionBase):
    ARGUMENT_SPEC = site_argument_spec()
    RUN = staticmethod(run_site)
