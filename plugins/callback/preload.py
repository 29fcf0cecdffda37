# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Imports the libraries of the collection's action plugins once, in the controller process."""

from __future__ import annotations

DOCUMENTATION = r'''
name: preload
type: aggregate
short_description: Import the action plugins' libraries once per run instead of once per task and host
version_added: 0.1.0
description:
  - Ansible runs every task on every host in a worker process forked from the controller. The collection's action
    plugins run in that worker, and the first thing each of them does is import its libraries (C(requests),
    C(hvac), C(cryptography) and the collection's C(module_utils)), which costs about 0.1 to 0.3 seconds of CPU per
    task and host.
  - This plugin imports them once, when the run starts, in the controller process. Every forked worker inherits
    them already imported, the collection's filter plugins already loaded and the collection's station model files
    already read (the models of C(evcs_station_model_dirs) are still read by each task that needs them). It prints
    nothing and changes no result.
  - Enable it with C(callbacks_enabled = evcs.provisioning.preload) in C(ansible.cfg) or
    E(ANSIBLE_CALLBACKS_ENABLED). Without it the collection works the same, only slower on large fleets.
  - A library that is missing is not an error here; the task that needs it reports it.
'''

import importlib

from ansible.plugins.callback import CallbackBase
from ansible.plugins.loader import filter_loader

# what the action plugins import, directly or through plugin_utils/module_utils
_MODULES = (
    'ansible_collections.evcs.provisioning.plugins.plugin_utils.station_action',
    'ansible_collections.evcs.provisioning.plugins.module_utils.basic_auth',
    'ansible_collections.evcs.provisioning.plugins.module_utils.charging_limit',
    'ansible_collections.evcs.provisioning.plugins.module_utils.commissioning',
    'ansible_collections.evcs.provisioning.plugins.module_utils.csms.connection',
    'ansible_collections.evcs.provisioning.plugins.module_utils.csms.reference',
    'ansible_collections.evcs.provisioning.plugins.module_utils.desired_state',
    'ansible_collections.evcs.provisioning.plugins.module_utils.device_model',
    'ansible_collections.evcs.provisioning.plugins.module_utils.identity',
    'ansible_collections.evcs.provisioning.plugins.module_utils.load_plan',
    'ansible_collections.evcs.provisioning.plugins.module_utils.local_list',
    'ansible_collections.evcs.provisioning.plugins.module_utils.network_profile',
    'ansible_collections.evcs.provisioning.plugins.module_utils.records',
    'ansible_collections.evcs.provisioning.plugins.module_utils.security_profile',
    'ansible_collections.evcs.provisioning.plugins.module_utils.station_settings',
    'ansible_collections.evcs.provisioning.plugins.module_utils.station_reset',
    'ansible_collections.evcs.provisioning.plugins.module_utils.vault',
    'ansible_collections.evcs.provisioning.plugins.module_utils.x509',
)


#: the collection's filter plugins, which every worker's template engine would otherwise load again
_FILTERS = ('commissioning_report', 'configuration_key_problems', 'csms_connection', 'hardware_variables', 'load_plan',
            'logging_variables', 'network_problems', 'network_variables', 'ocpp_configuration_keys', 'ocpp_variables',
            'redact', 'result_changes', 'site_load_plans', 'site_stations', 'station_connectors', 'station_model')

_MODELS = 'ansible_collections.evcs.provisioning.plugins.module_utils.station.models'


def preload(names=_MODULES, filters=_FILTERS):
    """Import ``names`` and load the collection's ``filters`` through Ansible's plugin loader (whose cache the workers
    inherit); what fails is returned with the reason, the rest stays loaded."""
    missing = {}
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as error:  # pylint: disable=broad-except
            missing[name] = '%s: %s' % (type(error).__name__, error)
    for name in filters:
        try:
            filter_loader.get('evcs.provisioning.%s' % name)
        except Exception as error:  # pylint: disable=broad-except
            missing['filter %s' % name] = '%s: %s' % (type(error).__name__, error)
    # the collection's station model files, read once here instead of in every task that templates a station's model
    try:
        importlib.import_module(_MODELS).preload_models()
    except Exception as error:  # pylint: disable=broad-except
        missing['station models'] = '%s: %s' % (type(error).__name__, error)
    return missing


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'evcs.provisioning.preload'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super(CallbackModule, self).__init__(display=display)
        for name, reason in preload().items():
            self._display.vvv('evcs.provisioning.preload: %s not preloaded (%s)' % (name, reason))
