"""The backend registry: csms_backend choices, doc fragments and the inventory option all name the same backends."""

from __future__ import annotations

import importlib
import pathlib

import pytest
import yaml

from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure, RunContext
from ansible_collections.evcs.provisioning.plugins.module_utils.csms import connection, registry
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import (
    CAPABILITIES, CapabilityMissing, CsmsBackend,
)

_ROOT = pathlib.Path(__file__).resolve().parents[2]


def _fragment(name, attribute='DOCUMENTATION'):
    module = importlib.import_module('ansible_collections.evcs.provisioning.plugins.doc_fragments.%s' % name)
    return yaml.safe_load(getattr(module.ModuleDocFragment, attribute))


def test_choices_of_the_argspec_the_doc_fragment_and_the_inventory_plugin_are_the_registry():
    names = registry.backend_names()
    assert names[0] == 'reference'
    assert connection.csms_argument_spec()['csms_backend']['choices'] == names
    assert _fragment('csms')['options']['csms_backend']['choices'] == names
    inventory = importlib.import_module('ansible_collections.evcs.provisioning.plugins.inventory.csms')
    assert yaml.safe_load(inventory.DOCUMENTATION)['options']['csms_backend']['choices'] == names


@pytest.mark.parametrize('backend', registry.BACKENDS, ids=lambda backend: backend.NAME)
def test_every_backend_documents_its_options_and_declares_known_capabilities(backend):
    assert issubclass(backend, CsmsBackend)
    assert backend.CAPABILITIES <= set(CAPABILITIES), 'unknown capability names'
    documented = _fragment('csms_%s' % backend.NAME)['options'] or {}
    assert set(documented) == set(backend.OPTIONS)
    for name, spec in backend.OPTIONS.items():
        assert documented[name].get('type', 'str') == spec.get('type', 'str'), name


def test_an_unknown_backend_and_bad_options_are_clear_configuration_errors():
    context = RunContext()
    with pytest.raises(ModuleFailure, match="csms_backend 'nope' is not a known CSMS backend: choose one of reference"):
        connection.task_backend({'csms_backend': 'nope', 'csms_url': 'https://x', 'csms_token': 't'}, context)
    with pytest.raises(ModuleFailure, match='csms_token is not set'):
        connection.task_backend({'csms_backend': 'reference', 'csms_url': 'https://x'}, context)
    with pytest.raises(ModuleFailure, match='csms_options for backend reference: .*evcs.provisioning.csms_reference'):
        connection.task_backend({'csms_backend': 'reference', 'csms_url': 'https://x', 'csms_token': 't',
                                 'csms_options': {'surprise': 1}}, context)


def test_a_missing_capability_is_reported_once_as_not_verifiable_and_never_raised():
    backend = registry.backend_class('reference')('https://csms.example', 't')
    context = RunContext()
    assert not connection.lacks(backend, 'password_rotation', context, 'x')
    backend.CAPABILITIES = frozenset()
    assert connection.lacks(backend, 'password_rotation', context, 'the password of CP-1')
    assert connection.lacks(backend, 'password_rotation', context, 'the password of CP-1')
    line = ('not verifiable with backend reference: the password of CP-1: backend reference cannot accept several '
            'BasicAuth passwords per station during a rotation')
    assert context.unverifiable == [line] and context.warnings == [line]
    with pytest.raises(CapabilityMissing) as raised:
        backend.require('local_list', 'the local list of CP-1', reason='CitrineOS 1.8.3 fails every SendLocalList')
    assert str(raised.value).endswith('(CitrineOS 1.8.3 fails every SendLocalList)')
    assert raised.value.kind == 'capability_missing' and raised.value.details['capability'] == 'local_list'


def test_the_action_base_takes_backend_and_options_from_evcs_csms():
    from ansible_collections.evcs.provisioning.plugins.plugin_utils.station_action import INVENTORY_OPTIONS
    assert INVENTORY_OPTIONS['csms_backend'] == ('evcs_csms', 'backend')
    assert INVENTORY_OPTIONS['csms_options'] == ('evcs_csms', 'options')
    assert (_ROOT / 'docs' / 'BACKENDS.md').is_file()


def test_the_verify_report_lists_each_unverifiable_line_once_from_results_and_loop_items():
    from ansible_collections.evcs.provisioning.plugins.filter.result_unverifiable import result_unverifiable
    line = 'not verifiable with backend x: slot 1: backend x cannot remember the network connection profiles'
    host = {'network_connection': {'changed': False, 'unverifiable': [line]},
            'backend_tokens': {'results': [{'unverifiable': [line, 'other']}, {'changed': True}]},
            'ocpp_result': 'not a result'}
    assert result_unverifiable(host, ['network_connection', 'backend_tokens', 'ocpp_result', 'undefined']) == [
        line, 'other']
