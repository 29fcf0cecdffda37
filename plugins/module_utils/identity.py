# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Station identity: client certificates from the Vault PKI (enrolled over OCPP or issued at the factory),
trust anchors, and read-only certificate facts.

Enrollment keeps the station's private key on the station: TriggerMessage(SignChargingStationCertificate)
makes it send a CSR to the CSMS, the CSR is checked against policy, Vault signs it, and CertificateSigned
installs the chain. ``x509.needs_enrollment`` alone decides whether any of that happens. A certificate whose subject
O is not the wanted organization (the PKI role fixes O) is revoked at once and never installed.
"""

from __future__ import annotations

import datetime
import os

from ansible_collections.evcs.provisioning.plugins.module_utils import x509 as certs
from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CapabilityMissing, CsmsError, StationTimeout
from ansible_collections.evcs.provisioning.plugins.module_utils.identifiers import checked_station_id, path_segment
from ansible_collections.evcs.provisioning.plugins.module_utils.station import security16
from ansible_collections.evcs.provisioning.plugins.module_utils.station.configuration_keys import KeySession
from ansible_collections.evcs.provisioning.plugins.module_utils.station.protocol import ocpp_version_of
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.connection import (
    task_backend, station_argument_spec,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.vault import (
    VaultError, VaultKv, VaultPki, vault_argument_spec, vault_kv_argument_spec, vault_session, vault_setting,
)

STATION_CERTIFICATE = 'ChargingStationCertificate'
TRUST_ANCHOR_TYPES = ['CSMSRootCertificate', 'ManufacturerRootCertificate', 'V2GRootCertificate', 'MORootCertificate']
_ORGANIZATION = {'component': {'name': 'SecurityCtrlr'}, 'variable': {'name': 'OrganizationName'}}
#: the keys of the station's Vault KV secret that record its certificate (other keys there are left alone)
_RECORD_KEYS = ('certificate_serial', 'certificate_not_after', 'certificate_issuer', 'certificate_fingerprint_sha256')


# -- argument specs ----------------------------------------------------------------------------------
def station_certificate_argument_spec():
    spec = _vault_options()
    spec.update(
        state=dict(type='str', default='present', choices=['present', 'absent']),
        mode=dict(type='str', default='station', choices=['station', 'factory']),
        organization=dict(type='str'),
        ttl=dict(type='str'),
        renew_before=dict(type='int', default=certs.RENEW_BEFORE_DAYS),
        renew_at_fraction=dict(type='float', default=round(certs.RENEW_AT_FRACTION, 4)),
        force=dict(type='bool', default=False),
        revoke_previous=dict(type='bool', default=False),
        key_policy=dict(type='dict', default={}, no_log=False, options=dict(
            ec_curves=dict(type='list', elements='str', default=list(certs.EC_CURVES)),
            rsa_min_bits=dict(type='int', default=certs.RSA_MIN_BITS),
        )),
        csr_timeout=dict(type='int', default=60),
        issuer_common_names=dict(type='list', elements='str'),
        dest=dict(type='path'),
        serial_number=dict(type='str'),
    )
    return spec


def trust_anchors_argument_spec():
    return station_argument_spec(
        certificates=dict(type='list', elements='str', required=True),
        certificate_type=dict(type='str', default='CSMSRootCertificate', choices=TRUST_ANCHOR_TYPES),
        state=dict(type='str', default='present', choices=['present', 'exact']),
    )


def station_certificate_info_argument_spec():
    spec = _vault_options()
    spec.update(serial_number=dict(type='str'))
    return spec


def _vault_options():
    options = vault_argument_spec()
    options.update(vault_kv_argument_spec())
    return station_argument_spec(**options)


# -- helpers -----------------------------------------------------------------------------------------
def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _call(csms, station_id, action, payload):
    try:
        return csms.call(station_id, action, payload)
    except CsmsError as exc:
        raise ModuleFailure('station %s: %s failed: %s' % (station_id, action, exc))


def _vault(function, *args):
    try:
        return function(*args)
    except VaultError as exc:
        raise ModuleFailure(str(exc))


def common_name(params):
    """The CN of the station's certificate: its station id (OCPP 2.0.1), its serial number on OCPP 1.6
    (``params['common_name']``, set by :func:`with_protocol`)."""
    return params.get('common_name') or params['station_id']


def _connection(csms, station_id):
    try:
        return csms.connection(station_id) or {}
    except CsmsError:
        return {}


def with_protocol(params, csms=None):
    """``params`` with the station's OCPP version (its CSMS connection's, else the inventory's) and, on 1.6, the
    certificate CN (its serial number, A00.FR.405) and the 1.6 names of the labels in messages."""
    station_id = params['station_id']
    connection = _connection(csms, station_id) if csms is not None else {}
    version = ocpp_version_of(connection, params.get('ocpp_version'), station_id)
    params = dict(params, ocpp_version=version)
    if security16.is_16(version):
        params['common_name'] = security16.certificate_common_name(station_id, params.get('serial_number'), connection)
    return params


def record_path(params):
    """KV v2 path of the station's secret (``evcs/<environment>/stations/<id>``); None without ``environment``."""
    if not params.get('environment'):
        return None
    return 'evcs/%s/stations/%s' % (path_segment(params['environment']),
                                    path_segment(checked_station_id(params['station_id'])))


def _record(certificate):
    facts = certs.certificate_facts(certificate, _now())
    return dict(zip(_RECORD_KEYS, (facts['serial'], facts['not_after'], facts['issuer'], facts['fingerprint_sha256'])))


def _check_issuer(issuer, mount, allowed, station_id):
    """Refuse an issuing CA the environment does not allow (evcs_environment_rules.issuer_common_names), before any
    request that signs, revokes or installs."""
    if not allowed:
        return
    names = [attribute.value for attribute in issuer.subject.get_attributes_for_oid(certs.NameOID.COMMON_NAME)]
    if not set(names) & set(allowed):
        raise ModuleFailure('station %s: the issuing CA of Vault PKI mount %s is CN=%s, which this environment does not '
                            'allow (evcs_environment_rules.issuer_common_names: %s); nothing was signed: point '
                            'evcs_vault.pki_mount at this environment\'s PKI mount, or list the CA in '
                            'issuer_common_names if it really belongs to this environment'
                            % (station_id, mount, ', '.join(names) or '(none)', ', '.join(allowed)))


class _Pki(object):
    """The issuing CA and the station's certificates as Vault knows them, through one login per task.

    The certificate this PKI last signed for a station is recorded in the station's KV v2 secret
    (``<vault_kv_mount>/data/evcs/<environment>/stations/<id>``) and read back by its serial: a constant number of
    requests per station. Without ``environment`` the mount is scanned (one read per certificate it stores). A station
    without a record counts with the certificate it presents; the record is written as soon as it holds a valid one.
    """

    def __init__(self, params, context):
        self.session = _vault(vault_session, params, context.warn)
        self.client = VaultPki(self.session, params.get('vault_pki_mount') or 'pki')
        self.kv = VaultKv(self.session, params.get('vault_kv_mount') or 'secret')
        self.record_path = record_path(params)
        self.role = params.get('vault_pki_role')
        self._record = None
        #: revocation status by serial number, for every certificate read from the mount
        self._revoked = {}
        ca_pem = _vault(self.client.issuing_ca)
        if not ca_pem:
            raise ModuleFailure('Vault PKI mount %s has no issuing CA: check vault_pki_mount' % self.client.mount)
        self.issuer = certs.load_certificate(ca_pem)
        _check_issuer(self.issuer, self.client.mount, params.get('issuer_common_names'), params.get('station_id'))

    @property
    def revoked_serials(self):
        return set(serial for serial, revoked in self._revoked.items() if revoked)

    def _certificate(self, record):
        if not (record or {}).get('certificate'):
            return None
        certificate = certs.load_certificate(record['certificate'])
        self._revoked[certificate.serial_number] = bool(record.get('revocation_time'))
        return certificate

    def certificate(self, serial_number):
        """The certificate of this mount with that serial (its revocation status noted), or None."""
        return self._certificate(_vault(self.client.certificate, certs.vault_serial(serial_number)))

    def issued_status(self, certificate):
        """``valid`` when this mount issued ``certificate`` (that very certificate, not only its serial) and has not
        revoked it, ``revoked`` when it has, None when the mount did not issue it (one read)."""
        found = self.certificate(certificate.serial_number)
        if found is None or found != certificate:
            return None
        return 'revoked' if self._revoked[certificate.serial_number] else 'valid'

    def check_revocation(self, certificate):
        """Note whether ``certificate`` is revoked: one read unless it was read from the mount already."""
        if certificate.serial_number not in self._revoked:
            self.certificate(certificate.serial_number)

    def station_certificates(self, name):
        """Every certificate of this mount with CN = ``name`` (the station id; a 1.6 station's serial), newest first:
        [(certificate, revoked)] (a scan)."""
        found = []
        for serial in _vault(self.client.list_serials):
            certificate = self._certificate(_vault(self.client.certificate, serial))
            if certificate is not None and certs.common_name(certificate.subject) == name:
                found.append((certificate, self._revoked[certificate.serial_number]))
        return sorted(found, key=lambda item: item[0].not_valid_before_utc, reverse=True)

    def _read_record(self):
        if self._record is None:
            self._record = _vault(self.kv.read, self.record_path)
        return self._record[0]

    def last_signed(self, name):
        """The certificate recorded for the station (None without a record); without ``environment`` the newest
        certificate with its CN ``name``, found by a scan of the mount."""
        if not self.record_path:
            signed = self.station_certificates(name)
            return signed[0][0] if signed else None
        serial = self._read_record().get('certificate_serial')
        return self.certificate(int(serial, 16)) if serial else None

    def remember(self, certificate):
        """Record ``certificate`` as the station's in its KV secret, unless it is recorded already (or no path)."""
        if not self.record_path or self._read_record().get('certificate_serial') == certs.ocpp_serial(certificate.serial_number):
            return False
        _vault(self.kv.merge, self.record_path, _record(certificate), self._record)
        self._record = None
        return True

    def chain_pem(self, answer):
        chain = answer.get('ca_chain') or [answer.get('issuing_ca')]
        return ''.join(pem.strip() + '\n' for pem in [answer['certificate']] + [pem for pem in chain if pem])


def _wanted(params, pki):
    return {
        'common_name': common_name(params),
        'organization': params.get('organization'),
        'issuer': pki.issuer,
        'revoked_serials': pki.revoked_serials,
        'renew_before': datetime.timedelta(days=params['renew_before']),
        'renew_at_fraction': params['renew_at_fraction'],
        'force': params['force'],
    }


def _check_renewal_window(params):
    """Refuse a renew_before that is not shorter than the lifetime asked for (ttl) before anything is written: every
    run would re-enroll the station. (Without a ttl the PKI role decides the lifetime; a large renew_before is then
    how an operator renews ahead of time once.)"""
    lifetime = certs.vault_duration(params['ttl']) if params.get('ttl') else None
    problem = certs.renewal_window_problem(datetime.timedelta(days=params['renew_before']), lifetime)
    if problem:
        raise ModuleFailure('station %s: renew_before = %s: %s; give renew_before fewer days than ttl %s (identity_renew_before, '
                            'identity_ttl)' % (params['station_id'], params['renew_before'], problem, params['ttl']),
                            kind='renewal_window')


def _facts(certificate, now):
    return certs.certificate_facts(certificate, now) if certificate is not None else None


def _diff(before, after):
    return {'before': {'certificate': before}, 'after': {'certificate': after}}


def _diff_side_effects(result, organization, version=None):
    """Add what the enrollment changes besides the certificate to its diff: SecurityCtrlr.OrganizationName (the
    CpoName key on 1.6), and the certificates revoked (or to be revoked) with revoke_previous."""
    diff = result.get('diff')
    if not diff:
        return
    if 'organization_before' in result:
        key = 'cpo_name' if security16.is_16(version) else 'organization_name'
        diff['before'][key] = result['organization_before']
        diff['after'][key] = organization
    if result.get('revoked'):
        diff['after']['revoked'] = list(result['revoked'])


# -- organization name (SecurityCtrlr.OrganizationName; CpoName on 1.6) ----------------------------------------
def _organization_label(version):
    return 'the %s key' % security16.CPO_NAME if security16.is_16(version) else 'SecurityCtrlr.OrganizationName'


def _ensure_cpo_name(csms, station_id, organization, check_mode):
    """The 1.6 counterpart: the CpoName key, which the station puts in its CSR's O (A02.FR.13)."""
    session = KeySession(csms, station_id, max_keys=0)
    found, unknown = session.get([security16.CPO_NAME])
    if security16.CPO_NAME in unknown or security16.CPO_NAME not in found:
        raise ModuleFailure('station %s does not know the configuration key %s: an OCPP 1.6 station needs the Security '
                            'Extension\'s CpoName to enroll a certificate (A02 prerequisite)' % (station_id, security16.CPO_NAME))
    current = found[security16.CPO_NAME].get('value')
    if current == organization:
        return None
    if not check_mode:
        status = session.change(security16.CPO_NAME, organization)
        if status not in ('Accepted', 'RebootRequired'):
            raise ModuleFailure('station %s: ChangeConfiguration %s=%r answered %s: check that the key is writable on '
                                'this station' % (station_id, security16.CPO_NAME, organization, status))
    return current if current is not None else ''


def ensure_organization(csms, station_id, organization, check_mode, version=None):
    """Read SecurityCtrlr.OrganizationName (CpoName on 1.6) and set it when it differs; returns the value found (None
    when equal)."""
    if security16.is_16(version):
        return _ensure_cpo_name(csms, station_id, organization, check_mode)
    answer = _call(csms, station_id, 'GetVariables', {'getVariableData': [_ORGANIZATION]})
    result = (answer.get('getVariableResult') or [{}])[0]
    if result.get('attributeStatus') != 'Accepted':
        raise ModuleFailure('station %s: GetVariables SecurityCtrlr.OrganizationName answered %s: the station must offer '
                            'this variable for certificate enrollment' % (station_id, result.get('attributeStatus')))
    current = result.get('attributeValue')
    if current == organization:
        return None
    if not check_mode:
        answer = _call(csms, station_id, 'SetVariables',
                       {'setVariableData': [dict(_ORGANIZATION, attributeValue=organization)]})
        status = (answer.get('setVariableResult') or [{}])[0].get('attributeStatus')
        if status not in ('Accepted', 'RebootRequired'):
            raise ModuleFailure('station %s: SetVariables SecurityCtrlr.OrganizationName=%r answered %s: check that the '
                                'variable is ReadWrite on this station' % (station_id, organization, status))
    return current if current is not None else ''


# -- enrollment over OCPP ------------------------------------------------------------------------------
def _presented(csms, station_id):
    """The client certificate the station presents to the CSMS (security profile 3), or None (none, or a backend
    without ``client_certificate``: then the certificate Vault last signed for it is the evidence)."""
    if not csms.has('client_certificate'):
        return None
    try:
        connection = csms.connection(station_id)
    except CsmsError as exc:
        raise ModuleFailure('station %s: reading its CSMS connection failed: %s' % (station_id, exc))
    pem = (connection or {}).get('client_certificate')
    return certs.load_certificate(pem) if pem else None


def _held(csms, pki, params):
    """The certificates the station holds: what it presents on mTLS and what this PKI last signed for it."""
    return [cert for cert in (_presented(csms, params['station_id']), pki.last_signed(common_name(params)))
            if cert is not None]


def _current(pki, held):
    """The station's certificate: the newer of the certificates it holds (its revocation status noted)."""
    if not held:
        return None
    current = max(held, key=lambda cert: cert.not_valid_before_utc)
    pki.check_revocation(current)
    return current


def held_certificate(params, context, presented=None):
    """The station's certificate as this stage counts it, for the stages that need it later (security profile 3).

    The newer of ``presented`` (the certificate the station presents on its CSMS connection, or None) and the one
    this PKI last signed for the station, read by the serial its KV record names (without ``environment``: found by
    a scan of the mount), its revocation status read from the mount: a constant number of Vault requests per station.
    Returns ``{'issuer': issuing CA, 'certificate': the certificate or None, 'revoked_serials': set, 'record': the KV
    path of the station's record or None}``; ModuleFailure when Vault cannot be read.
    """
    pki = _Pki(params, context)
    current = _current(pki, [cert for cert in (presented, pki.last_signed(common_name(params))) if cert is not None])
    record = '%s/data/%s' % (pki.kv.mount, pki.record_path) if pki.record_path else None
    return {'issuer': pki.issuer, 'certificate': current, 'revoked_serials': pki.revoked_serials, 'record': record}


def _csr_trigger(version):
    """The request that makes the station send a CSR, and how the messages name it."""
    if security16.is_16(version):
        action, payload = security16.csr_trigger()
    else:
        action, payload = 'TriggerMessage', {'requestedMessage': 'SignChargingStationCertificate'}
    return action, payload, '%s(%s)' % (action, payload['requestedMessage'])


def _request_csr(csms, station_id, timeout, version=None):
    """TriggerMessage(SignChargingStationCertificate) (1.6: ExtendedTriggerMessage(SignChargePointCertificate)), then
    the SignCertificate request the station sends after it."""
    try:
        since = csms.now()
    except CsmsError as exc:
        raise ModuleFailure('station %s: reading the CSMS clock failed: %s' % (station_id, exc))
    action, payload, label = _csr_trigger(version)
    answer = _call(csms, station_id, action, payload)
    if answer.get('status') != 'Accepted':
        raise ModuleFailure('station %s answered %s with %s: it cannot enroll over OCPP; use mode=factory for it'
                            % (station_id, label, answer.get('status')))
    try:
        message = csms.wait_for_message(station_id, 'SignCertificate', since, timeout)[-1]
    except StationTimeout:
        raise ModuleFailure('station %s accepted %s but sent no CSR within %d s: check the station\'s security settings '
                            'and raise csr_timeout' % (station_id, label, timeout))
    except CapabilityMissing as missing:
        raise ModuleFailure('station %s: %s: enroll it with mode=factory instead' % (station_id, missing),
                            error=missing.kind)
    except CsmsError as exc:
        raise ModuleFailure('station %s: reading its SignCertificate request from the CSMS failed: %s' % (station_id, exc))
    return message['payload']


def _checked_csr(csr_record, params):
    csr = certs.load_csr(csr_record['csr'])
    if security16.is_16(params.get('ocpp_version')):
        labels = {'identity': 'the charge point serial number (A00.FR.405)', 'organization': 'the CpoName key'}
    else:
        labels = None
    problems = certs.csr_problems(csr, common_name(params), params.get('organization'), params.get('key_policy'),
                                  labels=labels)
    if problems:
        raise ModuleFailure('station %s sent a CSR that breaks policy, nothing was signed: %s'
                            % (params['station_id'], '; '.join(problems)))
    return csr


def _install(csms, pki, station_id, answer, version=None):
    if security16.is_16(version):
        action, payload = security16.certificate_signed(pki.chain_pem(answer))
    else:
        action, payload = 'CertificateSigned', {'certificateChain': pki.chain_pem(answer), 'certificateType': STATION_CERTIFICATE}
    reply = _call(csms, station_id, action, payload)
    if reply.get('status') != 'Accepted':
        _vault(pki.client.revoke, answer['serial_number'])
        raise ModuleFailure('station %s answered CertificateSigned with %s; the new certificate %s was revoked again: '
                            'check the station\'s trust store and clock'
                            % (station_id, reply.get('status'), answer['serial_number']))


def _checked_issue(pki, params, answer, how, refused=None, public_key=None):
    """The certificate Vault just issued (``how``: sign or issue), once it names exactly the station (one CN, no SAN,
    the CSR's public key, the mount's issuing CA, valid now) and its subject O is the wanted organization.

    Otherwise it is revoked at once and never installed (a PKI role that copies names from the CSR, or fixes another
    O); ``refused()`` then undoes what was prepared for it and says so (text added to the failure).
    """
    issued = certs.load_certificate(answer['certificate'])
    problems = certs.issued_problems(issued, common_name(params), public_key, pki.issuer, _now())
    if problems:
        _vault(pki.client.revoke, answer['serial_number'])
        undone = refused() if refused is not None else ''
        raise ModuleFailure(
            'station %s: the certificate Vault %s/%s/%s returned does not name exactly the station: %s; it was revoked '
            '(serial %s) and not installed, the station keeps its certificate%s: make the PKI role ignore the CSR\'s '
            'names (use_csr_common_name=false, use_csr_sans=false) as docs/SECURITY.md prescribes'
            % (params['station_id'], pki.client.mount, how, pki.role, '; '.join(problems),
               certs.ocpp_serial(issued.serial_number), undone),
            kind='issued_certificate_mismatch', vault_pki_mount=pki.client.mount, pki_role=pki.role)
    organization = params.get('organization')
    problem = certs.issued_organization_problem(issued, organization)
    if problem is None:
        return issued
    _vault(pki.client.revoke, answer['serial_number'])
    undone = refused() if refused is not None else ''
    raise ModuleFailure(
        'station %s: Vault %s/%s/%s %s (the PKI role fixes the subject O); the new certificate %s was revoked and not '
        'installed, the station keeps its certificate%s: map the organization to a PKI role that issues it: '
        'evcs_vault.station_roles[%r] = <role>' % (params['station_id'], pki.client.mount, how, pki.role, problem,
                                                   certs.ocpp_serial(issued.serial_number), undone, organization),
        kind='organization_mismatch', pki_role=pki.role, vault_pki_mount=pki.client.mount,
        issued_organization=certs.organization(issued.subject), organization=organization)


def _issued_since(pki, name, started):
    """The certificates with CN ``name`` the mount issued since ``started`` (a scan: only after a failed request)."""
    since = started - datetime.timedelta(minutes=2)
    return [cert for cert, _revoked in pki.station_certificates(name) if cert.not_valid_before_utc >= since]


def _signed_meanwhile(pki, station_id, public_key, started):
    """``settled`` of a sign request that failed without an answer: the certificate it signed after all for this
    very CSR key (as Vault's answer), or None when it signed nothing and may be asked again."""
    wanted = certs.spki_der(public_key)
    for cert in _issued_since(pki, station_id, started):
        if certs.spki_der(cert.public_key()) == wanted:
            return {'data': {'certificate': certs.to_pem(cert), 'serial_number': certs.vault_serial(cert.serial_number),
                             'issuing_ca': certs.to_pem(pki.issuer)}}
    return None


def _issued_meanwhile(pki, station_id, started):
    """``settled`` of an issue request that failed without an answer: a certificate it issued after all has a key
    nobody received, so it is revoked; None, so Vault is asked again."""
    for cert in _issued_since(pki, station_id, started):
        if not pki.issued_status(cert) == 'revoked':
            _vault(pki.client.revoke, certs.vault_serial(cert.serial_number))
    return None


def _enroll(csms, pki, params, refused=None):
    station_id, name = params['station_id'], common_name(params)
    csr_record = _request_csr(csms, station_id, params['csr_timeout'], params.get('ocpp_version'))
    csr = _checked_csr(csr_record, params)
    started = _now()
    answer = _vault(pki.client.sign, pki.role, csr.public_bytes(certs.serialization.Encoding.PEM).decode('ascii'),
                    name, params.get('ttl'), lambda: _signed_meanwhile(pki, name, csr.public_key(), started))
    issued = _checked_issue(pki, params, answer, 'sign', refused, csr.public_key())
    _install(csms, pki, station_id, answer, params.get('ocpp_version'))
    return issued


def _restore_organization(csms, station_id, previous, version=None):
    """Set SecurityCtrlr.OrganizationName (CpoName) back to ``previous`` (the station keeps the certificate that
    names it)."""
    label = _organization_label(version)
    try:
        ensure_organization(csms, station_id, previous, False, version)
    except ModuleFailure as exc:
        return ' (setting %s back to %r failed: %s)' % (label, previous, exc)
    return ' and %s %r (set back)' % (label, previous)


def _revoke_replaced(pki, replaced, issued, context):
    """Revoke the certificates ``issued`` replaced (this mount's, unrevoked); their serials. In check mode (``issued``
    None) nothing is revoked and the serials that would be are returned."""
    serials = []
    for cert in dict((cert.serial_number, cert) for cert in replaced).values():
        if issued is not None and cert.serial_number == issued.serial_number:
            continue
        status = pki.issued_status(cert)
        if status is None:
            context.warn('the replaced certificate %s (issuer %s) was not issued by Vault mount %s, so it is not '
                         'revoked here: revoke it in the PKI that issued it'
                         % (certs.ocpp_serial(cert.serial_number), cert.issuer.rfc4514_string(), pki.client.mount))
        if status != 'valid':
            continue
        if issued is not None:
            _vault(pki.client.revoke, certs.vault_serial(cert.serial_number))
        serials.append(certs.ocpp_serial(cert.serial_number))
    return serials


def _keep_record(pki, current, context):
    """Record the station's valid certificate when its KV record names another one (never in check mode)."""
    if current is not None and not context.check_mode:
        pki.remember(current)


def _issued(result, pki, issued, now):
    """Record the certificate just signed or issued and report it."""
    pki.remember(issued)
    result.update(certificate=_facts(issued, now), diff=_diff(result['certificate'], _facts(issued, now)))
    return result


def _present_on_station(params, context, pki, now, csms=None):
    station_id, version = params['station_id'], params.get('ocpp_version')
    csms = csms if csms is not None else task_backend(params, context)
    held = _held(csms, pki, params)
    current = _current(pki, held)
    _check_renewal_window(params)
    needed, reason = certs.needs_enrollment(current, _wanted(params, pki), now)
    action = ('renewed' if current is not None else 'enrolled') if needed else 'none'
    result = dict(changed=needed, action=action, reason=reason, certificate=_facts(current, now))
    if not needed:
        _keep_record(pki, current, context)
        return result
    previous = None
    if params.get('organization'):
        previous = ensure_organization(csms, station_id, params['organization'], context.check_mode, version)
        if previous is not None:
            result['organization_before'] = previous
    if context.check_mode:
        if params.get('revoke_previous'):
            result['revoked'] = _revoke_replaced(pki, held, None, context)
        result['diff'] = _diff(result['certificate'], '(a new certificate for CN=%s%s from %s via %s/sign/%s)' % (
            common_name(params), ', O=%s' % params['organization'] if params.get('organization') else '',
            pki.issuer.subject.rfc4514_string(), pki.client.mount, pki.role))
        _diff_side_effects(result, params.get('organization'), version)
        return result
    refused = (lambda: _restore_organization(csms, station_id, previous, version)) if previous is not None else None
    issued = _enroll(csms, pki, params, refused)
    _issued(result, pki, issued, now)
    if params.get('revoke_previous'):
        result['revoked'] = _revoke_replaced(pki, held, issued, context)
    _diff_side_effects(result, params.get('organization'), version)
    return result


def _absent_on_station(params, context, pki, now, csms=None):
    station_id, name = params['station_id'], common_name(params)
    live = [cert for cert, revoked in pki.station_certificates(name) if not revoked]
    result = dict(changed=bool(live), action='revoked' if live else 'none', certificate=None,
                  revoked=[certs.ocpp_serial(cert.serial_number) for cert in live],
                  reason='%d unrevoked certificate(s) for CN=%s' % (len(live), name) if live
                  else 'no unrevoked certificate for CN=%s' % name)
    if live:
        result['diff'] = _diff([_facts(cert, now) for cert in live], None)
    if not live or context.check_mode:
        return result
    csms = csms if csms is not None else task_backend(params, context)
    for cert in live:
        _vault(pki.client.revoke, certs.vault_serial(cert.serial_number))
        if security16.is_16(params.get('ocpp_version')):
            # the Security Extension forbids deleting the charge point certificate over OCPP (M04.FR.05): revoked in
            # Vault, the CSMS refuses it through the CRL
            continue
        _delete_from_station(csms, station_id, certs.hash_data(cert, pki.issuer), context)
    return result


def _delete_from_station(csms, station_id, hash_data, context):
    try:
        status = csms.call(station_id, 'DeleteCertificate', {'certificateHashData': hash_data}).get('status')
    except CsmsError as exc:
        context.warn('station %s: the certificate %s is revoked in Vault but DeleteCertificate failed (%s); the CSMS '
                     'refuses it through the CRL' % (station_id, hash_data['serialNumber'], exc))
        return
    if status not in ('Accepted', 'NotFound'):
        context.warn('station %s answered DeleteCertificate for %s with %s (a station may refuse to delete its own '
                     'certificate); it is revoked in Vault, so the CSMS refuses it' % (station_id, hash_data['serialNumber'], status))


# -- factory mode ------------------------------------------------------------------------------------------
def _factory_paths(params):
    if not params.get('dest'):
        raise ModuleFailure('mode=factory needs dest: the directory the key, certificate and chain are written to')
    base = os.path.join(params['dest'], params['station_id'])
    return {'key': base + '.key', 'certificate': base + '.crt', 'chain': base + '-chain.crt'}


def _read_existing(paths):
    if not all(os.path.exists(path) for path in paths.values()):
        return None
    with open(paths['certificate'], 'rb') as handle:
        return certs.load_certificate(handle.read())


def _write(path, text, mode):
    """Write ``path`` atomically without following a link: a new temporary file (O_EXCL|O_NOFOLLOW, created with
    ``mode``) beside it, then renamed over it, so a symlink planted at ``path`` is replaced, never written through."""
    temporary = '%s.%d.tmp' % (path, os.getpid())
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_NOFOLLOW', 0), mode)
    try:
        with os.fdopen(fd, 'w') as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(temporary, path)
    except BaseException:
        if os.path.lexists(temporary):
            os.unlink(temporary)
        raise


def _private_directory(path):
    """``path`` as a directory readable by the owner only (0700): it holds private keys."""
    if os.path.islink(path):
        raise ModuleFailure('dest %s is a symbolic link: give the real directory for the key files' % path)
    os.makedirs(path, mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)


def _in_factory(params, context, pki, now):
    paths = _factory_paths(params)
    current = _read_existing(paths)
    if current is not None:
        pki.check_revocation(current)
    _check_renewal_window(params)
    needed, reason = certs.needs_enrollment(current, _wanted(params, pki), now)
    action = ('renewed' if current is not None else 'enrolled') if needed else 'none'
    result = dict(changed=needed, action=action, reason=reason, certificate=_facts(current, now), files=paths)
    if not needed:
        _keep_record(pki, current, context)
        return result
    if context.check_mode:
        if params.get('revoke_previous') and current is not None:
            result['revoked'] = _revoke_replaced(pki, [current], None, context)
        result['diff'] = _diff(result['certificate'], '(a new key and certificate in %s)' % params['dest'])
        return result
    curves = (params.get('key_policy') or {}).get('ec_curves') or certs.EC_CURVES
    started = _now()
    answer = _vault(pki.client.issue, pki.role, common_name(params), params.get('ttl'), 'ec',
                    384 if curves[0] == 'secp384r1' else 256, lambda: _issued_meanwhile(pki, common_name(params), started))
    context.add_secret(answer.get('private_key'))
    issued = _checked_issue(pki, params, answer, 'issue')
    _private_directory(params['dest'])
    _write(paths['key'], answer['private_key'].strip() + '\n', 0o600)
    _write(paths['certificate'], answer['certificate'].strip() + '\n', 0o644)
    _write(paths['chain'], pki.chain_pem(answer), 0o644)
    _issued(result, pki, issued, now)
    if params.get('revoke_previous') and current is not None:
        result['revoked'] = _revoke_replaced(pki, [current], issued, context)
    return result


def run_station_certificate(params, context):
    checked_station_id(params['station_id'])
    now = _now()
    if params['mode'] == 'factory':
        if params['state'] == 'absent':
            raise ModuleFailure('mode=factory manages files; revoke with state=absent in mode=station')
        params = with_protocol(params)
        pki = _Pki(params, context)
        outcome = _in_factory(params, context, pki, now)
    else:
        csms = task_backend(params, context)
        params = with_protocol(params, csms)
        pki = _Pki(params, context)
        if params['state'] == 'absent':
            outcome = _absent_on_station(params, context, pki, now, csms)
        else:
            outcome = _present_on_station(params, context, pki, now, csms)
    outcome.update(station_id=params['station_id'], common_name=common_name(params), ocpp_version=params['ocpp_version'],
                   vault_requests=dict(pki.session.requests))
    _flatten(outcome)
    return outcome


def _flatten(outcome):
    """The documented top-level return values of the certificate the station holds after the run."""
    facts = outcome.get('certificate') or {}
    for key in ('serial', 'not_after', 'days_left', 'issuer', 'fingerprint_sha256'):
        outcome[key] = facts.get(key)


# -- trust anchors -----------------------------------------------------------------------------------------
def _load_anchor(entry):
    text = entry
    if '-----BEGIN' not in entry:
        try:
            with open(entry) as handle:
                text = handle.read()
        except (IOError, OSError) as exc:
            raise ModuleFailure('certificates: %s is neither a PEM certificate nor a readable file (%s)' % (entry, exc))
    try:
        return certs.load_certificates(text)
    except ValueError as exc:
        raise ModuleFailure('certificates: %s is not a valid PEM certificate (%s)' % (entry[:60], exc))


def _wanted_anchors(params):
    """[(hash keys, certificate)] of the listed anchors."""
    anchors = [cert for entry in params['certificates'] for cert in _load_anchor(entry)]
    wanted = []
    for cert in anchors:
        issuer = certs.issuer_of(cert, anchors)
        if issuer is None:
            raise ModuleFailure('station %s: trust anchor %s is not self-signed and its issuer %s is not in certificates: '
                                'add the issuing CA' % (params['station_id'], cert.subject.rfc4514_string(),
                                                        cert.issuer.rfc4514_string()))
        wanted.append((certs.hash_keys(cert, issuer), cert))
    return wanted


def _installed_16(csms, station_id, certificate_types):
    """The 1.6 form: one GetInstalledCertificateIds per type (the request takes exactly one), answered with
    ``certificateHashData``; keyed by the type asked for."""
    installed = {}
    for kind in certificate_types or sorted(security16.ROOT_TYPES):
        action, payload = security16.installed_request(security16.root_type(kind, station_id))
        data = security16.installed_hash_data(_call(csms, station_id, action, payload))
        if data:
            installed[kind] = data
    return installed


def installed_certificates(csms, station_id, certificate_types=None, version=None):
    """{certificate type: [hash data]} as GetInstalledCertificateIds reports (NotFound means none)."""
    if security16.is_16(version):
        return _installed_16(csms, station_id, certificate_types)
    payload = {'certificateType': certificate_types} if certificate_types else {}
    answer = _call(csms, station_id, 'GetInstalledCertificateIds', payload)
    installed = {}
    for chain in answer.get('certificateHashDataChain') or []:
        installed.setdefault(chain['certificateType'], []).append(chain['certificateHashData'])
    return installed


def run_trust_anchors(params, context):
    station_id, kind = params['station_id'], params['certificate_type']
    wanted = _wanted_anchors(params)
    csms = task_backend(params, context)
    version = ocpp_version_of(_connection(csms, station_id), params.get('ocpp_version'), station_id)
    wire_kind = security16.root_type(kind, station_id) if security16.is_16(version) else kind
    installed = dict((certs.hash_key(data), data)
                     for data in installed_certificates(csms, station_id, [kind], version).get(kind, []))
    wanted_keys = set().union(*[keys for keys, _cert in wanted]) if wanted else set()
    missing = [cert for keys, cert in wanted if not keys & set(installed)]
    stale = [data for key, data in installed.items() if key not in wanted_keys] if params['state'] == 'exact' else []
    result = dict(changed=bool(missing or stale), installed=[cert.subject.rfc4514_string() for cert in missing],
                  removed=[data['serialNumber'] for data in stale])
    if result['changed']:
        kept = [data['serialNumber'] for data in installed.values() if data not in stale]
        result['diff'] = {'before': {kind: sorted(data['serialNumber'] for data in installed.values())},
                          'after': {kind: sorted(kept + [certs.ocpp_serial(cert.serial_number) for cert in missing])}}
    if context.check_mode:
        return result
    for cert in missing:
        status = _call(csms, station_id, 'InstallCertificate', {'certificateType': wire_kind,
                                                                'certificate': certs.to_pem(cert)}).get('status')
        if status != 'Accepted':
            raise ModuleFailure('station %s answered InstallCertificate(%s, %s) with %s: check that the certificate is a '
                                'valid CA certificate and the station has room for it'
                                % (station_id, kind, cert.subject.rfc4514_string(), status))
    for data in stale:
        status = _call(csms, station_id, 'DeleteCertificate', {'certificateHashData': data}).get('status')
        if status not in ('Accepted', 'NotFound'):
            raise ModuleFailure('station %s answered DeleteCertificate(%s serial %s) with %s: a station refuses to delete '
                                'the CSMS root it is connected with; install the new root first'
                                % (station_id, kind, data['serialNumber'], status))
    return result


# -- facts -------------------------------------------------------------------------------------------------
def run_station_certificate_info(params, context):
    now = _now()
    station_id = params['station_id']
    csms = task_backend(params, context)
    params = with_protocol(params, csms)
    result = dict(changed=False, station_id=station_id, ocpp_version=params['ocpp_version'],
                  installed=installed_certificates(csms, station_id, version=params['ocpp_version']),
                  presented=_facts(_presented(csms, station_id), now), last_signed=None)
    if vault_setting(params, 'vault_url'):
        pki = _Pki(params, context)
        result.update(last_signed=_facts(pki.last_signed(common_name(params)), now),
                      vault_requests=dict(pki.session.requests))
    return result
