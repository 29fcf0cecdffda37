# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared base of the collection's action plugins.

Station- and backend-plane modules are API calls made from the controller, so each module has an action
plugin of the same name that runs its logic in-process (about 13 ms a task instead of about 180 ms for a
forked module). The module file keeps DOCUMENTATION/EXAMPLES/RETURN and the argument spec, and can still
run the same logic on a target. Both call one ``run(params, context)`` function in ``module_utils``.
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

        validator = ArgumentSpecValidator(
            self.ARGUMENT_SPEC,
            mutually_exclusive=self.MUTUALLY_EXCLUSIVE,
            required_together=self.REQUIRED_TOGETHER,
            required_one_of=self.REQUIRED_ONE_OF,
            required_if=self.REQUIRED_IF,
        )
        validation = validator.validate(self._task.args)
        no_log_values = _list_no_log_values(self.ARGUMENT_SPEC, self._task.args)
        if validation.error_messages:
            result.update(failed=True, msg=_mask('; '.join(validation.error_messages), no_log_values))
            return result

        context = RunContext(
            check_mode=bool(self._task.check_mode),
            diff=bool(self._task.diff),
            warn=self._display.warning,
            task_vars=task_vars or {},
            host=(task_vars or {}).get('inventory_hostname'),
        )
        try:
            outcome = self.RUN(validation.validated_parameters, context)
        except ModuleFailure as failure:
            outcome = dict(failed=True, msg=str(failure), **failure.details)
        no_log_values.update(context.no_log_values)
        outcome.setdefault('changed', False)
        if not context.diff:
            outcome.pop('diff', None)
        if context.warnings:
            outcome['warnings'] = list(context.warnings)
        result.update(remove_values(outcome, no_log_values))
        return result


def _mask(text, no_log_values):
    for value in no_log_values:
        if value:
            text = text.replace(value, '********')
    return text
