# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared base of the collection's action plugins.

Station- and backend-plane modules are API calls made from the controller, so each module has an action
plugin of the same name that runs its logic in-process (about 13 ms a task instead of about 180 ms for a
forked module). The module file holds DOCUMENTATION/EXAMPLES/RETURN only, as community.crypto's module files do for
controller-side work: there is one execution path, this one, which calls one ``run(params, context)`` function in
``module_utils`` (``tests/unit/test_module_docs.py`` keeps each module's documented options and its argument spec equal).
"""

from __future__ import annotations

from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import _list_no_log_values
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase

from ansible_collections.evcs.provisioning.plugins.module_utils.context import (
    ModuleFailure, RunContext,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.station.snapshot import declared_variables, model_limits

#: the inventory variables the run's snapshot plan is built from (``station.snapshot.declared_variables``)
SNAPSHOT_INVENTORY = ('evcs_station', 'evcs_site', 'evcs_ocpp', 'evcs_network', 'evcs_station_model_dirs')


#: connection options an action task does not give are taken from these inventory variables (``evcs_csms.url`` for
#: ``csms_url``, ...), as community.hashi_vault takes ``ansible_hashi_vault_*``: a role or playbook task names only what
#: it does, and the connection is templated once per task instead of once per option in ``module_defaults``
INVENTORY_OPTIONS = {
    'csms_backend': ('evcs_csms', 'backend'),
    'csms_options': ('evcs_csms', 'options'),
    'csms_url': ('evcs_csms', 'url'),
    'csms_token': ('evcs_csms', 'token'),
    'csms_ca_path': ('evcs_csms', 'ca_path'),
    'csms_validate_certs': ('evcs_csms', 'validate_certs'),
    'vault_url': ('evcs_vault', 'url'),
    'vault_namespace': ('evcs_vault', 'namespace'),
    'vault_ca_path': ('evcs_vault', 'ca_path'),
    'vault_validate_certs': ('evcs_vault', 'validate_certs'),
    'vault_auth_method': ('evcs_vault', 'auth_method'),
    'vault_token': ('evcs_vault', 'token'),
    'vault_token_from_env': ('evcs_vault', 'token_from_env'),
    'vault_role_id': ('evcs_vault', 'role_id'),
    'vault_secret_id': ('evcs_vault', 'secret_id'),
    'vault_pki_mount': ('evcs_vault', 'pki_mount'),
    'vault_pki_role': ('evcs_vault', 'station_role'),
    'vault_kv_mount': ('evcs_vault', 'kv_mount'),
    'allow_plaintext_secrets': ('evcs_allow_plaintext_secrets', None),
    'issuer_common_names': ('evcs_environment_rules', 'issuer_common_names'),
}
_APPROLE_MOUNT = ('evcs_vault', 'approle_mount')


class StationActionBase(ActionBase):
    """Subclasses set ``ARGUMENT_SPEC`` (dict), ``RUN`` (callable(params, context) -> dict) and optionally
    ``MUTUALLY_EXCLUSIVE``/``REQUIRED_IF``/``REQUIRED_TOGETHER``/``REQUIRED_ONE_OF``.
    """

    TRANSFERS_FILES = False
    _requires_connection = False
    ARGUMENT_SPEC = {}
    MUTUALLY_EXCLUSIVE = None
    REQUIRED_IF = None
    REQUIRED_TOGETHER = None
    REQUIRED_ONE_OF = None

    @staticmethod
    def RUN(params, context):  # pylint: disable=invalid-name
        raise AnsibleError('action plugin without a RUN function')

    def run(self, tmp=None, task_vars=None):
        result = super(StationActionBase, self).run(tmp, task_vars)
        del tmp

        task_vars = task_vars or {}
        arguments = self._with_inventory_options(self._task.args, task_vars)
        context = RunContext(
            check_mode=bool(self._task.check_mode),
            diff=bool(self._task.diff),
            warn=self._display.warning,
            task_vars=task_vars,
            host=task_vars.get('inventory_hostname'),
            station_id=self._host_station_id(task_vars),
            snapshot_plan=lambda: declared_variables(self._snapshot_inventory(task_vars)),
            snapshot_limits=lambda: model_limits(self._snapshot_inventory(task_vars)),
        )
        result.update(run_module(self, arguments, context))
        return result

    def _inventory_value(self, task_vars, variable, key=None):
        """``task_vars[variable][key]`` templated, or None when either is not defined."""
        value = task_vars.get(variable)
        if isinstance(value, str):
            value = self._templar.template(value)
        if key is None:
            return value
        if not isinstance(value, dict) or value.get(key) is None:
            return None
        return self._templar.template(value[key])

    def _host_station_id(self, task_vars):
        """The id of the host's own station: ``evcs_station.id``, else the inventory hostname."""
        station_id = self._inventory_value(task_vars, 'evcs_station', 'id')
        return station_id if station_id else task_vars.get('inventory_hostname')

    def _snapshot_inventory(self, task_vars):
        """The templated inventory variables the snapshot plan reads (only when a task takes a fresh snapshot)."""
        return dict((name, self._templar.template(task_vars.get(name))) for name in SNAPSHOT_INVENTORY)

    def _with_inventory_options(self, args, task_vars):
        """The task's arguments plus what the inventory says for the options it leaves out (INVENTORY_OPTIONS; the
        station's own id for ``station_id``; its OCPP version, else its site's, for ``ocpp_version``; the environment
        for ``environment``)."""
        spec, found = self.ARGUMENT_SPEC, dict(args)
        for option, (variable, key) in INVENTORY_OPTIONS.items():
            if option in spec and option not in found:
                value = self._inventory_value(task_vars, variable, key)
                if value is not None:
                    found[option] = value
        if ('vault_auth_mount' in spec and 'vault_auth_mount' not in found
                and found.get('vault_auth_method') == 'approle'):
            mount = self._inventory_value(task_vars, *_APPROLE_MOUNT)
            if mount is not None:
                found['vault_auth_mount'] = mount
        # only where the module works on one station (an optional station_id, as in id_tokens, stays a choice)
        if (spec.get('station_id') or {}).get('required') and 'station_id' not in found:
            station = self._inventory_value(task_vars, 'evcs_station')
            station_id = station.get('id') if isinstance(station, dict) else None
            found['station_id'] = self._templar.template(station_id) if station_id else task_vars.get('inventory_hostname')
        if 'ocpp_version' in spec and 'ocpp_version' not in found:
            version = self._inventory_value(task_vars, 'evcs_station', 'ocpp_version')
            if version is None:
                version = self._inventory_value(task_vars, 'evcs_site', 'ocpp_version')
            if version is not None:
                found['ocpp_version'] = str(version)
        if 'environment' in spec and 'environment' not in found:
            environment = self._inventory_value(task_vars, 'evcs_environment')
            if environment is not None:
                found['environment'] = environment
        return found


def run_module(action, arguments, context):
    """Validate ``arguments`` against ``action``'s ARGUMENT_SPEC (and its MUTUALLY_EXCLUSIVE/REQUIRED_* rules), call its
    RUN with ``context`` and return the outcome with ``changed`` set, the diff only in diff mode, the warnings and
    ``unverifiable`` lines, and every no_log value masked. ``action`` is an action class or instance (the fleet verify
    runs the stages' own actions this way, so a stage and its fleet run can never differ)."""
    validator = ArgumentSpecValidator(
        action.ARGUMENT_SPEC,
        mutually_exclusive=action.MUTUALLY_EXCLUSIVE,
        required_together=action.REQUIRED_TOGETHER,
        required_one_of=action.REQUIRED_ONE_OF,
        required_if=action.REQUIRED_IF,
    )
    validation = validator.validate(arguments)
    no_log_values = _list_no_log_values(action.ARGUMENT_SPEC, arguments)
    if validation.error_messages:
        return dict(failed=True, changed=False, msg=_mask('; '.join(validation.error_messages), no_log_values))
    try:
        outcome = action.RUN(validation.validated_parameters, context)
    except ModuleFailure as failure:
        outcome = dict(failed=True, msg=str(failure), **failure.details)
    snapshot_facts = context.snapshot_facts()
    if snapshot_facts:
        outcome.setdefault('ansible_facts', {}).update(snapshot_facts)
    no_log_values.update(context.no_log_values)
    outcome.setdefault('changed', False)
    if not context.diff:
        outcome.pop('diff', None)
    if context.warnings:
        outcome['warnings'] = list(context.warnings)
    if context.unverifiable:
        outcome['unverifiable'] = list(context.unverifiable)
    return remove_values(outcome, no_log_values)


def _mask(text, no_log_values):
    for value in no_log_values:
        if value:
            text = text.replace(value, '********')
    return text
