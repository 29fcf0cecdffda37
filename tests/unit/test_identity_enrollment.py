"""Enrollment under an organization: a certificate with the wrong subject O is revoked and never installed, and the
replaced certificate is revoked with revoke_previous (station_certificate, module_utils/identity.py)."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.evcs.provisioning.plugins.module_utils import identity
from ansible_collections.evcs.provisioning.plugins.module_utils import x509 as certs
from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure, RunContext

NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)
STATION = 'OWN-CP-1'
OLD_O, NEW_O = 'EVCS Lab Operator', 'EVCS Partner Operator'


def _name(cn, org=None):
    return x509.Name(([x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)] if org else [])
                     + [x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _sign(subject, public_key, issuer, issuer_key, not_before, ca=False):
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
            .serial_number(x509.random_serial_number()).not_valid_before(not_before)
            .not_valid_after(not_before + 90 * DAY)
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(issuer_key, hashes.SHA256()))


class _Client(object):
    """The PKI calls of one mount, as VaultPki makes them; the role fixes O like an OpenBao role does."""

    mount = 'pki_lab'

    def __init__(self, role_organization):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.ca = _sign(_name('Issuing CA', 'Lab'), self.key.public_key(), _name('Issuing CA', 'Lab'), self.key,
                        NOW - 100 * DAY, ca=True)
        self.role_organization = role_organization
        self.issued = {}
        self.revoked = []

    def issue_certificate(self, cn, public_key, not_before=None):
        cert = _sign(_name(cn, self.role_organization), public_key, self.ca.subject, self.key,
                     not_before or NOW - DAY)
        self.issued[cert.serial_number] = cert
        return cert

    def sign(self, role, csr_pem, common_name, ttl=None, settled=None):
        cert = self.issue_certificate(common_name, x509.load_pem_x509_csr(csr_pem.encode()).public_key(), NOW)
        return {'certificate': certs.to_pem(cert), 'issuing_ca': certs.to_pem(self.ca),
                'serial_number': certs.vault_serial(cert.serial_number)}

    def revoke(self, serial):
        self.revoked.append(serial)


class _Pki(object):
    """identity._Pki without Vault: the mount's certificates in memory, no KV record."""

    def __init__(self, client, last_signed=None):
        self.client = client
        self.role = 'charging-station'
        self.issuer = client.ca
        self._last = last_signed

    @property
    def revoked_serials(self):
        return set(int(serial.replace(':', ''), 16) for serial in self.client.revoked)

    def last_signed(self, station_id):
        return self._last

    def check_revocation(self, certificate):
        pass

    def issued_status(self, certificate):
        if self.client.issued.get(certificate.serial_number) != certificate:
            return None
        return 'revoked' if certificate.serial_number in self.revoked_serials else 'valid'

    def remember(self, certificate):
        self._last = certificate

    def chain_pem(self, answer):
        return answer['certificate'] + answer['issuing_ca']


class _Csms(object):
    """A station behind the CSMS: OrganizationName, a key of its own, the certificate it presents."""

    def __init__(self, presented):
        self.organization = OLD_O
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.presented = presented
        self.csr = None
        self.calls = []

    def connection(self, station_id):
        return {'online': True, 'client_certificate': certs.to_pem(self.presented)}

    @staticmethod
    def has(capability):
        return True

    @staticmethod
    def now():
        return '2026-01-01T00:00:00.000Z'

    def wait_for_message(self, station_id, action, since, timeout, request_id=None):
        assert action == 'SignCertificate' and self.csr is not None
        return [{'action': action, 'received_at': 'later', 'payload': self.csr}]

    def call(self, station_id, action, payload):
        self.calls.append((action, payload))
        if action == 'GetVariables':
            return {'getVariableResult': [{'attributeStatus': 'Accepted', 'attributeValue': self.organization}]}
        if action == 'SetVariables':
            self.organization = payload['setVariableData'][0]['attributeValue']
            return {'setVariableResult': [{'attributeStatus': 'Accepted'}]}
        if action == 'TriggerMessage':
            csr = (x509.CertificateSigningRequestBuilder().subject_name(_name(STATION, self.organization))
                   .sign(self.key, hashes.SHA256()))
            self.csr = {'csr': csr.public_bytes(serialization.Encoding.PEM).decode()}
            return {'status': 'Accepted'}
        if action == 'CertificateSigned':
            self.presented = certs.load_certificates(payload['certificateChain'])[0]
            return {'status': 'Accepted'}
        raise AssertionError('unexpected call %s' % action)


def _params(**extra):
    params = dict(station_id=STATION, organization=NEW_O, ttl=None, renew_before=30, renew_at_fraction=0.6667,
                  force=False, revoke_previous=False, key_policy={}, csr_timeout=5)
    params.update(extra)
    return params


def _setup(monkeypatch, role_organization):
    """A station holding a certificate for OLD_O from the mount, whose role now issues ``role_organization``."""
    client = _Client(OLD_O)
    old = client.issue_certificate(STATION, ec.generate_private_key(ec.SECP256R1()).public_key())
    client.role_organization = role_organization
    csms = _Csms(old)
    monkeypatch.setattr(identity, 'task_backend', lambda params, context: csms)
    return client, _Pki(client, last_signed=old), csms, old


# -- the pure check --------------------------------------------------------------------------------------------
def test_issued_organization_problem():
    client = _Client(OLD_O)
    cert = client.issue_certificate(STATION, client.key.public_key())
    assert certs.issued_organization_problem(cert, OLD_O) is None
    assert certs.issued_organization_problem(cert, None) is None
    assert certs.issued_organization_problem(cert, NEW_O) == "issued subject O='%s', wanted O='%s'" % (OLD_O, NEW_O)
    no_o = _sign(_name(STATION), client.key.public_key(), client.ca.subject, client.key, NOW)
    assert certs.issued_organization_problem(no_o, NEW_O) == "issued subject O=None, wanted O='%s'" % NEW_O


def test_certificate_facts_name_the_organization():
    client = _Client(NEW_O)
    facts = certs.certificate_facts(client.issue_certificate(STATION, client.key.public_key()), NOW)
    assert facts['organization'] == NEW_O and 'O=%s' % NEW_O in facts['subject']


# -- enrollment ------------------------------------------------------------------------------------------------
def test_role_issuing_another_organization_is_revoked_and_never_installed(monkeypatch):
    client, pki, csms, old = _setup(monkeypatch, role_organization=OLD_O)

    with pytest.raises(ModuleFailure) as failure:
        identity._present_on_station(_params(), RunContext(), pki, NOW)

    message = str(failure.value)
    assert STATION in message and 'pki_lab/sign/charging-station' in message
    assert "issued subject O='%s', wanted O='%s'" % (OLD_O, NEW_O) in message
    assert "evcs_vault.station_roles['%s']" % NEW_O in message
    assert failure.value.details['kind'] == 'organization_mismatch'
    assert len(client.revoked) == 1 and client.revoked[0] != certs.vault_serial(old.serial_number)
    assert 'CertificateSigned' not in [action for action, _payload in csms.calls]
    assert csms.presented == old
    # the station keeps its certificate, and the organization it names
    assert csms.organization == OLD_O and "SecurityCtrlr.OrganizationName '%s' (set back)" % OLD_O in message


def test_matching_role_enrolls_and_revokes_the_previous_certificate(monkeypatch):
    client, pki, csms, old = _setup(monkeypatch, role_organization=NEW_O)

    result = identity._present_on_station(_params(revoke_previous=True), RunContext(), pki, NOW)

    assert result['changed'] and result['action'] == 'renewed' and "wanted '%s'" % NEW_O in result['reason']
    assert result['organization_before'] == OLD_O and csms.organization == NEW_O
    assert certs.organization(csms.presented.subject) == NEW_O
    assert result['certificate']['organization'] == NEW_O
    assert result['revoked'] == [certs.ocpp_serial(old.serial_number)]
    assert client.revoked == [certs.vault_serial(old.serial_number)]

    again = identity._present_on_station(_params(revoke_previous=True), RunContext(), pki, NOW)
    assert not again['changed'] and 'revoked' not in again and len(client.revoked) == 1


def test_check_mode_names_what_would_be_revoked_and_changes_nothing(monkeypatch):
    client, pki, csms, old = _setup(monkeypatch, role_organization=NEW_O)

    result = identity._present_on_station(_params(revoke_previous=True), RunContext(check_mode=True), pki, NOW)

    assert result['changed'] and result['revoked'] == [certs.ocpp_serial(old.serial_number)]
    assert 'O=%s' % NEW_O in result['diff']['after']['certificate']
    assert result['diff']['before']['organization_name'] == OLD_O and result['diff']['after']['organization_name'] == NEW_O
    assert result['diff']['after']['revoked'] == [certs.ocpp_serial(old.serial_number)]
    assert client.revoked == [] and csms.presented == old and csms.organization == OLD_O
    assert [action for action, _payload in csms.calls] == ['GetVariables']


def test_a_replaced_certificate_of_another_pki_is_not_revoked_but_reported(monkeypatch):
    client, pki, csms, old = _setup(monkeypatch, role_organization=NEW_O)
    foreign = _Client(OLD_O).issue_certificate(STATION, ec.generate_private_key(ec.SECP256R1()).public_key(),
                                               NOW - 2 * DAY)
    csms.presented = foreign
    context = RunContext()

    result = identity._present_on_station(_params(revoke_previous=True), context, pki, NOW)

    assert result['revoked'] == [certs.ocpp_serial(old.serial_number)]
    assert any('was not issued by Vault mount pki_lab' in warning for warning in context.warnings)
