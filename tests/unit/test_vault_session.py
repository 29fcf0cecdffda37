"""The Vault client retries reads, never a sign/issue blindly (issue 17, item 6)."""

from __future__ import annotations

import pytest
import requests

from ansible_collections.evcs.provisioning.plugins.module_utils import vault


class _Flaky(object):
    """Times out ``failures`` times although the write took effect the first time."""

    def __init__(self, failures):
        self.failures = failures
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls <= self.failures:
            raise requests.exceptions.Timeout('no answer')
        return {'data': {'serial_number': 'aa:%02d' % self.calls}}


def _session():
    return vault.VaultSession(client=None, retries=3, backoff=0)


def test_reads_are_retried():
    flaky = _Flaky(2)
    assert _session().call('read', 'read', 'p', flaky) == {'data': {'serial_number': 'aa:03'}}
    assert flaky.calls == 3


def test_a_sign_that_took_effect_is_found_not_repeated():
    flaky, looked = _Flaky(1), []

    def settled():
        looked.append(True)
        return {'data': {'serial_number': 'aa:01'}}
    answer = _session().call('write', 'update', 'pki/sign/r', flaky, settled=settled)
    assert answer == {'data': {'serial_number': 'aa:01'}} and flaky.calls == 1 and looked == [True]


def test_a_sign_that_did_not_take_effect_is_asked_again_after_looking():
    flaky, looked = _Flaky(1), []
    answer = _session().call('write', 'update', 'pki/sign/r', flaky, settled=lambda: looked.append(True))
    assert answer == {'data': {'serial_number': 'aa:02'}} and flaky.calls == 2 and looked == [True]


def test_without_a_way_to_find_out_a_sign_is_not_repeated():
    class _Client(object):
        def __init__(self):
            self.calls = 0

        def write_data(self, path, data):
            self.calls += 1
            raise requests.exceptions.Timeout('no answer')
    client = _Client()
    pki = vault.VaultPki(vault.VaultSession(client, retries=3, backoff=0), 'pki_lab')
    with pytest.raises(vault.VaultError, match='not repeated blindly'):
        pki.sign('charging-station', 'csr', 'CP-1')
    assert client.calls == 1
