# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of evcs.provisioning.inventory_check: one task validates the whole fleet from hostvars."""

from __future__ import annotations

from ansible.errors import AnsibleError
from ansible.template import is_trusted_as_template
from ansible.vars.plugins import get_vars_from_inventory_sources

from ansible_collections.evcs.provisioning.plugins.module_utils.desired_state import (
    VARIABLES, UnreadableVariable, inventory_check_argument_spec, misspelt_variable, run_inventory_check,
)
from ansible_collections.evcs.provisioning.plugins.plugin_utils.station_action import StationActionBase


#: where run() hands the site groups it read from the inventory to _run
_SITE_GROUPS_KEY = '_evcs_inventory_site_groups'


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
    for message in _templated_production_values(hostvars, hosts, data):
        context.warn(message)
    site_groups = params.get('site_groups')
    if site_groups is None:
        site_groups = task_vars.get(_SITE_GROUPS_KEY) or {}
    return run_inventory_check(dict(params, data=data, hosts=hosts, site_groups=site_groups), context)


def _templates_in(value, path):
    """``(path, text)`` of every string under ``value`` that Ansible would render as a template."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _templates_in(item, '%s.%s' % (path, key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _templates_in(item, '%s[%d]' % (path, index))
    elif isinstance(value, str) and ('{{' in value or '{%' in value) and is_trusted_as_template(value):
        yield path, value


def _templated_production_values(hostvars, hosts, data):
    """Warnings for Jinja expressions in the evcs_* values of production hosts that are not marked ``!unsafe``: YAML
    inventories are code (a lookup runs on the controller when validate reads the value), so in production each one
    should be reviewed like code, and data that is not meant to run marked ``!unsafe``."""
    seen = {}
    for host in hosts:
        if data[host].get('evcs_environment') != 'production':
            continue
        raw = hostvars.raw_get(host) if hasattr(hostvars, 'raw_get') else {}
        for name in sorted(key for key in raw if str(key).startswith('evcs_')):
            for path, text in _templates_in(raw[name], name):
                seen.setdefault((path, str(text)), []).append(host)
    for (path, text), found_on in sorted(seen.items()):
        yield ('%s = %r (on %d production station(s), e.g. %s) is a Jinja expression Ansible runs on the controller: '
               'keep it only if it is reviewed code (a lookup of a secret), else mark the value !unsafe'
               % (path, text[:80], len(found_on), found_on[0]))


def _defines_site(group, loader, sources):
    """Whether the inventory gives ``group`` an ``evcs_site`` (inline in the inventory or in its group_vars)."""
    if 'evcs_site' in group.get_vars():
        return True
    return 'evcs_site' in get_vars_from_inventory_sources(loader, sources, [group], 'task')


def _site_groups(task, loader, task_vars, hosts):
    """``{host: [group, ...]}``: for each host, its groups that define ``evcs_site``; None when the inventory cannot be
    read from here (the check then relies on the data alone)."""
    manager = task.get_variable_manager()
    # the VariableManager has no public accessor for its inventory; the groups and their own variables are only there
    inventory = getattr(manager, '_inventory', None)
    if inventory is None:
        return None
    sources = task_vars.get('ansible_inventory_sources') or []
    defines = {}
    found = {}
    for host in hosts:
        entry = inventory.get_host(host)
        if entry is None:
            continue
        for group in entry.get_groups():
            if group.name in ('all', 'ungrouped'):
                continue
            if group.name not in defines:
                defines[group.name] = _defines_site(group, loader, sources)
            if defines[group.name]:
                found.setdefault(host, []).append(group.name)
    return found


class ActionModule(StationActionBase):
    ARGUMENT_SPEC = inventory_check_argument_spec()
    RUN = staticmethod(_run)

    def run(self, tmp=None, task_vars=None):
        task_vars = dict(task_vars or {})
        if 'data' not in self._task.args:
            hosts = self._task.args.get('hosts') or task_vars.get('ansible_play_hosts_all') or []
            task_vars[_SITE_GROUPS_KEY] = _site_groups(self._task, self._loader, task_vars, hosts)
        return super(ActionModule, self).run(tmp, task_vars)
