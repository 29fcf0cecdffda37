# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet mode of verify.yml: the per-host stages of many stations, run concurrently from one controller-side task.

Per-host verify runs every role in check mode, one Ansible task per station and stage; Ansible's own cost per host and
task (templating the host's variables, a worker per task) is what limits it, not the CSMS. The fleet mode builds, for
each station, the same stage calls the roles make (:func:`station_steps` mirrors the role tasks and their defaults),
runs each through the stage's own action class (:func:`run_step`: the same argument spec, ``RUN`` function and masking
as the task) in check mode with diff, and turns the registered results into the same drift entries
(``result_changes``) and "could not be checked" lines (``result_unverifiable``) as verify.yml does per host. So the two
modes can never disagree about what drift is.

Templating (reading host variables) happens on the calling thread only (Ansible's templar is not thread-safe); the
stations then run on a thread pool, each worker keeping one CSMS client (HTTP keep-alive) per connection.
"""

from __future__ import annotations

import threading
import time

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.evcs.provisioning.plugins.action.charging_limit import ActionModule as _ChargingLimit
from ansible_collections.evcs.provisioning.plugins.action.commissioning_check import ActionModule as _Commissioning
from ansible_collections.evcs.provisioning.plugins.action.configuration_keys import ActionModule as _ConfigurationKeys
from ansible_collections.evcs.provisioning.plugins.action.device_model import ActionModule as _DeviceModel
from ansible_collections.evcs.provisioning.plugins.action.station import ActionModule as _StationRecord
from ansible_collections.evcs.provisioning.plugins.action.station_capabilities import ActionModule as _Capabilities
from ansible_collections.evcs.provisioning.plugins.action.variable_monitoring import ActionModule as _Monitoring
from ansible_collections.evcs.provisioning.plugins.filter.result_changes import result_changes
from ansible_collections.evcs.provisioning.plugins.filter.result_unverifiable import result_unverifiable
from ansible_collections.evcs.provisioning.plugins.module_utils.context import RunContext
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.connection import keep_backends
from ansible_collections.evcs.provisioning.plugins.module_utils.station.configuration_keys import setting_keys
from ansible_collections.evcs.provisioning.plugins.module_utils.station.models import (
    ModelError, logging_variables, station_model,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.station_settings import (
    hardware_variables, merged, network_problems, network_variables, ocpp_variables, station_connectors,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.station.snapshot import declared_variables
from ansible_collections.evcs.provisioning.plugins.plugin_utils.station_action import SNAPSHOT_INVENTORY, run_module

#: the stage actions a fleet verify runs, by the module name a role task uses
ACTIONS = {
    'station': _StationRecord,
    'station_capabilities': _Capabilities,
    'device_model': _DeviceModel,
    'configuration_keys': _ConfigurationKeys,
    'variable_monitoring': _Monitoring,
    'charging_limit': _ChargingLimit,
    'commissioning_check': _Commissioning,
}
#: the stages of verify.yml the fleet mode runs, in verify.yml's order (docs/VERIFY.md says what it leaves to per-host)
STAGES = ('backend', 'network', 'ocpp', 'load_management', 'commission')
#: per-host verify stages the fleet mode does not run: Vault-backed identity and security checks, the CSMS's site,
#: tariff and id-token records, and capability discovery (validate); per-host verify covers them
NOT_IN_FLEET = ('validate: capability discovery (GetBaseReport)', 'backend: sites, tariffs, id tokens', 'identity', 'security')
#: the task that fails a station whose commissioning failed (its failure names the items, listed as drift instead)
COMMISSION_FAILURE = 'Fail the station when a required item failed'
DEFAULT_WORKERS = 32


class Step(object):
    """One stage call for one station: the role task's ``name``, its module, its arguments, the name it registers its
    result under (or None), and ``after(result)``: the role's assert on that result (a failure message or None)."""

    def __init__(self, name, module, args, register=None, after=None):
        self.name = name
        self.module = module
        self.args = args
        self.register = register
        self.after = after


class StationFailure(Exception):
    """The inventory of one station cannot be turned into its stage calls (the task and message verify.yml reports)."""


def _get(mapping, key, default=None):
    value = (mapping or {}).get(key) if isinstance(mapping, dict) or hasattr(mapping, 'get') else None
    return default if value is None else value


def _dict(value):
    return value if isinstance(value, dict) else {}


def _drop_none(args):
    """A role task's ``default(omit)``: options without a value are not passed."""
    return dict((key, value) for key, value in args.items() if value is not None)


def ocpp_version_of(station, site):
    """The inventory's OCPP version of the station (its own, else its site's, else 2.0.1), as the roles read it."""
    version = _get(station, 'ocpp_version', _get(site, 'ocpp_version', '2.0.1'))
    return str(version)


def station_steps(host, host_vars, plans):
    """The stage calls verify.yml makes for ``host`` (its variables ``host_vars``, templated) in check mode, in order.

    ``plans`` is the load plan of every site (``site_load_plans`` over the whole inventory, made once). Mirrors the
    tasks and defaults of the backend, network, ocpp, load_management and commission roles; a role variable the
    inventory sets (``ocpp_extra_variables``, ``commission_optional_checks``, ...) is taken from ``host_vars``.
    Raises :class:`StationFailure` where a role's precondition assert would fail.
    """
    station = _dict(_get(host_vars, 'evcs_station', {}))
    site = _dict(_get(host_vars, 'evcs_site', {}))
    csms = _dict(_get(host_vars, 'evcs_csms', {}))
    station_id = station.get('id') or host
    model_dirs = _get(host_vars, 'evcs_station_model_dirs', [])
    try:
        model = station_model(station, site, model_dirs)
    except ModelError as error:
        raise StationFailure('Station model', 'station %s: %s: set evcs_station.station_model to a known model'
                             % (station.get('id', '?'), error))
    version = ocpp_version_of(station, site)
    steps = _capability_steps(station, host, model, model_dirs, version, station_id)
    steps += _backend_steps(station, site, host_vars, station_id)
    steps += _network_steps(station, csms, host_vars, station_id, model, version)
    steps += _ocpp_steps(station, site, host_vars, station_id, model, model_dirs, version)
    limit = _load_management_steps(station, site, host_vars, station_id, model, plans)
    steps += limit[0]
    steps.append(_commission_step(station, csms, host_vars, station_id, model, version, limit[1]))
    return steps


def _capability_steps(station, host, model, model_dirs, version, station_id):
    """The validate role's capability fact of a 2.0.1 station from the capability cache and the station model only
    (``discover: never``: no request to the station): its message limits let the station's snapshot read every
    declared variable in one GetVariables, as in a per-host run."""
    if version == '1.6' or not station.get('vendor') or not station.get('model'):
        return []
    args = _drop_none(dict(station_id=station_id, host=host, vendor=station.get('vendor'), model=station.get('model'),
                           firmware_version=station.get('firmware_version'), station_model=model['name'],
                           model_dirs=model_dirs, discover='never'))
    return [Step("Check the declared variables against the station's capabilities", 'station_capabilities', args)]


def _backend_steps(station, site, host_vars, station_id):
    ocpp = merged(_dict(_get(host_vars, 'evcs_ocpp', {})), _dict(station.get('ocpp')))
    tariff = station.get('tariff_id') or _dict(site.get('tariff')).get('id')
    monitoring = None
    if station.get('monitoring') is not None:
        monitoring = {'alerts': _get(station['monitoring'], 'alerts', True),
                      'offline_alert_after_s': _get(station['monitoring'], 'offline_alert_after_s', 900)}
    args = _drop_none(dict(
        station_id=station_id, serial_number=station.get('serial_number'), vendor=station.get('vendor'),
        model=station.get('model'), firmware_version=station.get('firmware_version'), location_id=site.get('id'),
        operator=site.get('operator'), evses=station.get('evses'), tariff_id=tariff or None,
        access=station.get('access') or site.get('access') or None, monitoring=monitoring,
        firmware_channel=station.get('firmware_channel'), heartbeat_interval=ocpp.get('heartbeat_interval'),
        asset=station.get('asset'), status=_get(station, 'status', 'active'),
    ))
    return [Step('Write the station record', 'station', args)]


def _network_steps(station, csms, host_vars, station_id, model, version):
    settings = merged(_dict(_get(host_vars, 'evcs_network', {})), _dict(station.get('network')))
    problems = network_problems(settings, model, station, csms, _dict(_get(host_vars, 'evcs_environment_rules', {})))
    if problems:
        raise StationFailure('Check the network settings before touching the station',
                             "station %s: %s: fix the inventory (host_vars or the site's evcs_network)"
                             % (station_id, '; '.join(problems)))
    if version == '1.6':
        return []
    items = network_variables(settings, model)
    iccid = model['network']['settings'].get('iccid')
    sim = []
    if iccid is not None:
        component = iccid.get('component') or model['network']['component'].get('cellular') or {'name': 'ChargingStation'}
        sim = [{'component': component, 'variable': {'name': iccid['variable']}}]
    if not items and not sim:
        return []
    cellular = _get(settings, 'mode', 'ethernet') == 'cellular'
    args = dict(station_id=station_id, variables=items, gather=sim if cellular else [], update_write_only='on_create')
    expected = _dict(settings.get('cellular')).get('iccid')
    must_match = bool(_get(host_vars, 'network_iccid_must_match', False))

    def _iccid(result):
        reported = [entry.get('value') for entry in result.get('gathered') or [] if entry.get('value')]
        if reported and must_match and expected is not None and str(expected) != reported[0]:
            return ('Report the ICCID', 'station %s holds SIM %s, the inventory expects %s: update network.cellular.iccid '
                    'or swap the SIM back' % (station_id, reported[0], expected))
        return None
    return [Step('Set the network variables of the station model and the time source (reading the SIM ICCID in the '
                 'same request)', 'device_model', args, 'network_variables', _iccid)]


def _ocpp_steps(station, site, host_vars, station_id, model, model_dirs, version):
    settings = merged(_dict(_get(host_vars, 'evcs_ocpp', {})), _dict(station.get('ocpp')))
    verify_hardware = bool(_get(host_vars, 'ocpp_verify_hardware', True))
    if version == '1.6':
        keys = setting_keys(settings, model, _get(host_vars, 'ocpp_extra_configuration_keys', []))
        args = dict(station_id=station_id, station_model=model['name'], model_dirs=model_dirs, keys=keys,
                    gather=['NumberOfConnectors'] if verify_hardware else [])
        connectors = len(station_connectors(station))

        def _connectors(result):
            reported = _dict(result.get('gathered')).get('NumberOfConnectors')
            if verify_hardware and reported is not None and str(reported) != str(connectors):
                return ('Compare the number of connectors with the inventory (OCPP 1.6 numbers connectors 1..N, no EVSEs)',
                        'station %s reports NumberOfConnectors %s, the inventory declares %s connectors: correct '
                        'evcs_station.evses in the inventory' % (station_id, reported, connectors))
            return None
        return [Step('Set the OCPP 1.6 configuration keys (and read the number of connectors)', 'configuration_keys',
                     args, 'ocpp_keys_result', _connectors)]
    extra = list(_get(host_vars, 'ocpp_extra_variables', [])) + logging_variables(_dict(station.get('logging')), model)
    variables = ocpp_variables(settings, extra)
    hardware = hardware_variables(station) if verify_hardware else []
    steps = []
    if variables or hardware:
        gather = [dict((key, value) for key, value in item.items() if key != 'value') for item in hardware]

        def _hardware(result):
            mismatches = ['%s = %s (inventory: %s)' % (seen.get('key'), seen.get('value'), want.get('value'))
                          for seen, want in zip(result.get('gathered') or [], hardware_variables(station))
                          if str(seen.get('value')) != str(want.get('value'))]
            if mismatches:
                return ('Compare the EVSEs and connectors with the inventory',
                        'station %s reports %s: correct evcs_station.evses in the inventory'
                        % (station_id, ', '.join(mismatches)))
            return None
        steps.append(Step('Set heartbeat, offline behaviour, metering and authorization (and read the EVSEs and '
                          'connectors)', 'device_model', dict(station_id=station_id, variables=variables, gather=gather),
                          'ocpp_result', _hardware))
    monitors = _dict(station.get('monitoring')).get('monitors')
    if monitors is not None:
        steps.append(Step('Set the station\'s variable monitors (exactly those of evcs_station.monitoring.monitors)',
                          'variable_monitoring', dict(station_id=station_id, monitors=monitors, state='overridden')))
    return steps


def _load_management_steps(station, site, host_vars, station_id, model, plans):
    """``(steps, the station's share of its site's plan or None)``."""
    plan = plans.get(site.get('id')) if isinstance(plans, dict) else None
    if plan is None:
        return [], None
    if plan.get('error') is not None:
        raise StationFailure('Stop when the site\'s stations cannot fit its grid connection', plan['error'])
    share = _dict(plan.get('stations')).get(station_id)
    if not model.get('charging_station_max_profile') or share is None:
        return [], share
    units = model.get('rate_units') or ['A']
    unit = 'A' if 'A' in units else units[0]
    args = dict(station_id=station_id, limit=share['max_current_a'] if unit == 'A' else share['max_power_w'], unit=unit,
                phases=share.get('phases'), voltage=share.get('voltage_v'),
                stack_level=_get(host_vars, 'load_management_stack_level', 0),
                profile_id=_get(host_vars, 'load_management_profile_id', 1))
    return [Step('Apply the station\'s maximum', 'charging_limit', _drop_none(args), 'load_management_limit')], share


def _commission_step(station, csms, host_vars, station_id, model, version, share):
    profile = int(_get(station, 'security_profile', 1))
    urls = _dict(csms.get('ws_urls'))
    url = urls.get(str(profile), urls.get(profile))
    ocpp = merged(_dict(_get(host_vars, 'evcs_ocpp', {})), _dict(station.get('ocpp')))
    limit = None
    if share is not None and float(share.get('max_current_a') or 0) > 0 and model.get('charging_station_max_profile'):
        limit = {'limit': float(share['max_current_a']), 'unit': 'A', 'phases': int(_get(share, 'phases', 3)),
                 'voltage': float(_get(share, 'voltage_v', 230))}
    keys = []
    if version == '1.6':
        keys = setting_keys(ocpp, model, _get(host_vars, 'commission_extra_configuration_keys', []))
    args = _drop_none(dict(
        station_id=station_id, csms_endpoint='%s/%s' % (url, station_id), security_profile=profile,
        trust_anchor_path=csms.get('root_ca_path'), heartbeat_interval=int(_get(ocpp, 'heartbeat_interval', 300)),
        device_model=[] if version == '1.6' else ocpp_variables(ocpp, _get(host_vars, 'commission_extra_variables', [])),
        configuration_keys=keys,
        certificate_min_days=int(_get(host_vars, 'commission_certificate_min_days', 30)),
        connectors=station_connectors(station) or None,
        local_list_version=_get(host_vars, 'commission_local_list_version'),
        charging_limit=limit, optional_checks=_get(host_vars, 'commission_optional_checks', []),
        staging_password=csms.get('staging_password') or None, pending_apply=False,
    ))
    return Step('Run the commissioning checklist', 'commissioning_check', args, 'commission_result')


def resolve_arguments(step, host_vars, resolver):
    """The step's arguments plus the inventory's connection options (``resolver(action, args, host_vars)``: the action
    base's own ``_with_inventory_options``)."""
    return resolver(ACTIONS[step.module], step.args, host_vars)


def step_context(step, arguments, task_vars, check_mode=True):
    """The context of one stage call of a station, as the action base builds it for a role task: the station's own id
    and the snapshot plan of its inventory, so the station's calls share one snapshot (``station.snapshot``: the first
    call reads every declared variable in as few GetVariables as the station allows, the later ones are answered from
    it; ``run_station`` carries the snapshot fact from one call to the next as a host fact carries it between tasks)."""
    station_id = arguments.get('station_id') or task_vars.get('inventory_hostname')
    return RunContext(check_mode=check_mode, diff=check_mode, task_vars=task_vars,
                      host=task_vars.get('inventory_hostname'), station_id=station_id,
                      snapshot_plan=lambda: declared_variables(
                          dict((name, task_vars.get(name)) for name in SNAPSHOT_INVENTORY)))


def run_step(step, arguments, task_vars):
    """One stage call in check mode with diff, exactly as its action plugin runs it (argument spec, masking)."""
    return run_module(ACTIONS[step.module], arguments, step_context(step, arguments, task_vars))


def run_station(host, calls, task_vars, run=run_step):
    """Run one station's ``calls`` (``[(step, arguments)]``) in order, as verify.yml's block does: the first failed
    call stops the station. Returns ``{'results': {registered name: result}, 'failure': 'task: msg' or None}``."""
    results, facts = {}, dict(task_vars)
    facts['inventory_hostname'] = host
    for step, arguments in calls:
        try:
            result = run(step, arguments, facts)
        except Exception as error:  # pylint: disable=broad-except  # one station's crash must not stop the fleet
            return {'results': results, 'failure': '%s: %s' % (step.name, error)}
        facts.update(result.get('ansible_facts') or {})
        if step.register:
            registered = dict(result)
            if step.module == 'commissioning_check':
                registered['failed'] = False  # the role registers it with failed_when: false
            results[step.register] = registered
        if step.module == 'commissioning_check':
            if not result.get('passed') and not result.get('failed_items'):
                return {'results': results, 'failure': '%s: %s' % (
                    COMMISSION_FAILURE, result.get('msg') or 'station %s failed commissioning' % arguments.get('station_id'))}
            continue
        if result.get('failed'):
            return {'results': results, 'failure': '%s: %s' % (step.name, result.get('msg', 'no message'))}
        problem = step.after(result) if step.after else None
        if problem:
            return {'results': results, 'failure': '%s: %s' % problem}
    return {'results': results, 'failure': None}


#: the facts a station's part of the fleet result sets on its host (what verify.yml's report reads per host)
HOST_FACTS = ('evcs_drift', 'evcs_unverifiable', 'evcs_verify_failure', 'commission_result')


def station_report(host, outcome, names, host_vars=None):
    """What verify.yml's report reads of a host: ``evcs_drift``, ``evcs_unverifiable``, ``evcs_verify_failure`` (only
    when the check stopped), and the commissioning result (the HTML and commissioning reports read it); plus, from its
    inventory ``host_vars``, what the HTML fleet report shows of it (``fleet_report`` reads the fleet result's stations
    as it reads hostvars: the station's and site's ids and names, its security profile, its environment)."""
    results = outcome['results']
    report = {
        'inventory_hostname': host,
        'evcs_drift': result_changes(results, names),
        'evcs_unverifiable': result_unverifiable(results, names),
        'diff': [result['diff'] for result in results.values() if result.get('changed') and result.get('diff')],
    }
    if outcome.get('failure'):
        report['evcs_verify_failure'] = outcome['failure']
    if 'commission_result' in results:
        report['commission_result'] = results['commission_result']
    if host_vars:
        station, site = _dict(host_vars.get('evcs_station')), _dict(host_vars.get('evcs_site'))
        report['evcs_station'] = dict((key, station[key]) for key in ('id', 'security_profile') if key in station)
        report['evcs_site'] = dict((key, site[key]) for key in ('id', 'name') if key in site)
        if host_vars.get('evcs_environment') is not None:
            report['evcs_environment'] = host_vars['evcs_environment']
    return report


def run_fleet(stations, names, workers=DEFAULT_WORKERS, run=run_step):
    """Check many stations concurrently. ``stations`` maps each host to ``{'calls': [(step, arguments)], 'task_vars':
    {...}}`` or ``{'failure': 'task: msg'}`` (its calls could not be built). Returns ``{host: station_report}`` in the
    order of ``stations``. Each worker thread keeps one CSMS client per connection while it works."""
    local = threading.local()

    def _one(host):
        entry = stations[host]
        if entry.get('failure'):
            return station_report(host, {'results': {}, 'failure': entry['failure']}, names, entry.get('task_vars'))
        if not getattr(local, 'kept', None):
            local.kept = keep_backends()
            local.kept.__enter__()
        started = time.monotonic()
        report = station_report(host, run_station(host, entry['calls'], entry.get('task_vars') or {}, run=run), names,
                                entry.get('task_vars'))
        report['seconds'] = round(time.monotonic() - started, 3)
        return report

    hosts = list(stations)
    with ThreadPoolExecutor(max_workers=max(1, int(workers))) as pool:
        reports = list(pool.map(_one, hosts))
    return dict(zip(hosts, reports))


def host_outcome(report, host, fail_on_drift=False):
    """One host's task result from its part ``report`` of the fleet task's result (``stations[host]``; empty when the
    host was not in the batch): its facts for the drift report (the variables per-host verify sets), ``changed`` and
    the stages' diffs where it drifted (so the audit trail records the drifted fields per station, as per-host verify's
    stage tasks do). With ``fail_on_drift`` a station that drifted or could not be checked fails, with per-host verify's
    message (verify.yml's fleet mode: its only per-host task); else it never fails.

    Each host is handed only its own part: templating the whole batch result for every host would cost O(N^2)."""
    if not report:
        report = {'evcs_drift': [], 'evcs_unverifiable': [],
                  'evcs_verify_failure': 'Fleet verify: %s was not in the checked batch' % host}
    facts = dict((key, report[key]) for key in HOST_FACTS if key in report)
    outcome = dict(changed=bool(report.get('evcs_drift')), ansible_facts=facts)
    if report.get('diff'):
        outcome['diff'] = report['diff']
    if fail_on_drift:
        failure = report.get('evcs_verify_failure')
        fields = []
        for entry in report.get('evcs_drift') or []:
            if entry.get('field') not in fields:
                fields.append(entry.get('field'))
        if fields or failure:
            outcome.update(failed=True, msg='drift on %s: %s%s: see the list above' % (
                host, ', '.join(str(field) for field in fields) or 'the check failed',
                (' (%s)' % failure) if failure else ''))
        else:
            outcome['msg'] = 'no drift on %s' % host
    return outcome
