# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of evcs.provisioning.fleet_verify: one task checks a batch of stations concurrently."""

from __future__ import annotations

from ansible.errors import AnsibleError

from ansible_collections.evcs.provisioning.plugins.module_utils.load_plan import PlanError, plan_load
from ansible_collections.evcs.provisioning.plugins.module_utils.station_settings import site_load_plans
from ansible_collections.evcs.provisioning.plugins.plugin_utils.fleet_verify import (
    DEFAULT_WORKERS, StationFailure, resolve_arguments, run_fleet, station_steps,
)
from ansible_collections.evcs.provisioning.plugins.plugin_utils.station_action import StationActionBase

#: the host variables a stage call reads: the inventory's, and the role variables an inventory may set
_VARIABLES = (
    'inventory_hostname', 'evcs_station', 'evcs_site', 'evcs_csms', 'evcs_vault', 'evcs_network', 'evcs_ocpp',
    'evcs_environment', 'evcs_environment_rules', 'evcs_station_model_dirs', 'evcs_allow_plaintext_secrets',
    'evcs_device_data_limits', 'network_iccid_must_match', 'ocpp_verify_hardware', 'ocpp_extra_variables',
    'ocpp_extra_configuration_keys', 'load_management_stack_level', 'load_management_profile_id',
    'load_management_site_stations', 'commission_extra_variables', 'commission_extra_configuration_keys',
    'commission_certificate_min_days', 'commission_local_list_version', 'commission_optional_checks',
)


class _AsIs(object):
    """A templar for values that are already rendered (read from hostvars)."""

    @staticmethod
    def template(value, **_kwargs):
        return value


class _Options(object):
    """The action base's inventory options (``_with_inventory_options``) for another stage's argument spec."""

    _templar = _AsIs()
    _inventory_value = StationActionBase._inventory_value
    _with_inventory_options = StationActionBase._with_inventory_options

    def __init__(self, action):
        self.ARGUMENT_SPEC = action.ARGUMENT_SPEC  # pylint: disable=invalid-name


def _options(action, args, host_vars):
    return _Options(action)._with_inventory_options(args, host_vars)


def _read_host(hostvars, host):
    """The variables the stage calls read, rendered once (a variable that does not render fails the station)."""
    raw = hostvars[host]
    values = {}
    for name in _VARIABLES:
        if name in raw:
            values[name] = raw.get(name)
    values.setdefault('inventory_hostname', host)
    return values


def _plans(hostvars, hosts, host_vars):
    plans = site_load_plans(hostvars, hosts, plan_load)
    stations = host_vars.get('load_management_site_stations')
    site = host_vars.get('evcs_site') or {}
    if stations is not None and site.get('id'):
        try:
            plans = dict(plans, **{site['id']: plan_load(site, stations)})
        except PlanError as error:
            plans = dict(plans, **{site['id']: {'error': str(error)}})
    return plans


def fleet_calls(hostvars, hosts, inventory):
    """``{host: {'calls': [(step, arguments)], 'task_vars': {...}} or {'failure': 'task: msg'}}``: the stage calls of
    each of ``hosts`` (``run_fleet``'s input), built from ``hostvars`` (an Ansible ``HostVars``) on the calling thread;
    ``inventory`` is every host of the inventory (the sites' load plans count them all)."""
    plans = site_load_plans(hostvars, inventory, plan_load)
    stations = {}
    for host in hosts:
        try:
            host_vars = _read_host(hostvars, host)
            if (host_vars.get('evcs_station') or {}).get('state', 'present') != 'present':
                stations[host] = {'failure': 'Fleet verify: station %s is not present in the inventory (state absent): '
                                             'check it with the per-host verify (evcs_verify_mode=host)' % host}
                continue
            host_plans = plans if host_vars.get('load_management_site_stations') is None else _plans(
                hostvars, inventory, host_vars)
            steps = station_steps(host, host_vars, host_plans)
            calls = [(step, resolve_arguments(step, host_vars, _options)) for step in steps]
            stations[host] = {'calls': calls, 'task_vars': host_vars}
        except StationFailure as failure:
            stations[host] = {'failure': '%s: %s' % failure.args}
        except AnsibleError as error:
            stations[host] = {'failure': 'Read the inventory: %s' % str(error).splitlines()[0]}
    return stations


def _run(params, context):
    task_vars = context.task_vars
    hostvars = task_vars.get('hostvars') or {}
    hosts = params.get('hosts')
    if hosts is None:
        hosts = list(task_vars.get('ansible_play_batch') or [])
    inventory = list((task_vars.get('groups') or {}).get('all') or hosts)
    stations = fleet_calls(hostvars, hosts, inventory)
    reports = run_fleet(stations, params['names'], workers=params['workers'])
    drifted = [host for host, report in reports.items() if report['evcs_drift'] or report.get('evcs_verify_failure')]
    seconds = sorted(report['seconds'] for report in reports.values() if 'seconds' in report)
    timing = {'station_mean_s': round(sum(seconds) / len(seconds), 3), 'station_max_s': seconds[-1],
              'workers': params['workers']} if seconds else {}
    return dict(changed=False, stations=reports, checked=len(reports), drifted=drifted, timing=timing,
                msg='%d station(s) checked, %d drifted or failed' % (len(reports), len(drifted)))


class ActionModule(StationActionBase):
    ARGUMENT_SPEC = dict(
        hosts=dict(type='list', elements='str'),
        names=dict(type='list', elements='str', required=True),
        workers=dict(type='int', default=DEFAULT_WORKERS),
    )
    RUN = staticmethod(_run)
