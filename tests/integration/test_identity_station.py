"""station_certificate / trust_anchors / station_certificate_info against the whole lab (OpenBao, CSMS, simulator)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import yaml

from ansible_collections.evcs.provisioning.plugins.module_utils import identity, vault as vault_utils
from ansible_collections.evcs.provisioning.plugins.module_utils import x509 as certs
from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure, RunContext

ENROLLED = 'IDT-CP-0001'
WRONG_IDENTITY = 'IDT-CP-0002'
PLAYBOOK_STATION = 'IDT-CP-0003'
RECORDED = 'IDT-CP-0004'
LAB_INVENTORY = Path(__file__).resolve().parents[2] / 'inventories' / 'lab'
#: an OpenBao service token (the AppRole login's token included) anywhere in the output
_SERVICE_TOKEN = re.compile(r'\bs\.[A-Za-z0-9]{24}\b')


def _params(lab, station_id, **extra):
    vault, csms = lab['vault'], lab['csms']
    params = {
        'station_id': station_id, 'csms_backend': 'reference', 'csms_url': csms['api_url'], 'csms_token': csms['api_token'],
        'csms_ca_path': csms['ca_cert'], 'csms_validate_certs': True, 'csms_timeout': 30, 'csms_retries': 1,
        'vault_url': vault['addr'], 'vault_ca_path': vault['ca_cert'], 'vault_validate_certs': True, 'vault_timeout': 10,
        'vault_retries': 1, 'vault_auth_method': 'approle', 'vault_role_id': vault['role_id'],
        'vault_secret_id': vault['secret_id'], 'vault_pki_mount': vault['pki_mount'], 'vault_pki_role': vault['station_role'],
        'vault_namespace': None, 'vault_token': None, 'vault_auth_mount': None,
        'vault_kv_mount': vault['kv_mount'], 'environment': lab['environment'],
        'state': 'present', 'mode': 'station', 'organization': vault['organization'], 'ttl': '720h', 'renew_before': 7,
        'renew_at_fraction': 0.6667, 'force': False, 'key_policy': {}, 'csr_timeout': 30, 'dest': None,
    }
    params.update(extra)
    return params


def _signed(lab):
    return sum(counts.get('CertificateSigned', 0) for counts in lab.csms.stats().get('stations', {}).values())


def _wait_for(predicate, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            pytest.fail('%s: not reached within %.0fs' % (what, timeout))
        time.sleep(0.2)


def _add_stations(lab, *station_ids):
    """Stations of this module's own (the session's fleet stays as the inventory expects it), connected."""
    lab.sim.add(list(station_ids))
    for station_id in station_ids:
        _wait_for(lambda: (lab.csms.connection(station_id) or {}).get('online'), '%s online' % station_id)


def _presented(lab, station_id):
    return (lab.csms.connection(station_id) or {}).get('client_certificate')


def _move_to_profile_3(lab, station_id):
    """SetNetworkProfile(slot 3, profile 3), NetworkConfigurationPriority 3,1 and Reset through the CSMS."""
    connection_data = {'ocppVersion': 'OCPP20', 'ocppTransport': 'JSON', 'ocppInterface': 'Wired0', 'messageTimeout': 30,
                       'ocppCsmsUrl': lab['csms']['ws_urls']['3'], 'securityProfile': 3}
    assert lab.csms.call(station_id, 'SetNetworkProfile', {'configurationSlot': 3, 'connectionData': connection_data})['status'] == 'Accepted'
    priority = {'component': {'name': 'OCPPCommCtrlr'}, 'variable': {'name': 'NetworkConfigurationPriority'}, 'attributeValue': '3,1'}
    assert lab.csms.call(station_id, 'SetVariables', {'setVariableData': [priority]})['setVariableResult'][0]['attributeStatus'] == 'RebootRequired'
    _reset_and_wait_for_profile_3(lab, station_id)


def _reset_and_wait_for_profile_3(lab, station_id):
    before = lab.csms.connection(station_id)['connections_total']
    assert lab.csms.call(station_id, 'Reset', {'type': 'Immediate'})['status'] == 'Accepted'
    _wait_for(lambda: _reconnected_on_profile_3(lab.csms.connection(station_id), before), '%s back on profile 3' % station_id)


def _reconnected_on_profile_3(connection, connections_before):
    return connection['online'] and connection['security_profile'] == 3 and connection['connections_total'] > connections_before


def _serial_of(pem):
    return certs.ocpp_serial(certs.load_certificate(pem).serial_number)


@pytest.fixture(scope='module')
def station(lab):
    _add_stations(lab, ENROLLED, WRONG_IDENTITY)
    return ENROLLED


@pytest.fixture
def playbook_inventory(lab, tmp_path):
    """One station of this module's own in a temporary inventory that takes every variable from inventories/lab."""
    _add_stations(lab, PLAYBOOK_STATION)
    inventory = tmp_path / 'inventory'
    inventory.mkdir()
    (inventory / 'group_vars').symlink_to(LAB_INVENTORY / 'group_vars')
    (inventory / 'hosts.yml').write_text(yaml.safe_dump({'all': {
        'vars': {'ansible_connection': 'local'},
        'children': {'lab_depot': {'hosts': {PLAYBOOK_STATION: {'evcs_station': {'id': PLAYBOOK_STATION}}}}},
    }}))
    return inventory


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
    # renewing ahead of time once: a renew_before beyond the lifetime, the lifetime left to the PKI role
    renewed = identity.run_station_certificate(_params(lab, station, renew_before=60, ttl=None), RunContext())
    assert renewed['changed'] and renewed['action'] == 'renewed' and renewed['serial'] != first['serial']


def test_renew_before_not_shorter_than_the_ttl_is_refused_before_anything_is_signed(lab, station):
    first = identity.run_station_certificate(_params(lab, station), RunContext())
    signed = _signed(lab)
    with pytest.raises(ModuleFailure, match=r'renew_before = 60: renew_before \(60 days\) is not shorter than the '
                                            r'certificate lifetime \(30 days\)'):
        identity.run_station_certificate(_params(lab, station, renew_before=60), RunContext())
    assert _signed(lab) == signed
    assert identity.run_station_certificate(_params(lab, station), RunContext())['serial'] == first['serial']


def test_trust_anchors_installs_once(lab, station):
    params = _params(lab, station, certificates=[lab['csms']['root_ca_pem']], certificate_type='CSMSRootCertificate',
                     state='present')
    identity.run_trust_anchors(params, RunContext())
    again = identity.run_trust_anchors(params, RunContext())
    assert not again['changed']
    facts = identity.run_station_certificate_info(_params(lab, station), RunContext())
    assert facts['installed'].get('CSMSRootCertificate')


def test_profile_3_connection_presents_the_enrolled_certificate(lab, station):
    enrolled = identity.run_station_certificate(_params(lab, station), RunContext())
    assert not enrolled['changed']
    _move_to_profile_3(lab, station)
    assert _serial_of(_presented(lab, station)) == enrolled['serial']
    facts = identity.run_station_certificate_info(_params(lab, station), RunContext())
    assert facts['presented']['serial'] == facts['last_signed']['serial'] == enrolled['serial']


def test_renewal_is_presented_at_the_next_profile_3_connection(lab, station):
    old_serial = _serial_of(_presented(lab, station))
    renewed = identity.run_station_certificate(_params(lab, station, force=True), RunContext())
    assert renewed['changed'] and renewed['action'] == 'renewed' and renewed['serial'] != old_serial
    assert _serial_of(_presented(lab, station)) == old_serial, 'the open connection keeps its TLS session'
    _reset_and_wait_for_profile_3(lab, station)
    assert _serial_of(_presented(lab, station)) == renewed['serial']
    again = identity.run_station_certificate(_params(lab, station), RunContext())
    assert not again['changed'] and again['serial'] == renewed['serial']


@pytest.mark.usefixtures('station')
def test_csr_with_wrong_cn_is_refused(lab):
    station = WRONG_IDENTITY
    lab.sim.local_change(station, [{'component': 'SecurityCtrlr', 'variable': 'Identity', 'value': 'SOMEONE-ELSE'}])
    before = _signed(lab)
    with pytest.raises(ModuleFailure, match='breaks policy, nothing was signed'):
        identity.run_station_certificate(_params(lab, station), RunContext())
    assert _signed(lab) == before


def test_renew_playbook_output_holds_no_secret(lab, run_playbook, playbook_inventory):
    rc, output, recap = run_playbook('playbooks/renew_certificates.yml', inventory=str(playbook_inventory),
                                     extra_vars={'evcs_targets': PLAYBOOK_STATION}, diff=True, verbosity=3)
    assert rc == 0 and recap[PLAYBOOK_STATION]['failed'] == 0, output[-4000:]
    assert recap[PLAYBOOK_STATION]['changed'] >= 1 and 'enrolled' in output
    key_pem = (lab.home / 'simulator' / 'stations' / ('%s.key' % PLAYBOOK_STATION)).read_text()
    secrets = {'the AppRole secret_id': lab['vault']['secret_id'], 'the Vault token': lab['vault']['token'],
               'the CSMS API token': lab['csms']['api_token']}
    secrets.update(('line %d of the station key' % number, line) for number, line in enumerate(key_pem.splitlines())
                   if line and not line.startswith('-----'))
    assert [name for name, value in secrets.items() if value in output] == []
    assert _SERVICE_TOKEN.findall(output) == []


def _station_secret(lab, station_id):
    """The station's KV v2 secret, read with the collection's own AppRole (no root token)."""
    session = vault_utils.vault_session(_params(lab, station_id))
    return vault_utils.VaultKv(session, lab['vault']['kv_mount']).read(identity.record_path(_params(lab, station_id)))


def test_rerun_finds_the_certificate_by_its_recorded_serial(lab):
    """Enrolment records the certificate in the station's KV secret next to keys others keep there; a re-run then
    costs 1 login and at most 3 reads, never a scan of <mount>/certs, whatever the number of certificates."""
    _add_stations(lab, RECORDED)
    session = vault_utils.vault_session(_params(lab, RECORDED))
    kv = vault_utils.VaultKv(session, lab['vault']['kv_mount'])
    path = identity.record_path(_params(lab, RECORDED))
    kv.merge(path, {'basic_auth_password': 'kept-by-another-role'})

    enrolled = identity.run_station_certificate(_params(lab, RECORDED), RunContext())
    assert enrolled['changed'] and enrolled['vault_requests'] == {'login': 1, 'list': 0, 'read': 2, 'write': 2}
    secret, _version = _station_secret(lab, RECORDED)
    assert secret['basic_auth_password'] == 'kept-by-another-role'
    assert secret['certificate_serial'] == enrolled['serial'] and secret['certificate_not_after'] == enrolled['not_after']
    assert secret['certificate_fingerprint_sha256'] == enrolled['fingerprint_sha256']
    assert secret['certificate_issuer'] == enrolled['issuer']

    rerun = identity.run_station_certificate(_params(lab, RECORDED), RunContext())
    assert not rerun['changed'] and rerun['serial'] == enrolled['serial']
    assert rerun['vault_requests'] == {'login': 1, 'list': 0, 'read': 3, 'write': 0}

    scanned = identity.run_station_certificate(_params(lab, RECORDED, environment=None), RunContext())
    assert not scanned['changed'] and scanned['serial'] == enrolled['serial']
    assert scanned['vault_requests']['list'] == 1 and scanned['vault_requests']['read'] > rerun['vault_requests']['read']
    print('\nVault requests of an idempotent re-run of %s: by recorded serial %s; scanning the mount (before) %s'
          % (RECORDED, rerun['vault_requests'], scanned['vault_requests']))


def test_revocation_is_seen_through_the_recorded_certificate(lab):
    """A revoked certificate is replaced: its status comes with the same read of <mount>/cert/<serial>."""
    current = identity.run_station_certificate(_params(lab, RECORDED), RunContext())
    session = vault_utils.vault_session(_params(lab, RECORDED))
    vault_utils.VaultPki(session, lab['vault']['pki_mount']).revoke(certs.vault_serial(int(current['serial'], 16)))
    checked = identity.run_station_certificate(_params(lab, RECORDED), RunContext(check_mode=True))
    assert checked['changed'] and 'revoked' in checked['reason'] and checked['vault_requests']['write'] == 0
    replaced = identity.run_station_certificate(_params(lab, RECORDED), RunContext())
    assert replaced['changed'] and replaced['serial'] != current['serial']
    assert _station_secret(lab, RECORDED)[0]['certificate_serial'] == replaced['serial']
