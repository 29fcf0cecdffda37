"""Vault options: argspec, no_log, environment fallbacks, clear configuration errors (no server needed)."""

from __future__ import annotations

import pytest

from ansible_collections.evcs.provisioning.plugins.module_utils import vault


def test_secret_options_are_no_log():
    spec = vault.vault_argument_spec()
    assert spec['vault_token']['no_log'] and spec['vault_secret_id']['no_log']
    assert spec['vault_validate_certs']['default'] is True
    assert spec['vault_auth_method']['choices'] == ['token', 'approle', 'cert']


@pytest.mark.parametrize('variable', ['VAULT_ADDR', 'BAO_ADDR'])
def test_url_from_environment(monkeypatch, variable):
    for name in ('VAULT_ADDR', 'BAO_ADDR'):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, 'https://vault.example.net:8200')
    assert vault.vault_setting({}, 'vault_url') == 'https://vault.example.net:8200'
    assert vault.vault_setting({'vault_url': 'https://explicit:8200'}, 'vault_url') == 'https://explicit:8200'


def test_vault_prefix_wins_over_bao(monkeypatch):
    monkeypatch.setenv('VAULT_TOKEN', 'from-vault')
    monkeypatch.setenv('BAO_TOKEN', 'from-bao')
    assert vault.vault_setting({}, 'vault_token') == 'from-vault'


def test_missing_url_names_the_fix(monkeypatch):
    for name in ('VAULT_ADDR', 'BAO_ADDR'):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(vault.VaultError, match='VAULT_ADDR'):
        vault.vault_client({})


def test_validate_certs_false_warns(monkeypatch):
    warnings = []
    assert vault._verify({'vault_validate_certs': False}, warnings.append) is False
    assert 'not verified' in warnings[0]


def test_approle_without_secret_id_is_refused(monkeypatch):
    monkeypatch.delenv('VAULT_TOKEN', raising=False)
    with pytest.raises(vault.VaultError, match='vault_secret_id'):
        vault.vault_client({'vault_url': 'http://127.0.0.1:1', 'vault_auth_method': 'approle', 'vault_role_id': 'x',
                            'vault_retries': 0})


def test_vault_token_from_the_environment_only_when_the_inventory_says_so(monkeypatch):
    """Issue 17: a VAULT_TOKEN left in the operator's shell is not used unless vault_token_from_env is true."""
    monkeypatch.setenv('VAULT_TOKEN', 'from-the-shell')
    params = {'vault_url': 'https://127.0.0.1:1', 'vault_auth_method': 'token', 'vault_retries': 0}
    with pytest.raises(vault.VaultError, match='vault_token_from_env'):
        vault.vault_client(params)
    assert vault.vault_client(dict(params, vault_token_from_env=True)).token == 'from-the-shell'
    assert vault.vault_client(dict(params, vault_token='given')).token == 'given'
