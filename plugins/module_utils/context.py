# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a module's logic needs from its caller, whether an action plugin or AnsibleModule runs it."""

from __future__ import annotations


class ModuleFailure(Exception):
    """Raised by module logic: the task fails with this message; ``details`` are returned beside it."""

    def __init__(self, message, **details):
        super().__init__(message)
        self.details = details


class RunContext(object):
    """check_mode/diff flags, a warning sink, and secrets discovered at run time (masked in the result)."""

    def __init__(self, check_mode=False, diff=False, warn=None, task_vars=None, host=None):
        self.check_mode = check_mode
        self.diff = diff
        self.task_vars = task_vars or {}
        self.host = host
        self.warnings = []
        #: what the CSMS backend could not do or check ("not verifiable with backend ..."), returned as ``unverifiable``
        self.unverifiable = []
        self.no_log_values = set()
        self._warn = warn

    def warn(self, message):
        self.warnings.append(message)

    def add_secret(self, value):
        """Mask ``value`` wherever it would appear in the result."""
        if value:
            self.no_log_values.add(str(value))


def run_module(argument_spec, run, **kwargs):
    """Run ``run(params, context)`` as a classic module on a target (the action plugin does the same in-process)."""
    from ansible.module_utils.basic import AnsibleModule

    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **kwargs)
    context = RunContext(check_mode=module.check_mode, diff=module._diff, host=None)
    try:
        outcome = run(module.params, context)
    except ModuleFailure as failure:
        for value in context.no_log_values:
            module.no_log_values.add(value)
        module.fail_json(msg=str(failure), **failure.details)
    for value in context.no_log_values:
        module.no_log_values.add(value)
    if not module._diff:
        outcome.pop('diff', None)
    for message in context.warnings:
        module.warn(message)
    if context.unverifiable:
        outcome['unverifiable'] = list(context.unverifiable)
    outcome.setdefault('changed', False)
    module.exit_json(**outcome)
