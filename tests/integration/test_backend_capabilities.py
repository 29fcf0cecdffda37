"""Stages run against a backend that lacks capabilities: they report "not verifiable with backend ..." as a warning
and in the result's ``unverifiable``, do all the rest, never report drift for it, never fail or traceback.

The backend is the lab's real reference CSMS reached through a backend that declares fewer capabilities (as a CSMS
product without them would), registered for the test only; the stages run in-process with the modules' own argument
specs.
"""

from __future__ import annotations

import uuid

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.evcs.provisioning.plugins.module_utils import local_list, network_profile, records
from ansible_collections.evcs.provisioning.plugins.module_utils.context import RunContext
from ansible_collections.evcs.provisioning.plugins.module_utils.csms import registry
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CAPABILITIES
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.reference import ReferenceCsms

pytestmark = pytest.mark.integration


class ForgetfulCsms(ReferenceCsms):
    """The reference API, seen through a backend that keeps no network profiles, no local lists, no id tokens and no
    station asset metadata."""

    NAME = 'forgetful'
    CAPABILITIES = frozenset(CAPABILITIES) - {'network_profile_memory', 'local_list', 'id_tokens', 'record_fields'}

    def record_fields(self, kind):
        fields = super(ForgetfulCsms, self).record_fields(kind)
        return fields - {'asset'} if kind == 'station' else fields


@pytest.fixture
def forgetful(lab, monkeypatch):
    monkeypatch.setitem(registry.BY_NAME, ForgetfulCsms.NAME, ForgetfulCsms)
    csms = lab['csms']
    return {'csms_backend': ForgetfulCsms.NAME, 'csms_url': csms['api_url'], 'csms_token': csms['api_token'],
            'csms_ca_path': csms['ca_cert']}


def _params(spec, connection, **arguments):
    """The module's parameters; the test backend is not among the argspec's choices, so it is set after validation."""
    validation = ArgumentSpecValidator(spec).validate(dict(connection, csms_backend='reference', **arguments))
    assert not validation.error_messages, validation.error_messages
    return dict(validation.validated_parameters, csms_backend=connection['csms_backend'])


def test_station_fields_the_backend_does_not_keep_are_reported_once_and_never_drift(forgetful):
    station_id = 'CAP-%s' % uuid.uuid4().hex[:6].upper()
    params = _params(records.station_record_argument_spec(), forgetful, station_id=station_id,
                     serial_number='SN-' + station_id, vendor='evcs-tests', model='Cap',
                     asset={'installer': 'Installer GmbH', 'warranty_start': '2026-01-01'})
    first_context = RunContext()
    first = records.run_station(params, first_context)
    assert first['changed'] and first['operation'] == 'create'
    assert 'asset' not in first['station'], 'a field the backend does not keep is not written'
    assert first_context.unverifiable == [
        'not verifiable with backend forgetful: station %s: backend forgetful cannot keep every field of the '
        "collection's records (it keeps no asset)" % station_id]
    assert first_context.warnings == first_context.unverifiable
    again_context = RunContext(check_mode=True, diff=True)
    again = records.run_station(params, again_context)
    assert not again['changed'] and again['diff'] == {'before': {}, 'after': {}}, 'reported, never drift'
    assert again_context.unverifiable == first_context.unverifiable
    ReferenceCsms(forgetful['csms_url'], forgetful['csms_token'], forgetful['csms_ca_path']).delete_record(
        'station', station_id)


def test_id_tokens_and_local_list_without_the_capability_are_reported_and_nothing_fails(forgetful, lab):
    station_id = lab['simulator']['stations'][0]
    params = _params(local_list.id_tokens_argument_spec(), forgetful, group='cap-group', station_id=station_id,
                     tokens=[{'id_token': 'CAP-A1'}], local_list=True)
    context = RunContext()
    result = local_list.run_id_tokens(params, context)
    assert result['changed'] is False and 'id_tokens' not in result and 'local_list' not in result
    assert context.unverifiable == [
        'not verifiable with backend forgetful: id-token records of group cap-group: backend forgetful cannot keep '
        'id-token records',
        'not verifiable with backend forgetful: local list of station %s: backend forgetful cannot send a local '
        'authorization list and remember the version it sent' % station_id]
    assert ReferenceCsms(forgetful['csms_url'], forgetful['csms_token'], forgetful['csms_ca_path']).find_records(
        'id_token', group='cap-group') == []


def test_a_network_profile_without_memory_is_left_alone_in_use_and_planned_once_elsewhere(forgetful, lab):
    station_id = lab['simulator']['stations'][0]
    backend = ForgetfulCsms(forgetful['csms_url'], forgetful['csms_token'], ca_path=forgetful['csms_ca_path'])
    answer = backend.call(station_id, 'GetVariables', {'getVariableData': [
        {'component': {'name': 'OCPPCommCtrlr'}, 'variable': {'name': 'NetworkConfigurationPriority'}}]})
    in_use = int(answer['getVariableResult'][0]['attributeValue'].split(',')[0])
    url = lab['csms']['ws_urls']['1']
    params = _params(network_profile.network_profile_argument_spec(), forgetful, station_id=station_id, slot=in_use,
                     ocpp_csms_url=url, security_profile=1)
    context = RunContext(check_mode=True, diff=True)
    kept = network_profile.run_network_profile(params, context)
    assert kept['changed'] is False and kept['profile_changed'] is False
    assert context.unverifiable == [
        'not verifiable with backend forgetful: the network profile of slot %d of station %s: backend forgetful cannot '
        'remember the network connection profiles a station accepted' % (in_use, station_id)]
    other = in_use + 1
    planned_context = RunContext(check_mode=True, diff=True)
    planned = network_profile.run_network_profile(dict(params, slot=other), planned_context)
    assert planned['profile_changed'] is True and planned['diff']['after']['slot %d' % other]['ocppCsmsUrl'] == url
    assert len(planned_context.unverifiable) == 1

