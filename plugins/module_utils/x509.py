# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure X.509 helpers: parsing, OCPP certificate hash data, CSR policy, and the one (re)enrollment decision.

Nothing here talks to a network; every function takes certificates and a clock and returns data, so the
decisions are unit tested with certificates made in the tests.
"""

from __future__ import annotations

import datetime
import hashlib
import re

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509 import ocsp
    from cryptography.x509.oid import ExtensionOID, NameOID
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - reported by the callers
    HAS_CRYPTOGRAPHY = False

_PEM_CERT = re.compile(r'-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----', re.DOTALL)

#: defaults of the renewal window
RENEW_BEFORE_DAYS = 30
RENEW_AT_FRACTION = 2.0 / 3.0

#: key policy: allowed EC curves and the smallest RSA modulus
EC_CURVES = ('secp256r1', 'secp384r1')
RSA_MIN_BITS = 2048


def _bytes(data):
    return data.encode('ascii') if isinstance(data, str) else bytes(data)


def load_certificate(data):
    """One certificate from PEM (str or bytes) or DER bytes; ValueError when it is neither."""
    raw = _bytes(data)
    if b'-----BEGIN' in raw:
        return x509.load_pem_x509_certificate(raw)
    return x509.load_der_x509_certificate(raw)


def load_certificates(pem_text):
    """Every certificate of a PEM bundle, in order."""
    return [x509.load_pem_x509_certificate(block.encode('ascii'))
            for block in _PEM_CERT.findall(pem_text if isinstance(pem_text, str) else pem_text.decode('ascii'))]


def load_csr(data):
    raw = _bytes(data)
    if b'-----BEGIN' in raw:
        return x509.load_pem_x509_csr(raw)
    return x509.load_der_x509_csr(raw)


def to_pem(certificate):
    return certificate.public_bytes(serialization.Encoding.PEM).decode('ascii')


def ocpp_serial(serial_number):
    """OCPP spelling of a serial number: lowercase hex without leading zeros."""
    return format(serial_number, 'x')


def vault_serial(serial_number):
    """Vault spelling of a serial number: lowercase hex byte pairs joined by colons."""
    text = format(serial_number, 'x')
    if len(text) % 2:
        text = '0' + text
    return ':'.join(text[i:i + 2] for i in range(0, len(text), 2))


def spki_der(public_key):
    """The DER SubjectPublicKeyInfo of ``public_key`` (compares keys whatever their type)."""
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def hash_data(certificate, issuer):
    """OCPP CertificateHashDataType of ``certificate`` issued by ``issuer`` (the certificate itself when self-signed).

    OCPP takes RFC 6960's CertID: SHA256 over the DER of the issuer's Name and over the issuer's public key (the value
    of the subjectPublicKey BIT STRING), and the serial number, here in lowercase hex without leading zeros. It is built
    with cryptography's OCSP request builder, which computes exactly that CertID.
    """
    request = ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, hashes.SHA256()).build()
    return {
        'hashAlgorithm': 'SHA256',
        'issuerNameHash': request.issuer_name_hash.hex(),
        'issuerKeyHash': request.issuer_key_hash.hex(),
        'serialNumber': ocpp_serial(request.serial_number),
    }


def hash_keys(certificate, issuer):
    """Every key (see ``hash_key``) a station may report for ``certificate``: the RFC 6960 form the collection sends,
    and the form some stations report, whose issuerKeyHash is taken over the whole DER SubjectPublicKeyInfo."""
    data = hash_data(certificate, issuer)
    spki_style = dict(data, issuerKeyHash=hashlib.sha256(spki_der(issuer.public_key())).hexdigest())
    return {hash_key(data), hash_key(spki_style)}


def hash_key(data):
    """A comparable key of hash data (case of the hex digits and the serial's leading zeros ignored)."""
    return (data['hashAlgorithm'], data['issuerNameHash'].lower(), data['issuerKeyHash'].lower(),
            data['serialNumber'].lower().lstrip('0') or '0')


def issuer_of(certificate, candidates):
    """The certificate among ``candidates`` that signed ``certificate`` (itself when self-signed), or None."""
    for candidate in list(candidates) + [certificate]:
        if candidate.subject == certificate.issuer and signed_by(certificate, candidate):
            return candidate
    return None


def signed_by(certificate, issuer):
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def name_attribute(name, oid):
    values = name.get_attributes_for_oid(oid)
    return values[0].value if values else None


def common_name(name):
    return name_attribute(name, NameOID.COMMON_NAME)


def organization(name):
    return name_attribute(name, NameOID.ORGANIZATION_NAME)


def _key_problem(public_key, policy):
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        curves = policy.get('ec_curves') or EC_CURVES
        if public_key.curve.name not in curves:
            return 'EC key on curve %s; allowed curves: %s' % (public_key.curve.name, ', '.join(curves))
        return None
    if isinstance(public_key, rsa.RSAPublicKey):
        minimum = policy.get('rsa_min_bits') or RSA_MIN_BITS
        if public_key.key_size < minimum:
            return 'RSA key of %d bits; at least %d bits are required' % (public_key.key_size, minimum)
        return None
    return 'key type %s; only EC (%s) or RSA keys are allowed' % (
        type(public_key).__name__, ', '.join(policy.get('ec_curves') or EC_CURVES))


#: CSR extensions a station may ask for: they describe its key, never a name (the PKI role sets key usage itself)
CSR_EXTENSIONS = ('keyUsage', 'extendedKeyUsage', 'basicConstraints', 'subjectKeyIdentifier')


def _extension_names(extensions):
    return [getattr(extension.oid, '_name', None) or extension.oid.dotted_string for extension in extensions]


#: how messages name what the CSR's CN and O must be (OCPP 2.0.1; a 1.6 station names its serial and CpoName)
CSR_LABELS = {'identity': 'the station id (SecurityCtrlr.Identity on the station)',
              'organization': 'SecurityCtrlr.OrganizationName on the station'}


def csr_problems(csr, station_id, organization_name, policy=None, labels=None):
    """What makes the station's CSR unacceptable, as a list of sentences (empty when it may be signed).

    The CSR must name exactly the station: one CN equal to ``station_id`` (the station's identity: its station id, a
    1.6 station's serial number), no subject alternative name, no extension beyond ``CSR_EXTENSIONS`` and a key the
    policy allows, so that nothing a PKI role might copy from a CSR can name another station, a host or an address.
    ``labels`` names the identity and organization in the sentences (default ``CSR_LABELS``).
    """
    labels = dict(CSR_LABELS, **(labels or {}))
    problems = []
    if not csr.is_signature_valid:
        problems.append('the CSR signature does not verify with its own public key')
    names = [attribute.value for attribute in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if names != [station_id]:
        problems.append('subject CN is %s, expected exactly one CN, %r: %s' % (
            ', '.join(repr(name) for name in names) or 'missing', station_id, labels['identity']))
    try:
        extensions = list(csr.extensions)
    except ValueError as exc:
        extensions = []
        problems.append('the CSR extensions cannot be parsed (%s)' % exc)
    names = _extension_names(extensions)
    if 'subjectAltName' in names:
        requested = csr.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
        problems.append('the CSR asks for subject alternative names (%s); a station certificate names the station in '
                        'its CN only' % ', '.join(str(name.value) for name in requested))
    extra = [name for name in names if name not in CSR_EXTENSIONS and name != 'subjectAltName']
    if extra:
        problems.append('the CSR asks for extensions the policy does not allow: %s (allowed: %s)'
                        % (', '.join(extra), ', '.join(CSR_EXTENSIONS)))
    if organization_name is not None and organization(csr.subject) != organization_name:
        problems.append('subject O is %r, expected %r (%s)' % (organization(csr.subject), organization_name,
                                                               labels['organization']))
    key_problem = _key_problem(csr.public_key(), policy or {})
    if key_problem:
        problems.append(key_problem)
    return problems


def issued_problems(certificate, station_id, public_key, issuer, now, max_days=None):
    """What makes a certificate the PKI just issued unfit to install, as sentences (empty when it names exactly the
    station): one CN equal to the station id, no subject alternative name, the CSR's public key (None in factory
    mode), issued and signed by ``issuer``, valid now and not longer than ``max_days`` (None: no cap)."""
    problems = []
    names = [attribute.value for attribute in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if names != [station_id]:
        problems.append('issued CN is %s, not exactly the station id %r' % (', '.join(repr(n) for n in names), station_id))
    try:
        san = certificate.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    except x509.ExtensionNotFound:
        san = None
    if san is not None:
        problems.append('issued certificate carries subject alternative names (%s)' % ', '.join(str(n.value) for n in san))
    if public_key is not None and spki_der(certificate.public_key()) != spki_der(public_key):
        problems.append('issued public key is not the one of the station\'s CSR')
    if certificate.issuer != issuer.subject or not signed_by(certificate, issuer):
        problems.append('issued by %s, not by the issuing CA %s'
                        % (certificate.issuer.rfc4514_string(), issuer.subject.rfc4514_string()))
    not_before, not_after = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    if not not_before - datetime.timedelta(minutes=5) <= now < not_after:
        problems.append('not valid now (valid %s to %s)' % (_rfc3339(not_before), _rfc3339(not_after)))
    if max_days is not None and not_after - not_before > datetime.timedelta(days=max_days, minutes=5):
        problems.append('valid for %d days, more than the %d days allowed' % ((not_after - not_before).days, max_days))
    return problems


def issued_organization_problem(certificate, organization_name):
    """Why a certificate the PKI just issued does not carry the wanted subject O, or None (also when no O is wanted).

    A Vault/OpenBao PKI role fixes the subject O whatever the CSR asks for: a certificate from the wrong role has
    another O, and would be re-enrolled on every run.
    """
    if organization_name is None:
        return None
    issued = organization(certificate.subject)
    if issued == organization_name:
        return None
    return 'issued subject O=%r, wanted O=%r' % (issued, organization_name)


def certificate_facts(certificate, now):
    """What modules return about a certificate (never key material)."""
    not_after = certificate.not_valid_after_utc
    return {
        'serial': ocpp_serial(certificate.serial_number),
        'subject': certificate.subject.rfc4514_string(),
        'organization': organization(certificate.subject),
        'issuer': certificate.issuer.rfc4514_string(),
        'not_before': _rfc3339(certificate.not_valid_before_utc),
        'not_after': _rfc3339(not_after),
        'days_left': int((not_after - now).total_seconds() // 86400),
        'fingerprint_sha256': certificate.fingerprint(hashes.SHA256()).hex(),
    }


def _rfc3339(moment):
    return moment.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def is_revoked(certificate, crl=None, revoked_serials=()):
    """Whether ``certificate`` is on ``crl`` or its serial number among ``revoked_serials`` (as Vault reports them)."""
    if certificate.serial_number in revoked_serials:
        return True
    return crl is not None and crl.get_revoked_certificate_by_serial_number(certificate.serial_number) is not None


def _renewal_due(certificate, wanted, now):
    not_before, not_after = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    if not_after <= now:
        return 'the certificate expired on %s' % _rfc3339(not_after)
    renew_before = wanted.get('renew_before') or datetime.timedelta(days=RENEW_BEFORE_DAYS)
    if not_after - now <= renew_before:
        return 'the certificate expires on %s, within renew_before (%d days)' % (_rfc3339(not_after), renew_before.days)
    fraction = wanted.get('renew_at_fraction') or RENEW_AT_FRACTION
    if now >= not_before + (not_after - not_before) * fraction:
        return 'the certificate is past %d%% of its lifetime' % round(fraction * 100)
    return None


def _identity_differs(certificate, wanted):
    for label, actual, expected in (('CN', common_name(certificate.subject), wanted.get('common_name')),
                                    ('O', organization(certificate.subject), wanted.get('organization'))):
        if expected is not None and actual != expected:
            return 'subject %s is %r, wanted %r' % (label, actual, expected)
    issuer = wanted.get('issuer')
    if issuer is not None and certificate.issuer != issuer.subject:
        return 'issued by %s, wanted %s' % (certificate.issuer.rfc4514_string(), issuer.subject.rfc4514_string())
    if issuer is not None and not signed_by(certificate, issuer):
        return 'the issuing CA was rotated: the certificate does not chain to the current issuing CA'
    return None


_DURATION_PART = re.compile(r'(\d+)([smhd]?)')
_DURATION_UNITS = {'': 1, 's': 1, 'm': 60, 'h': 3600, 'd': 86400}


def vault_duration(text):
    """A Vault duration (``720h``, ``30d``, ``1h30m``, ``3600``) as a timedelta, or None when it is not one."""
    text = str(text).strip()
    if not text or not re.fullmatch(r'(?:\d+[smhd]?)+', text):
        return None
    return datetime.timedelta(seconds=sum(int(number) * _DURATION_UNITS[unit] for number, unit in _DURATION_PART.findall(text)))


def renewal_window_problem(renew_before, lifetime):
    """Why certificates of ``lifetime`` would be renewed on every run with ``renew_before`` (timedeltas), or None."""
    if lifetime is None or renew_before is None or renew_before < lifetime:
        return None
    return ('renew_before (%d days) is not shorter than the certificate lifetime (%s): every run would re-enroll the '
            'station and write a new certificate and Vault record' % (renew_before.days, _days(lifetime)))


def _days(delta):
    return '%d days' % delta.days if delta.days else '%d hours' % (delta.seconds // 3600)


def needs_enrollment(current_cert, wanted, now):
    """Whether the station must get a new certificate, and why: ``(bool, reason)``.

    ``wanted`` keys (all optional): ``common_name``, ``organization``, ``issuer`` (the current issuing CA
    certificate), ``crl`` (its CRL) and/or ``revoked_serials`` (serial numbers known revoked), ``renew_before``
    (timedelta), ``renew_at_fraction`` (0..1), ``force``.
    """
    if wanted.get('force'):
        return True, 'force=true'
    if current_cert is None:
        return True, 'the station has no certificate'
    if is_revoked(current_cert, wanted.get('crl'), wanted.get('revoked_serials') or ()):
        return True, 'serial %s is revoked' % ocpp_serial(current_cert.serial_number)
    reason = _identity_differs(current_cert, wanted) or _renewal_due(current_cert, wanted, now)
    if reason:
        return True, reason
    return False, 'the certificate is valid until %s and matches' % _rfc3339(current_cert.not_valid_after_utc)
