"""vault.py and the factory mode of station_certificate against the lab's real OpenBao (AppRole, least privilege)."""

from __future__ import annotations

import json
import os
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.evcs.provisioning.plugins.module_utils import identity
from ansible_collections.evcs.provisioning.plugins.module_utils import vault
from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure, RunContext

ORGANIZATION = 'EVCS Lab Operator'


@pytest.fixture(scope='module')
def params(vault_lab):
    _home, lab = vault_lab
    return {
        'vault_url': lab.addr, 'vault_ca_path': str(lab.ca_cert), 'vault_validate_certs': True, 'vault_timeout': 10,
        'vault_retries': 1, 'vault_auth_method': 'approle', 'vault_role_id': lab.role_id,
        'vault_secret_id': lab.secret_id, 'vault_pki_mount': 'pki_lab', 'vault_pki_role': 'charging-station',
    }


def _csr(cn):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION)])
    return x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256()).public_bytes(
        serialization.Encoding.PEM).decode()


def test_approle_sign_and_read_back(params):
    pki = vault.vault_pki(params)
    answer = pki.sign('charging-station', _csr('VAULT-CP-1'), 'VAULT-CP-1', '48h')
    cert = x509.load_pem_x509_certificate(answer['certificate'].encode())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == 'VAULT-CP-1'
    assert 'CN=EVCS Lab Charger Issuing CA' in cert.issuer.rfc4514_string()
    assert pki.certificate(answer['serial_number'])['certificate'].strip() == answer['certificate'].strip()
    assert 'EVCS Lab Charger Issuing CA' in x509.load_pem_x509_certificate(pki.issuing_ca().encode()).subject.rfc4514_string()


def test_forbidden_names_path_and_capability(params):
    pki = vault.vault_pki(dict(params, vault_pki_mount='pki_lab_root'))
    with pytest.raises(vault.VaultError) as failure:
        pki.issue('charging-station', 'NOPE')
    assert 'pki_lab_root/issue/charging-station' in str(failure.value) and '"update" capability' in str(failure.value)


def test_wrong_secret_id_is_refused(params):
    with pytest.raises(vault.VaultError):
        vault.vault_client(dict(params, vault_secret_id='not-the-secret'))


def test_factory_mode_writes_key_once_and_never_returns_it(params, tmp_path):
    wanted = dict(params, station_id='FACTORY-CP-1', mode='factory', state='present', dest=str(tmp_path / 'image'),
                  organization=ORGANIZATION, ttl='720h', renew_before=7, renew_at_fraction=0.6667, force=False,
                  key_policy={}, csr_timeout=5)
    context = RunContext()
    first = identity.run_station_certificate(wanted, context)
    assert first['changed'] and first['action'] == 'enrolled'
    key_path = first['files']['key']
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    key_text = open(key_path).read()
    assert 'PRIVATE KEY' in key_text and key_text.strip() in context.no_log_values
    assert 'PRIVATE KEY' not in json.dumps(first)
    assert first['days_left'] in (29, 30)

    second = identity.run_station_certificate(wanted, RunContext())
    assert not second['changed'] and second['action'] == 'none' and second['serial'] == first['serial']
    assert open(key_path).read() == key_text

    checked = identity.run_station_certificate(dict(wanted, renew_before=60, ttl=None), RunContext(check_mode=True))
    assert checked['changed'] and checked['action'] == 'renewed' and 'renew_before' in checked['reason']
    assert open(key_path).read() == key_text

    renewed = identity.run_station_certificate(dict(wanted, renew_before=60, ttl=None), RunContext())
    assert renewed['changed'] and renewed['serial'] != first['serial']


def test_factory_mode_needs_dest(params):
    with pytest.raises(ModuleFailure, match='dest'):
        identity.run_station_certificate(dict(params, station_id='X', mode='factory', state='present', dest=None,
                                              organization=None, ttl=None, renew_before=30, renew_at_fraction=0.6667,
                                              force=False, key_policy={}, csr_timeout=5), RunContext())
