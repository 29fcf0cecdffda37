"""The wss pre-check before a profile switch (issue 17, item 7): it verifies the host name and passes a profile-3
endpoint only on the alert by which a server asks for a client certificate. Before, host names were not checked and
any handshake failure counted as "asks for a client certificate"."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

from ansible_collections.evcs.provisioning.plugins.module_utils import security_profile


def _root(lab):
    return Path(lab["csms"]["root_ca_pem"]).read_text()


def test_profile_endpoints_pass_as_what_they_are(lab):
    urls = lab["csms"]["ws_urls"]
    assert security_profile.tls_chain_problem(urls["2"], _root(lab)) is None
    assert security_profile.tls_chain_problem(urls["3"], _root(lab), client_certificate=True) is None
    problem = security_profile.tls_chain_problem(urls["2"], _root(lab), client_certificate=True)
    assert "did not ask for a client certificate" in problem


def test_a_certificate_for_another_host_name_is_refused(lab, monkeypatch):
    port = urlsplit(lab["csms"]["ws_urls"]["3"]).port
    real = socket.create_connection
    monkeypatch.setattr(security_profile.socket, "create_connection",
                        lambda address, timeout=None: real(("127.0.0.1", address[1]), timeout=timeout))
    problem = security_profile.tls_chain_problem("wss://csms.attacker.example:%d/ocpp" % port, _root(lab),
                                                 client_certificate=True)
    assert problem and "does not name csms.attacker.example" in problem
