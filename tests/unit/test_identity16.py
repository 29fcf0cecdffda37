"""Identity of an OCPP 1.6 station with the Security Extension (module_utils/identity.py dispatching to
station/security16.py): CpoName before the CSR, ExtendedTriggerMessage(SignChargePointCertificate), a CSR whose CN is
the serial number, CertificateSigned without a type, the 1.6 trust anchor messages, revocation without
DeleteCertificate."""

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
STATION, SERIAL, CPO = 'LAB-CP-0005', 'SIM-0005', 'EVCS Lab Operator'


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
    mount = 'pki_lab'

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.ca = _sign(_name('Issuing CA', 'Lab'), self.key.public_key(), _name('Issuing CA', 'Lab'), self.key,
                        NOW - 100 * DAY, ca=True)
        self.signed, self.revoked = [], []

    def sign(self, role, csr_pem, common_name, ttl=None, settled=None):
        cert = _sign(_name(common_name, CPO), x509.load_pem_x509_csr(csr_pem.encode()).public_key(), self.ca.subject,
                     self.key, NOW)
        self.signed.append((common_name, cert))
        return {'certificate': certs.to_pem(cert), 'issuing_ca': certs.to_pem(self.ca),
                'serial_number': certs.vault_serial(cert.serial_number)}

    def revoke(self, serial):
        self.revoked.append(serial)


class _Pki(object):
    def __init__(self, client, live=()):
        self.client, self.role, self.issuer, self.live = client, 'charging-station', client.ca, list(live)
        self.asked = []

    revoked_serials = set()

    def last_signed(self, name):
        self.asked.append(name)
        return None

    def station_certificates(self, name):
        self.asked.append(name)
        return [(cert, False) for cert in self.live if certs.common_name(cert.subject) == name]

    def check_revocation(self, certificate):
        pass

    def remember(self, certificate):
        pass

    def chain_pem(self, answer):
        return answer['certificate'] + answer['issuing_ca']


class _Station16(object):
    """A 1.6 charge point behind the CSMS: configuration keys, a key pair of its own, a certificate store."""

    def __init__(self, csr_cn=SERIAL, reported_serial=SERIAL):
        self.keys = {'CpoName': 'Factory CPO'}
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.csr_cn, self.reported_serial = csr_cn, reported_serial
        self.csr, self.calls, self.roots = None, [], []

    def connection(self, station_id):
        return {'online': True, 'ocpp_version': '1.6', 'boot': {'chargePointSerialNumber': self.reported_serial}}

    @staticmethod
    def has(capability):
        return capability != 'client_certificate'

    @staticmethod
    def now():
        return '2026-01-01T00:00:00.000Z'

    def wait_for_message(self, station_id, action, since, timeout, request_id=None):
        assert action == 'SignCertificate' and self.csr is not None
        return [{'action': action, 'payload': self.csr}]

    def call(self, station_id, action, payload):
        self.calls.append((action, payload))
        if action == 'GetConfiguration':
            return {'configurationKey': [{'key': key, 'readonly': False, 'value': self.keys[key]}
                                         for key in payload['key'] if key in self.keys],
                    'unknownKey': [key for key in payload['key'] if key not in self.keys]}
        if action == 'ChangeConfiguration':
            self.keys[payload['key']] = payload['value']
            return {'status': 'Accepted'}
        if action == 'ExtendedTriggerMessage':
            assert payload == {'requestedMessage': 'SignChargePointCertificate'}
            csr = (x509.CertificateSigningRequestBuilder().subject_name(_name(self.csr_cn, self.keys['CpoName']))
                   .sign(self.key, hashes.SHA256()))
            self.csr = {'csr': csr.public_bytes(serialization.Encoding.PEM).decode()}
            return {'status': 'Accepted'}
        if action == 'CertificateSigned':
            assert set(payload) == {'certificateChain'}
            return {'status': 'Accepted'}
        if action == 'GetInstalledCertificateIds':
            assert isinstance(payload['certificateType'], str)
            found = [data for kind, data in self.roots if kind == payload['certificateType']]
            return {'status': 'Accepted', 'certificateHashData': found} if found else {'status': 'NotFound'}
        if action == 'InstallCertificate':
            cert = certs.load_certificate(payload['certificate'])
            self.roots.append((payload['certificateType'], certs.hash_data(cert, cert)))
            return {'status': 'Accepted'}
        raise AssertionError('unexpected call %s' % action)


def _params(**extra):
    params = dict(station_id=STATION, serial_number=SERIAL, ocpp_version='1.6', organization=CPO, ttl=None,
                  renew_before=30, renew_at_fraction=0.6667, force=False, revoke_previous=False, key_policy={},
                  csr_timeout=5)
    params.update(extra)
    return params


def _actions(station):
    return [action for action, _payload in station.calls]


def test_enrolment_names_the_serial_and_sets_cpo_name_first():
    station, client = _Station16(), _Client()
    params = identity.with_protocol(_params(), station)
    result = identity._present_on_station(params, RunContext(), _Pki(client), NOW, station)

    assert result['changed'] and result['action'] == 'enrolled'
    actions = _actions(station)
    assert actions.index('ChangeConfiguration') < actions.index('ExtendedTriggerMessage') < actions.index('CertificateSigned')
    assert station.keys['CpoName'] == CPO
    assert result['organization_before'] == 'Factory CPO' and result['diff']['after']['cpo_name'] == CPO
    (asked_cn, issued), = client.signed
    assert asked_cn == SERIAL and certs.common_name(issued.subject) == SERIAL
    assert 'CN=%s' % SERIAL in result['certificate']['subject'] and result['certificate']['organization'] == CPO


def test_a_csr_naming_the_station_id_is_refused_before_signing():
    station, client = _Station16(csr_cn=STATION), _Client()
    params = identity.with_protocol(_params(), station)
    with pytest.raises(ModuleFailure) as failure:
        identity._present_on_station(params, RunContext(), _Pki(client), NOW, station)
    message = str(failure.value)
    assert 'nothing was signed' in message and repr(SERIAL) in message and 'A00.FR.405' in message
    assert client.signed == [] and 'CertificateSigned' not in _actions(station)


def test_a_serial_the_station_does_not_report_is_refused_before_anything_is_sent():
    station = _Station16(reported_serial='SIM-9999')
    with pytest.raises(ModuleFailure, match="reports serial 'SIM-9999'"):
        identity.with_protocol(_params(), station)
    assert station.calls == []


def test_2_0_1_keeps_the_station_id():
    class _Station201(_Station16):
        def connection(self, station_id):
            return {'online': True, 'ocpp_version': '2.0.1'}
    params = identity.with_protocol(_params(ocpp_version=None), _Station201())
    assert params['ocpp_version'] == '2.0.1' and identity.common_name(params) == STATION


def test_revocation_on_1_6_does_not_delete_the_station_certificate():
    station, client = _Station16(), _Client()
    cert = _sign(_name(SERIAL, CPO), ec.generate_private_key(ec.SECP256R1()).public_key(), client.ca.subject,
                 client.key, NOW - DAY)
    pki = _Pki(client, live=[cert])
    params = identity.with_protocol(_params(state='absent'), station)
    result = identity._absent_on_station(params, RunContext(), pki, NOW, station)
    assert result['revoked'] == [certs.ocpp_serial(cert.serial_number)] and SERIAL in pki.asked
    assert client.revoked == [certs.vault_serial(cert.serial_number)]
    assert 'DeleteCertificate' not in _actions(station)


def test_trust_anchor_over_1_6(monkeypatch, tmp_path):
    station = _Station16()
    key = ec.generate_private_key(ec.SECP256R1())
    root = _sign(_name('CSMS Root', 'Lab'), key.public_key(), _name('CSMS Root', 'Lab'), key, NOW - DAY, ca=True)
    monkeypatch.setattr(identity, 'task_backend', lambda params, context: station)
    params = dict(station_id=STATION, ocpp_version='1.6', certificates=[certs.to_pem(root)],
                  certificate_type='CSMSRootCertificate', state='present')
    first = identity.run_trust_anchors(params, RunContext())
    assert first['changed'] and station.roots[0][0] == 'CentralSystemRootCertificate'
    assert ('GetInstalledCertificateIds', {'certificateType': 'CentralSystemRootCertificate'}) in station.calls
    again = identity.run_trust_anchors(params, RunContext())
    assert not again['changed']
    with pytest.raises(ModuleFailure, match='V2GRootCertificate cannot be installed'):
        identity.run_trust_anchors(dict(params, certificate_type='V2GRootCertificate'), RunContext())
