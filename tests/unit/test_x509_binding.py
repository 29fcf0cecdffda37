"""A certificate names exactly its station: the CSR check before Vault and the issued-certificate check after it
(issue 17, item 1)."""

from __future__ import annotations

import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.evcs.provisioning.plugins.module_utils import x509 as certs

NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def _name(*cns, org='Operator'):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)]
                     + [x509.NameAttribute(NameOID.COMMON_NAME, cn) for cn in cns])


def _csr(*cns, key=None, extensions=()):
    key = key or ec.generate_private_key(ec.SECP256R1())
    builder = x509.CertificateSigningRequestBuilder().subject_name(_name(*(cns or ('CP-1',))))
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(key, None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256())


def test_a_csr_naming_exactly_the_station_passes():
    usage = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])
    assert certs.csr_problems(_csr(extensions=[usage]), 'CP-1', 'Operator') == []


def test_two_common_names_are_refused_whichever_comes_first():
    for names in (('CP-1', 'CP-2'), ('CP-2', 'CP-1')):
        problems = certs.csr_problems(_csr(*names), 'CP-1', 'Operator')
        assert any('exactly one CN' in problem for problem in problems), problems


@pytest.mark.parametrize('name', [x509.DNSName('CP-2'), x509.DNSName('csms.example.net'),
                                  x509.IPAddress(ipaddress.ip_address('10.0.0.1')),
                                  x509.UniformResourceIdentifier('urn:station:CP-2')])
def test_any_subject_alternative_name_is_refused(name):
    problems = certs.csr_problems(_csr(extensions=[x509.SubjectAlternativeName([name])]), 'CP-1', 'Operator')
    assert any('subject alternative names' in problem for problem in problems), problems


def test_an_extension_outside_the_policy_is_refused():
    problems = certs.csr_problems(_csr(extensions=[x509.OCSPNoCheck()]), 'CP-1', 'Operator')
    assert any('extensions the policy does not allow' in problem for problem in problems), problems


@pytest.mark.parametrize('key', [ec.generate_private_key(ec.SECP521R1()), ed25519.Ed25519PrivateKey.generate()])
def test_key_types_outside_the_policy_are_refused(key):
    assert certs.csr_problems(_csr(key=key), 'CP-1', 'Operator') != []


@pytest.fixture(scope='module')
def issuing():
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name('Issuing CA', org='Test')
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(NOW - DAY).not_valid_after(NOW + 3650 * DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True).sign(key, hashes.SHA256()))
    return cert, key


def _issued(issuing, subject, public_key, sans=(), days=90, issuer_key=None):
    cert, key = issuing
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(cert.subject).public_key(public_key)
               .serial_number(x509.random_serial_number()).not_valid_before(NOW - DAY)
               .not_valid_after(NOW - DAY + days * DAY))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


def test_an_issued_certificate_that_names_exactly_the_station_passes(issuing):
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    assert certs.issued_problems(_issued(issuing, _name('CP-1'), key), 'CP-1', key, issuing[0], NOW) == []


def test_issued_certificate_checks_cn_sans_key_issuer_and_validity(issuing):
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    other = ec.generate_private_key(ec.SECP256R1())
    cases = {
        'not exactly the station id': _issued(issuing, _name('CP-2'), key),
        'subject alternative names': _issued(issuing, _name('CP-1'), key, sans=[x509.DNSName('CP-2')]),
        'not by the issuing CA': _issued(issuing, _name('CP-1'), key, issuer_key=other),
        'not valid now': _issued(issuing, _name('CP-1'), key, days=1),
    }
    for expected, cert in cases.items():
        problems = certs.issued_problems(cert, 'CP-1', key, issuing[0], NOW)
        assert any(expected in problem for problem in problems), (expected, problems)
    wrong_key = certs.issued_problems(_issued(issuing, _name('CP-1'), other.public_key()), 'CP-1', key, issuing[0], NOW)
    assert any("public key is not the one of the station's CSR" in problem for problem in wrong_key)
    too_long = certs.issued_problems(_issued(issuing, _name('CP-1'), key, days=800), 'CP-1', key, issuing[0], NOW,
                                     max_days=400)
    assert any('more than the 400 days' in problem for problem in too_long)
