"""station_certificate / trust_anchors / station_certificate_info against the whole lab (OpenBao, CSMS, simulator)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ansible_collections.evcs.provisioning.plugins.module_utils import identity
from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure, RunContext


def _params(lab, station_id, **extra):
    vault, csms = lab['vault'], lab['csms']
    params = {
        'station_id': station_id, 'csms_backend': 'reference', 'csms_url': csms['api_url'], 'csms_token': csms['api_token'],
        'csms_ca_path': csms['ca_cert'], 'csms_validate_certs': True, 'csms_timeout': 30, 'csms_retries': 1,
        'vault_url': vault['addr'], 'vault_ca_path': vault['ca_cert'], 'vault_validate_certs': True, 'vault_timeout': 10,
        'vault_retries': 1, 'vault_auth_method': 'approle', 'vault_role_id': vault['role_id'],
        'vault_secret_id': vault['secret_id'], 'vault_pki_mount': vault['pki_mount'], 'vault_pki_role': vault['station_role'],
        'vault_namespace': None, 'vault_token': None, 'vault_auth_mount': None,
        'state': 'present', 'mode': 'station', 'organization': vault['organization'], 'ttl': '720h', 'renew_before': 7,
        'renew_at_fraction': 0.6667, 'force': False, 'key_policy': {}, 'csr_timeout': 30, 'dest': None,
    }
    params.update(extra)
    return params


def _signed(lab):
    return sum(counts.get('CertificateSigned', 0) for counts in lab.csms.stats().get('stations', {}).values())


@pytest.fixture(scope='module')
def station(lab):
    return lab['simulator']['stations'][0]


def test_check_mode_enrolls_nothing(lab, station):
    before = _signed(lab)
    checked = identity.run_station_certificate(_params(lab, station), RunContext(check_mode=True, diff=True))
    assert checked['changed'] and checked['action'] == 'enrolled'
    assert _signed(lab) == before


def test_enroll_then_idempotent(lab, station):
    first = identity.run_station_certificate(_params(lab, station), RunContext())
    assert first['changed'] and first['action'] == 'enrolled' and first['days_left'] in (29, 30)
    signed = _signed(lab)
    second = identity.run_station_certificate(_params(lab, station), RunContext())
    assert not second['changed'] and second['serial'] == first['serial']
    assert _signed(lab) == signed
    renewed = identity.run_station_certificate(_params(lab, station, renew_before=60), RunContext())
    assert renewed['changed'] and renewed['action'] == 'renewed' and renewed['serial'] != first['serial']


def test_trust_anchors_installs_once(lab, station):
    params = _params(lab, station, certificates=[lab['csms']['root_ca_pem']], certificate_type='CSMSRootCertificate',
                     state='present')
    identity.run_trust_anchors(params, RunContext())
    again = identity.run_trust_anchors(params, RunContext())
    assert not again['changed']
    facts = identity.run_station_certificate_info(_params(lab, station), RunContext())
    assert facts['installed'].get('CSMSRootCertificate')


def test_csr_with_wrong_cn_is_refused(lab):
    station = lab['simulator']['stations'][1]
    lab.sim.local_change(station, [{'component': 'SecurityCtrlr', 'variable': 'Identity', 'value': 'SOMEONE-ELSE'}])
    before = _signed(lab)
    with pytest.raises(ModuleFailure, match='breaks policy, nothing was signed'):
        identity.run_station_certificate(_params(lab, station), RunContext())
    assert _signed(lab) == before
