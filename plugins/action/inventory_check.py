# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of evcs.provisioning.inventory_check: one task validates the whole fleet from hostvars."""

from __future__ import annotations

from ansible.errors import AnsibleError

from ansible_collections.evcs.provisioning.plugins.module_utils.desired_state import (
    VARIABLES, UnreadableVariable, inventory_check_argument_spec, misspelt_variable, run_inventory_check,
)
from ansible_collections.evcs.provisioning.plugins.plugin_utils.station_action import StationActionBase


def _host_vars(hostvars, host):
    """The variables the desired-state model reads, rendered; a template that fails becomes UnreadableVariable."""
    host_vars = hostvars[host]
    # a misspelt evcs_* name is passed on (unrendered: only its name matters) so the check names it
    values = dict((name, None) for name in host_vars.keys() if misspelt_variable(name))
    for name in VARIABLES:
        try:
            values[name] = host_vars.get(name)
        except AnsibleError as error:
            values[name] = UnreadableVariable(str(error).splitlines()[0])
    return values


def _run(params, context):
    if params.get('data') is not None:
        return run_inventory_check(params, context)
    task_vars = context.task_vars
    hostvars = task_vars.get('hostvars') or {}
    hosts = params.get('hosts')
    if hosts is None:
        hosts = list(task_vars.get('ansible_play_hosts_all') or [])
    unknown = sorted(host for host in hosts if host not in hostvars)
    if unknown:
        context.warn('not in the inventory, not checked: %s' % ', '.join(unknown))
    hosts = [host for host in hosts if host in hostvars]
    data = dict((host, _host_vars(hostvars, host)) for host in hosts)
    return run_inventory_check(dict(params, data=data, hosts=hosts), context)


class ActionModule(StationActionBase):
    ARGUMENT_SPEC = inventory_check_argument_spec()
    RUN = staticmethod(_run)
