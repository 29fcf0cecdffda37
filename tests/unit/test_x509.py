"""x509 helpers: hash data against values computed independently here, CSR policy, the enrollment decision."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from ansible_collections.evcs.provisioning.plugins.module_utils import x509 as certs

NOW = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def _name(cn, org=None):
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)] if org else []
    return x509.Name(attributes + [x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject, key, issuer_name=None, issuer_key=None, not_before=NOW - 10 * DAY, days=365, serial=None, ca=False):
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name or subject)
               .public_key(key.public_key()).serial_number(serial or x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_before + days * DAY)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    return builder.sign(issuer_key or key, hashes.SHA256())


@pytest.fixture(scope='module')
def ca():
    key = ec.generate_private_key(ec.SECP256R1())
    return _cert(_name('Test Issuing CA', 'Test'), key, ca=True, days=3650), key


def _leaf(ca, cn='CP-1', org='Operator', **kwargs):
    ca_cert, ca_key = ca
    return _cert(_name(cn, org), ec.generate_private_key(ec.SECP256R1()), ca_cert.subject, ca_key, **kwargs)


def _csr(cn='CP-1', org='Operator', key=None):
    key = key or ec.generate_private_key(ec.SECP256R1())
    return x509.CertificateSigningRequestBuilder().subject_name(_name(cn, org)).sign(key, hashes.SHA256())


def _wanted(ca, **extra):
    wanted = {'common_name': 'CP-1', 'organization': 'Operator', 'issuer': ca[0]}
    wanted.update(extra)
    return wanted


# -- hash data ---------------------------------------------------------------------------------------------
def _spki(key):
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _key_bits(key):
    """The subjectPublicKey BIT STRING value, computed independently per key type (RFC 6960 hashes this)."""
    if isinstance(key, rsa.RSAPrivateKey):
        return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    return key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def test_hash_data_is_the_rfc6960_cert_id(ca):
    ca_cert, ca_key = ca
    leaf = _leaf(ca, serial=0x00ABCDEF)
    assert certs.hash_data(leaf, ca_cert) == {
        'hashAlgorithm': 'SHA256',
        'issuerNameHash': hashlib.sha256(ca_cert.subject.public_bytes()).hexdigest(),
        'issuerKeyHash': hashlib.sha256(_key_bits(ca_key)).hexdigest(),
        'serialNumber': 'abcdef',
    }


def test_hash_data_rsa_self_signed():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = _cert(_name('RSA Root'), key, ca=True, serial=0x0F00)
    data = certs.hash_data(root, root)
    assert data['issuerKeyHash'] == hashlib.sha256(_key_bits(key)).hexdigest()
    assert data['issuerKeyHash'] != hashlib.sha256(_spki(key)).hexdigest()
    assert data['serialNumber'] == 'f00'


@pytest.mark.parametrize('make_key', [
    lambda: ec.generate_private_key(ec.SECP256R1()),
    lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
])
def test_hash_keys_also_accept_the_spki_key_hash_some_stations_report(make_key):
    key = make_key()
    root = _cert(_name('Root'), key, ca=True)
    spki_style = {'hashAlgorithm': 'SHA256', 'issuerNameHash': hashlib.sha256(root.subject.public_bytes()).hexdigest(),
                  'issuerKeyHash': hashlib.sha256(_spki(key)).hexdigest(), 'serialNumber': format(root.serial_number, 'x')}
    assert certs.hash_keys(root, root) == {certs.hash_key(certs.hash_data(root, root)), certs.hash_key(spki_style)}


def test_hash_key_ignores_case_and_leading_zeros():
    a = {'hashAlgorithm': 'SHA256', 'issuerNameHash': 'AB', 'issuerKeyHash': 'CD', 'serialNumber': '00f'}
    b = {'hashAlgorithm': 'SHA256', 'issuerNameHash': 'ab', 'issuerKeyHash': 'cd', 'serialNumber': 'F'}
    assert certs.hash_key(a) == certs.hash_key(b)


def test_serial_spellings():
    assert certs.ocpp_serial(0x0A0B) == 'a0b'
    assert certs.vault_serial(0x0A0B) == '0a:0b'


def test_load_certificate_pem_and_der(ca):
    pem = certs.to_pem(ca[0])
    der = ca[0].public_bytes(serialization.Encoding.DER)
    assert certs.load_certificate(pem) == certs.load_certificate(der) == ca[0]
    assert certs.load_certificates(pem + pem) == [ca[0], ca[0]]


# -- CSR policy ---------------------------------------------------------------------------------------------
def test_csr_that_fits_policy_has_no_problems():
    assert certs.csr_problems(_csr(), 'CP-1', 'Operator') == []


def test_csr_with_wrong_cn_and_org_is_refused():
    problems = certs.csr_problems(_csr(cn='OTHER', org='Nope'), 'CP-1', 'Operator')
    assert any("CN is 'OTHER'" in p for p in problems)
    assert any("O is 'Nope'" in p for p in problems)


@pytest.mark.parametrize('key, ok', [
    (lambda: ec.generate_private_key(ec.SECP384R1()), True),
    (lambda: ec.generate_private_key(ec.SECP521R1()), False),
    (lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048), True),
    (lambda: rsa.generate_private_key(public_exponent=65537, key_size=1024), False),
])
def test_csr_key_policy(key, ok):
    assert (certs.csr_problems(_csr(key=key()), 'CP-1', 'Operator') == []) is ok


# -- the decision ----------------------------------------------------------------------------------------
def test_no_certificate_enrolls(ca):
    assert certs.needs_enrollment(None, _wanted(ca), NOW) == (True, 'the station has no certificate')


def test_fresh_matching_certificate_is_kept(ca):
    needed, reason = certs.needs_enrollment(_leaf(ca), _wanted(ca), NOW)
    assert not needed and 'matches' in reason


def test_force(ca):
    assert certs.needs_enrollment(_leaf(ca), _wanted(ca, force=True), NOW)[0]


def test_inside_renew_before(ca):
    needed, reason = certs.needs_enrollment(_leaf(ca, not_before=NOW - 340 * DAY), _wanted(ca), NOW)
    assert needed and 'renew_before' in reason


def test_past_fraction_of_lifetime(ca):
    leaf = _leaf(ca, not_before=NOW - 700 * DAY, days=1000)
    needed, reason = certs.needs_enrollment(leaf, _wanted(ca), NOW)
    assert needed and '67% of its lifetime' in reason
    assert not certs.needs_enrollment(leaf, _wanted(ca, renew_at_fraction=0.9), NOW)[0]


def test_expired(ca):
    needed, reason = certs.needs_enrollment(_leaf(ca, not_before=NOW - 400 * DAY), _wanted(ca), NOW)
    assert needed and 'expired' in reason


@pytest.mark.parametrize('field, value', [('common_name', 'CP-2'), ('organization', 'Other Operator')])
def test_subject_differs(ca, field, value):
    needed, reason = certs.needs_enrollment(_leaf(ca), _wanted(ca, **{field: value}), NOW)
    assert needed and 'subject' in reason


def test_issuer_differs(ca):
    other = _cert(_name('Other CA'), ec.generate_private_key(ec.SECP256R1()), ca=True)
    needed, reason = certs.needs_enrollment(_leaf(ca), _wanted(ca, issuer=other), NOW)
    assert needed and 'issued by' in reason


def test_issuing_ca_rotated_same_name(ca):
    rotated_key = ec.generate_private_key(ec.SECP256R1())
    rotated = _cert(ca[0].subject, rotated_key, ca=True)
    needed, reason = certs.needs_enrollment(_leaf(ca), _wanted(ca, issuer=rotated), NOW)
    assert needed and 'rotated' in reason


def test_revoked(ca):
    leaf = _leaf(ca)
    revoked = x509.RevokedCertificateBuilder().serial_number(leaf.serial_number).revocation_date(NOW - DAY).build()
    crl = (x509.CertificateRevocationListBuilder().issuer_name(ca[0].subject).last_update(NOW - DAY)
           .next_update(NOW + DAY).add_revoked_certificate(revoked).sign(ca[1], hashes.SHA256()))
    needed, reason = certs.needs_enrollment(leaf, _wanted(ca, crl=crl), NOW)
    assert needed and 'revoked' in reason


def test_revoked_as_vault_reports_it(ca):
    leaf = _leaf(ca)
    needed, reason = certs.needs_enrollment(leaf, _wanted(ca, revoked_serials={leaf.serial_number}), NOW)
    assert needed and 'revoked' in reason
    assert not certs.needs_enrollment(leaf, _wanted(ca, revoked_serials={leaf.serial_number + 1}), NOW)[0]


def test_certificate_facts(ca):
    leaf = _leaf(ca, not_before=NOW - 10 * DAY, days=40, serial=0x1F)
    facts = certs.certificate_facts(leaf, NOW)
    assert facts['serial'] == '1f'
    assert facts['days_left'] == 30
    assert facts['not_after'].endswith('Z')
    assert facts['fingerprint_sha256'] == leaf.fingerprint(hashes.SHA256()).hex()
