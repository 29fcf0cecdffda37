"""No secret over plain ws:// without consent (issue 17, item 4)."""

from __future__ import annotations

import pytest

from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure, RunContext
from ansible_collections.evcs.provisioning.plugins.module_utils.network_profile import secret_names
from ansible_collections.evcs.provisioning.plugins.module_utils.plaintext_secrets import CONSENT, guard_plaintext


def test_a_secret_to_a_profile_1_station_is_refused_without_consent():
    with pytest.raises(ModuleFailure, match='runs security profile 1 .* nothing was sent.*evcs_allow_plaintext_secrets'):
        guard_plaintext({'station_id': 'CP-1'}, RunContext(), 1, ['apn.apnPassword'])


def test_with_consent_it_warns_and_is_recorded():
    context = RunContext()
    assert guard_plaintext({'station_id': 'CP-1', 'allow_plaintext_secrets': True}, context, 1, ['x']) == CONSENT
    assert any('sent unencrypted' in warning for warning in context.warnings)


@pytest.mark.parametrize('profile, secrets', [(2, ['x']), (3, ['x']), (1, []), (None, ['x'])])
def test_encrypted_connections_or_no_secret_need_nothing(profile, secrets):
    assert guard_plaintext({'station_id': 'CP-1'}, RunContext(), profile, secrets) is None


def test_secret_names_of_a_connection_profile():
    data = {'apn': {'apn': 'internet', 'apnPassword': 'x', 'simPin': 1234}, 'vpn': {'server': 's', 'key': 'k'}}
    assert secret_names(data) == ['apn.apnPassword', 'apn.simPin', 'vpn.key']
    assert secret_names({'apn': {'apn': 'internet'}}) == []
