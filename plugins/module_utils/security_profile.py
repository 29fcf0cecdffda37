# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lockout-safe security profile changes: plan, check every prerequisite, apply with a fallback slot, confirm.

What each slot holds is read from the CSMS the changes are sent through, which keeps every SetNetworkProfile the
station accepted (``CsmsBackend.network_profiles``, secrets as salted hashes): OCPP 2.0.1 cannot read a slot back.

The station keeps the slot it works on (the fallback) in NetworkConfigurationPriority behind the new slot
until the CSMS has seen it back on the new endpoint with the new profile. Raising the profile makes the
station delete lower-profile slots itself (OCPP 2.0.1 A05.FR.06); a fallback that survives (a move at the same
profile, for example to another environment's CSMS) is taken out of the priority list once the new slot works.

The CSMS the station is managed through (``csms_*``) and the CSMS it should end up on (``target_csms``, default
the same) may differ: a promotion sends the change through the test CSMS and confirms it on the production one.
"""

from __future__ import annotations

import datetime
import socket
import ssl
import time

from ansible.module_utils.six.moves.urllib.parse import urlsplit

from ansible_collections.evcs.provisioning.plugins.module_utils import identity, x509 as certs
from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure
from ansible_collections.evcs.provisioning.plugins.module_utils.plaintext_secrets import guard_plaintext, plaintext_argument_spec
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CsmsError
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.connection import (
    lacks, task_backend, station_argument_spec,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.device_model import (
    StationSession, converge_variables, normalise_item,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.network_profile import (
    INTERFACES, add_connection_secrets, apn_argument_spec, check_url, connection_data, masked, profile_matches,
    secret_names, vpn_argument_spec,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.station import security16
from ansible_collections.evcs.provisioning.plugins.module_utils.station.configuration_keys import KeySession
from ansible_collections.evcs.provisioning.plugins.module_utils.station.protocol import ocpp_version_of
from ansible_collections.evcs.provisioning.plugins.module_utils.station_reset import came_back, send_reset, send_reset_and_wait
from ansible_collections.evcs.provisioning.plugins.module_utils.vault import (
    VaultError, vault_argument_spec, vault_kv_argument_spec, vault_setting,
)

#: the configuration slots assumed when neither the station model nor the station's report names them: OCPP 2.0.1
#: numbers slots from 1 (many stations have 1..3); a slot 0 is never assumed
DEFAULT_SLOTS = (1, 2, 3)
_PROFILE = {'component': {'name': 'SecurityCtrlr'}, 'variable': {'name': 'SecurityProfile'}}
_PRIORITY = {'component': {'name': 'OCPPCommCtrlr'}, 'variable': {'name': 'NetworkConfigurationPriority'}}
_DOWNGRADE = {'component': {'name': 'SecurityCtrlr'}, 'variable': {'name': 'AllowSecurityProfileDowngrade'}}
_TLS_TIMEOUT = 10


def security_profile_argument_spec():
    spec = station_argument_spec(**dict(vault_argument_spec(), **vault_kv_argument_spec()))
    spec.update(
        security_profile=dict(type='int', required=True, choices=[1, 2, 3]),
        ocpp_csms_url=dict(type='str', required=True),
        slot=dict(type='int'),
        slots=dict(type='list', elements='int'),
        csms_root_ca_path=dict(type='path'),
        allowed_hosts=dict(type='list', elements='str'),
        allow_downgrade=dict(type='bool', default=False),
        renew_before=dict(type='int', default=certs.RENEW_BEFORE_DAYS),
        interface=dict(type='str', default='Wired0', choices=INTERFACES),
        message_timeout=dict(type='int', default=30),
        apn=apn_argument_spec(),
        vpn=vpn_argument_spec(),
        reset_type=dict(type='str', default='OnIdle', choices=['OnIdle', 'Immediate']),
        timeout=dict(type='int', default=120),
        poll_interval=dict(type='float', default=1.0),
        target_csms=dict(type='dict', options=dict(
            url=dict(type='str', required=True),
            token=dict(type='str', no_log=True),
            ca_path=dict(type='path'),
            backend=dict(type='str'),
            options=dict(type='dict', no_log=False),
        )),
        url_key=dict(type='str', no_log=False),
        serial_number=dict(type='str'),
    )
    spec.update(plaintext_argument_spec())
    return spec


# -- reading ---------------------------------------------------------------------------------------------------
class _Station(object):
    """What the module reads about one station: device model, the slots its CSMS sent and both CSMS views."""

    def __init__(self, params, context):
        self.station_id = params['station_id']
        self.source = task_backend(params, context)
        self.target = task_backend(_target_params(params), context) if params.get('target_csms') else self.source
        self.session = StationSession(self.source, self.station_id)
        values = self._variables()
        self.profile = _integer(values.get('SecurityProfile'))
        self.priority = [int(slot) for slot in (values.get('NetworkConfigurationPriority') or '').split(',')
                         if slot.strip().isdigit()]
        self._downgrade_allowed = None
        self.memory = self.source.has('network_profile_memory')
        self.slots = dict(_read(self.source.sent_network_profiles, self.station_id,
                                what='the network profiles the CSMS sent the station') or {}) if self.memory else {}
        self.connection = self.connection_on(self.target)
        self.source_connection = self.connection if self.target is self.source else self.connection_on(self.source)

    def _variables(self, items=(_PROFILE, _PRIORITY)):
        results = self.session.get([normalise_item(item) for item in items])
        return dict((key.split('.')[-1], result.get('attributeValue')) for key, result in results.items()
                    if result.get('attributeStatus') == 'Accepted')

    @property
    def downgrade_allowed(self):
        """SecurityCtrlr.AllowSecurityProfileDowngrade, read only when a downgrade is in question (a run that keeps or
        raises the profile never needs it, so the run's first read does not carry it)."""
        if self._downgrade_allowed is None:
            value = self._variables((_DOWNGRADE,)).get('AllowSecurityProfileDowngrade')
            self._downgrade_allowed = str(value).lower() == 'true'
        return self._downgrade_allowed

    @property
    def active_slot(self):
        return self.priority[0] if self.priority else None

    def connection_on(self, backend):
        try:
            return backend.connection(self.station_id) or {}
        except CsmsError as error:
            return {'error': str(error)}


def _integer(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _target_params(params):
    target = params['target_csms']
    backend = target.get('backend') or params.get('csms_backend')
    options = target.get('options') if target.get('backend') or target.get('options') is not None else params.get('csms_options')
    return dict(params, csms_url=target['url'], csms_token=target.get('token'), csms_ca_path=target.get('ca_path'),
                csms_backend=backend, csms_options=options or {})


def _read(function, *args, **kwargs):
    try:
        return function(*args)
    except CsmsError as error:
        raise ModuleFailure('reading %s failed: %s' % (kwargs.get('what', 'from the CSMS'), error))


def endpoint_of(url, station_id):
    return url.rstrip('/') + '/' + station_id


def on_endpoint(connection, security_profile, url, station_id):
    """Whether the CSMS sees the station online with ``security_profile`` at ``url``."""
    return bool(connection.get('online') and connection.get('security_profile') == security_profile
                and connection.get('endpoint') == endpoint_of(url, station_id))


# -- planning --------------------------------------------------------------------------------------------------
def choose_slot(wanted_slot, security_profile, fallback, slots=None):
    """The slot of the new profile: ``wanted_slot``, else the profile's number when the station has that slot, else
    the first other of the station's ``slots`` (never the one it runs on, which stays as fallback)."""
    if wanted_slot is not None:
        return wanted_slot
    slots = list(slots or DEFAULT_SLOTS)
    for slot in ([security_profile] if security_profile in slots else []) + slots:
        if slot != fallback:
            return slot
    return None


def direction(current, wanted):
    if current is None or wanted > current:
        return 'upgrade'
    if wanted < current:
        return 'downgrade'
    return 'move'


def downgrade_refusal(station_id, current, wanted, downgrade_allowed):
    """Why OCPP 2.0.1 (A00.FR.005) forbids this downgrade on this station, or None when it is allowed."""
    if current is None or wanted >= current:
        return None
    if current >= 2 and wanted <= 1:
        return ('station %s runs security profile %d: a downgrade to profile %d is never allowed from profile 2 or 3 '
                '(OCPP 2.0.1 A00.FR.005) and would drop TLS: keep security_profile at %d' % (station_id, current, wanted, current))
    if not downgrade_allowed:
        return ('station %s runs security profile 3 and SecurityCtrlr.AllowSecurityProfileDowngrade is not true, so '
                'the downgrade to profile 2 is refused: set AllowSecurityProfileDowngrade on the station first or '
                'keep security_profile 3' % station_id)
    return None


def final_slot(params, slot, moves_csms):
    """The slot the station ends on. A move to another CSMS ends on the profile's own slot (or ``slot``), sent again
    through the target CSMS, so the CSMS that manages the station from then on keeps the record of it."""
    if params.get('slot') is not None:
        home = params['slot']
    elif params['security_profile'] in (params.get('slots') or DEFAULT_SLOTS):
        home = params['security_profile']
    else:
        home = slot
    return home if moves_csms and home != slot else slot


def plan_steps(station_id, slot, fallback, data, security_profile, fallback_kept, final=None):
    final = slot if final is None else final
    steps = ['SetNetworkProfile slot %d: %s (security profile %d)' % (slot, data['ocppCsmsUrl'], security_profile),
             'NetworkConfigurationPriority %s' % ','.join(str(item) for item in [slot, fallback] if item is not None),
             'Reset, then wait until the CSMS sees %s on %s with profile %d' % (
                 station_id, endpoint_of(data['ocppCsmsUrl'], station_id), security_profile)]
    if security_profile == 3:
        steps.append('confirm the client certificate the station presents')
    if final != slot:
        steps.append('SetNetworkProfile slot %d through the target CSMS: the same connection data, so that CSMS keeps '
                     'the record of the slot' % final)
        steps.append('NetworkConfigurationPriority %d (another Reset), confirmed on the target CSMS' % final)
    elif fallback is not None:
        steps.append('remove fallback slot %d from NetworkConfigurationPriority%s' % (
            fallback, ' (another Reset)' if fallback_kept else ' (the station deletes lower-profile slots itself)'))
    return steps


# -- prerequisites ---------------------------------------------------------------------------------------------
def _root_certificate(params):
    path = params.get('csms_root_ca_path')
    if not path:
        raise _Missing('csms_root_ca_path is not set: give the CSMS root PEM (evcs_csms.root_ca_path)')
    try:
        with open(path, 'rb') as handle:
            found = certs.load_certificates(handle.read().decode('ascii'))
    except (IOError, OSError, ValueError) as exc:
        raise _Missing('csms_root_ca_path %s is not a readable PEM certificate (%s)' % (path, exc))
    if not found:
        raise _Missing('csms_root_ca_path %s holds no certificate' % path)
    return found[-1]


class _Missing(Exception):
    """A prerequisite does not hold; the message says which and how to fix it."""


def _check_url(params):
    try:
        check_url(params['station_id'], params['ocpp_csms_url'], params['security_profile'], params.get('allowed_hosts'))
    except ModuleFailure as failure:
        raise _Missing(str(failure))


def _check_root_installed(station, root):
    answer = station.session.call('GetInstalledCertificateIds', {'certificateType': ['CSMSRootCertificate']})
    installed = set(certs.hash_key(chain['certificateHashData']) for chain in answer.get('certificateHashDataChain') or [])
    if not installed & certs.hash_keys(root, root):
        raise _Missing('the CSMS root %s (serial %s) is not installed on the station as CSMSRootCertificate: run the '
                       'identity role (trust anchors) first' % (root.subject.rfc4514_string(), certs.ocpp_serial(root.serial_number)))


#: the alerts by which a server that needs a client certificate ends a handshake without one: TLS 1.3
#: certificate_required, TLS 1.2 handshake_failure
_CLIENT_CERTIFICATE_ALERTS = ('CERTIFICATE_REQUIRED', 'SSLV3_ALERT_HANDSHAKE_FAILURE')


def _client_certificate_alert(exc):
    return any(alert in str(exc).upper() for alert in _CLIENT_CERTIFICATE_ALERTS)


def tls_chain_problem(url, root_pem, timeout=_TLS_TIMEOUT, client_certificate=False):
    """Handshake with the wss endpoint of ``url`` (certificate chained to ``root_pem`` and valid for the URL's host);
    None when it is usable, else why not.

    ``client_certificate`` (security profile 3): the endpoint must also ask for a client certificate, that is end
    the handshake without one with the alert a TLS 1.3 (certificate_required) or TLS 1.2 (handshake_failure) server
    sends; any other failure, or an endpoint that does not ask, is a problem.
    """
    parts = urlsplit(url)
    context = ssl.create_default_context(cadata=root_pem)
    context.check_hostname = True
    try:
        with socket.create_connection((parts.hostname, parts.port or 443), timeout=timeout) as sock:
            with context.wrap_socket(sock, server_hostname=parts.hostname) as tls:
                return _asks_for_client_certificate(tls, timeout) if client_certificate else None
    except ssl.SSLCertVerificationError as exc:
        return 'its certificate does not chain to the CSMS root or does not name %s (%s)' % (
            parts.hostname, exc.verify_message or exc)
    except ssl.SSLError as exc:
        if client_certificate and _client_certificate_alert(exc):
            return None  # the server verified its side and then refused the handshake without a client certificate
        return 'TLS handshake failed (%s)' % exc
    except (OSError, socket.timeout) as exc:
        return 'it does not answer (%s)' % exc


def _asks_for_client_certificate(tls, timeout):
    """After a TLS 1.3 handshake the server's certificate_required alert arrives with the first read."""
    tls.settimeout(min(timeout, 3.0))
    try:
        data = tls.recv(1)
    except ssl.SSLError as exc:
        if _client_certificate_alert(exc):
            return None
        return 'TLS failed after the handshake (%s)' % exc
    except (OSError, socket.timeout):
        data = None
    if data == b'':
        # closed at once, before any request: a server that refused the missing certificate but whose TLS stack
        # dropped the alert (asyncio servers do); a profile 2 endpoint waits for the HTTP upgrade instead
        return None
    return 'it did not ask for a client certificate: it is not a security profile 3 (mTLS) endpoint'


def _check_endpoint(params, root):
    problem = tls_chain_problem(params['ocpp_csms_url'], certs.to_pem(root),
                                client_certificate=params['security_profile'] == 3)
    if problem:
        raise _Missing('the CSMS endpoint %s for security profile %d cannot be used: %s' % (
            params['ocpp_csms_url'], params['security_profile'], problem))


def _client_certificate(params, context, station, name=None):
    """The certificate the station will present on profile 3 (CN ``name``: its station id, a 1.6 station's serial);
    raises _Missing when it would be refused.

    The certificate counted is the one the identity stage counts (``identity.held_certificate``): the newer of what
    the station presents and what Vault last signed for it, found through the station's KV record by its serial, not
    by listing the PKI mount, so the check costs the same few Vault requests whatever the mount holds.
    """
    if not vault_setting(params, 'vault_url'):
        raise _Missing('vault_url is not set: profile 3 needs the issuing CA of vault_pki_mount to check the station '
                       'certificate')
    name = name or station.station_id
    pem = station.source_connection.get('client_certificate')
    try:
        presented = certs.load_certificate(pem) if pem else None
        held = identity.held_certificate(dict(params, common_name=name), context, presented)
    except (ModuleFailure, VaultError, ValueError, TypeError) as exc:
        raise _Missing('the station certificate could not be checked in Vault mount %s: %s' % (
            params.get('vault_pki_mount') or 'pki', exc))
    wanted = {'common_name': name, 'issuer': held['issuer'], 'revoked_serials': held['revoked_serials'],
              'renew_at_fraction': 1.0, 'renew_before': datetime.timedelta(days=params['renew_before'])}
    current = held['certificate']
    needed, reason = certs.needs_enrollment(current, wanted, datetime.datetime.now(datetime.timezone.utc))
    if needed:
        if current is None and held['record']:
            reason += ' (Vault has no certificate recorded for it at %s, and it presents none)' % held['record']
        raise _Missing('the station has no usable client certificate from %s (%s): run the identity role '
                       '(station_certificate) first' % (held['issuer'].subject.rfc4514_string(), reason))
    return current


def check_prerequisites(params, context, station, fallback):
    """{name: 'ok' | why it fails}; the certificate the station will present on profile 3 (or None)."""
    checks = [('url_in_environment', lambda: _check_url(params))]
    if params['security_profile'] >= 2:
        checks.append(('csms_root_installed', lambda: _check_root_installed(station, _root_certificate(params))))
        checks.append(('csms_endpoint_tls', lambda: _check_endpoint(params, _root_certificate(params))))
    if params['security_profile'] == 3:
        checks.append(('client_certificate', lambda: _client_certificate(params, context, station)))
    checks.append(('fallback_slot', lambda: _check_fallback(station, fallback)))
    return _run_checks(checks)


def _run_checks(checks, results=None):
    """Run each ``(name, check)`` of the prerequisites into ``results`` (what was already decided comes first):
    ``({name: 'ok' or why it is missing}, the presented client certificate or None)``. Every check runs, so the
    report names everything that is missing at once."""
    results, presented = ({} if results is None else results), None
    for name, check in checks:
        try:
            found = check()
        except _Missing as missing:
            results[name] = str(missing)
            continue
        results[name] = 'ok'
        if name == 'client_certificate':
            presented = found
    return results, presented


def _check_fallback(station, fallback):
    if fallback is None or not station.source_connection.get('online'):
        raise _Missing('the station is not online on a slot it could fall back to (NetworkConfigurationPriority %s): '
                       'bring it online first' % (','.join(str(slot) for slot in station.priority) or 'empty'))


# -- applying --------------------------------------------------------------------------------------------------
def _set_priority(session, slots, check_mode=False):
    item = normalise_item(dict(_PRIORITY, value=[str(slot) for slot in slots], value_type='list'))
    return converge_variables(session, [item], check_mode)


def _send_profile(station, slot, data, session=None):
    answer = (session or station.session).call('SetNetworkProfile', {'configurationSlot': slot, 'connectionData': data})
    if answer.get('status') != 'Accepted':
        info = answer.get('statusInfo') or {}
        raise ModuleFailure('station %s answered SetNetworkProfile for slot %d (%s, security profile %d) with %s (%s); '
                            'nothing else was changed' % (station.station_id, slot, data['ocppCsmsUrl'],
                                                          data['securityProfile'], answer.get('status'),
                                                          info.get('reasonCode') or 'no reason given'))


_SEEN_KEYS = ('online', 'security_profile', 'endpoint', 'connected_at', 'connections_total', 'error')


def _seen(connection):
    return {key: connection.get(key) for key in _SEEN_KEYS if connection.get(key) is not None}


def wait_for_profile(station, params, before, fallback_url, fallback_profile, clock=time.monotonic, sleep=time.sleep):
    """Wait until the target CSMS sees the station on the new endpoint; stop early when it fell back instead."""
    deadline = clock() + params['timeout']
    watched = [(station.target, before['target'])]
    if station.target is not station.source:
        watched.append((station.source, before['source']))
    while True:
        views = [(backend, earlier, station.connection_on(backend)) for backend, earlier in watched]
        target_now = views[0][2]
        if came_back(before['target'], target_now) and on_endpoint(
                target_now, params['security_profile'], params['ocpp_csms_url'], station.station_id):
            return target_now, None
        for _backend_, earlier, now in views:
            if fallback_url and came_back(earlier, now) and on_endpoint(now, fallback_profile, fallback_url, station.station_id):
                return None, now
        if clock() >= deadline:
            return None, views[-1][2]
        sleep(params['poll_interval'])


def _confirm_certificate(station, connection, expected):
    pem = connection.get('client_certificate')
    if not pem:
        raise ModuleFailure('station %s is back on profile 3 but the CSMS shows no client certificate' % station.station_id)
    presented = certs.load_certificate(pem)
    if expected is not None and presented.fingerprint(certs.hashes.SHA256()) != expected.fingerprint(certs.hashes.SHA256()):
        raise ModuleFailure('station %s is back on profile 3 with certificate serial %s, not the expected serial %s: '
                            'check the station certificate (identity role)' % (
                                station.station_id, certs.ocpp_serial(presented.serial_number),
                                certs.ocpp_serial(expected.serial_number)))
    return certs.certificate_facts(presented, datetime.datetime.now(datetime.timezone.utc))


def _fell_back(station, params, fallback, seen, context):
    """The station did not come back on the new slot: put the fallback first again and fail this host."""
    restored = None
    if seen and seen.get('online'):
        try:
            restored = _set_priority(StationSession(station.source, station.station_id), [fallback])['changed']
        except ModuleFailure as failure:
            context.warn(str(failure))
    where = ('back on its previous profile %s at %s' % (seen.get('security_profile'), seen.get('endpoint'))
             if seen and seen.get('online') else 'not connected (last seen: %s)' % _seen(seen or {}))
    hint = (' and that it still holds the certificate Vault recorded for it (a factory-reset or replaced station '
            'does not: run once with identity_force=true to enroll it again)' if params['security_profile'] == 3 else '')
    raise ModuleFailure('station %s did not come back on security profile %d at %s within %ds after the Reset; it is %s%s. '
                        'Check that the station can reach that endpoint%s; the next run tries again' % (
                            station.station_id, params['security_profile'], endpoint_of(params['ocpp_csms_url'], station.station_id),
                            params['timeout'], where,
                            '; slot %d is first in NetworkConfigurationPriority again' % fallback if restored is not None else '',
                            hint),
                        seen=_seen(seen or {}), connect_history=[_seen(seen or {})])


def _drop_fallback(station, params, slot, fallback, context):
    """Leave ``slot`` alone in NetworkConfigurationPriority once the new slot works (another Reset when needed)."""
    session = StationSession(station.target, station.station_id)
    values = dict((key.split('.')[-1], result.get('attributeValue'))
                  for key, result in session.get([normalise_item(_PRIORITY)]).items())
    remaining = [item.strip() for item in (values.get('NetworkConfigurationPriority') or '').split(',') if item.strip()]
    if remaining == [str(slot)]:
        return 'deleted by the station (A05.FR.06)'
    outcome = _set_priority(session, [slot])
    if outcome['reboot_required']:
        _status, (now, _fallback_seen) = send_reset_and_wait(
            session, params['reset_type'], 'reset it on site to take slot %d out of use' % fallback,
            confirm=lambda before: wait_for_profile(station, params, {'target': before, 'source': before}, None, None))
        if now is None:
            context.warn('station %s: removing the fallback slot %d needed a Reset and the station did not come back '
                         'within %ds' % (station.station_id, fallback, params['timeout']))
            return 'removed, Reset pending'
    return 'removed'


def run_security_profile(params, context):
    add_connection_secrets(params, context)
    backend = task_backend(params, context)
    connection = _Plain(params['station_id']).connection_on(backend)
    if security16.is_16(ocpp_version_of(connection, params.get('ocpp_version'), params['station_id'])):
        return run_security_profile_16(params, context, backend, connection)
    station = _Station(params, context)
    station_id, wanted = station.station_id, params['security_profile']
    data = connection_data(dict(params, ocpp_version='OCPP20', ocpp_transport='JSON'))
    active = station.active_slot
    sent_active = station.slots.get(str(active)) if active is not None else None
    result = {'station_id': station_id, 'from_profile': station.profile, 'to_profile': wanted,
              'direction': direction(station.profile, wanted), 'changed': False, 'plan': [],
              'downgrade_override': False}

    if (station.profile == wanted and (not station.memory or profile_matches(data, sent_active))
            and on_endpoint(station.connection, wanted, params['ocpp_csms_url'], station_id)):
        if not station.memory:
            lacks(station.source, 'network_profile_memory', context, 'the network profile of the active slot %s of '
                  'station %s (its profile and endpoint are as wanted)' % (active, station_id))
        result.update(slot=active, prerequisites={}, connection=_seen(station.connection))
        return result

    downgrading = station.profile is not None and wanted < station.profile
    refusal = downgrade_refusal(station_id, station.profile, wanted, station.downgrade_allowed if downgrading else False)
    if refusal and not params['allow_downgrade']:
        raise ModuleFailure(refusal + ' (or set allow_downgrade: true, which is audited)', refused='downgrade')
    if refusal:
        result['downgrade_override'] = True
        context.warn('AUDIT station %s: allow_downgrade=true overrides the downgrade rule: %s' % (station_id, refusal))

    slot = choose_slot(params.get('slot'), wanted, active, params.get('slots'))
    if slot is None:
        raise ModuleFailure('station %s has no configuration slot besides the one it runs on (%s, slots %s), so the change '
                            'cannot keep a fallback: check the station model\'s slots' % (
                                station_id, active, ','.join(map(str, params.get('slots') or DEFAULT_SLOTS))))
    if params.get('slots') and slot not in params['slots']:
        raise ModuleFailure('station %s: slot %d is not one of its configuration slots (%s): choose one of them' % (
            station_id, slot, ','.join(map(str, params['slots']))))
    fallback = active if active != slot else None
    fallback_data = station.slots.get(str(fallback)) if fallback is not None else None
    fallback_kept = bool(fallback_data and int(fallback_data.get('securityProfile', 0)) >= wanted)
    prerequisites, expected_cert = check_prerequisites(params, context, station, fallback)
    missing = dict((name, why) for name, why in prerequisites.items() if why != 'ok')
    final = final_slot(params, slot, station.target is not station.source)
    result.update(slot=final, fallback_slot=fallback, prerequisites=prerequisites,
                  plan=plan_steps(station_id, slot, fallback, data, wanted, fallback_kept, final), changed=True,
                  diff={'before': {'security_profile': station.profile, 'priority': ','.join(map(str, station.priority)),
                                   'slot': active, 'connection_profile': masked(sent_active)},
                        'after': {'security_profile': wanted, 'priority': str(final), 'slot': final,
                                  'connection_profile': masked(data)}})
    if missing and context.check_mode:
        context.warn('station %s: the change could not start now: %s' % (station_id, '; '.join(
            '%s: %s' % item for item in missing.items())))
    if missing and not context.check_mode:
        raise ModuleFailure('station %s: security profile %d refused before anything was sent, prerequisite %s' % (
            station_id, wanted, '; prerequisite '.join('%s not met: %s' % item for item in missing.items())),
            prerequisites=prerequisites, missing=sorted(missing))
    # the new slot goes over the connection the station has now: an APN/VPN secret over ws:// needs consent
    consent = guard_plaintext(params, context, station.profile, secret_names(data))
    if consent:
        result['diff']['after']['plaintext_secrets'] = consent
    if context.check_mode:
        return result
    if lacks(station.source, 'set_network_profile', context, 'security profile %d of station %s was not set (change '
             'it through the CSMS itself)' % (wanted, station_id)):
        return dict(result, changed=False, skipped=True)

    _send_profile(station, slot, data)
    _set_priority(station.session, [slot] + ([fallback] if fallback is not None else []))
    fallback_url = (fallback_data or {}).get('ocppCsmsUrl') or (station.source_connection.get('endpoint') or '').rsplit('/', 1)[0]
    fallback_profile = int((fallback_data or {}).get('securityProfile') or station.profile or 1)
    target_before = station.connection_on(station.target)
    _status, (now, seen) = send_reset_and_wait(
        station.session, params['reset_type'],
        'reset it on site; the new slot is configured with the old one as fallback',
        confirm=lambda before: wait_for_profile(station, params, {'target': target_before, 'source': before},
                                                fallback_url, fallback_profile))
    if now is None:
        _fell_back(station, params, fallback, seen, context)
    if wanted == 3:
        if lacks(station.target, 'client_certificate', context,
                 'the certificate station %s presents on profile 3' % station.station_id):
            result['certificate'] = None
        else:
            result['certificate'] = _confirm_certificate(station, now, expected_cert)
    if final != slot:
        # the target CSMS sends the slot again (the station runs on ``slot`` meanwhile, with the same data)
        _send_profile(station, final, data, session=StationSession(station.target, station_id))
    if fallback is not None or final != slot:
        result['fallback'] = _drop_fallback(station, params, final, fallback, context)
    result['connection'] = _seen(now)
    return result


# -- OCPP 1.6 with the Security Extension --------------------------------------------------------------------------
class _Plain(object):
    """What the shared checks need of a station: its id and the connection its CSMS sees."""

    def __init__(self, station_id, connection=None):
        self.station_id = station_id
        self.source_connection = connection or {}

    connection_on = _Station.connection_on


def _keys16(session, url_key):
    """The station's SecurityProfile and URL key values; fails when it lacks the Security Extension's key."""
    wanted = [security16.SECURITY_PROFILE] + ([url_key] if url_key else [])
    found, unknown = session.get(wanted)
    if security16.SECURITY_PROFILE in unknown or security16.SECURITY_PROFILE not in found:
        raise ModuleFailure('station %s (OCPP 1.6) does not know the configuration key SecurityProfile: it lacks the '
                            'Security Extension, so its security profile cannot be managed over OCPP'
                            % session.station_id, field='security_profile')
    if url_key and (url_key in unknown or url_key not in found):
        raise ModuleFailure('station %s (OCPP 1.6) does not know the configuration key %s that its station model names '
                            'for the Central System URL: fix configuration_keys.central_system_url in the model file'
                            % (session.station_id, url_key), field='url_key', value=url_key)
    return (security16.integer(found[security16.SECURITY_PROFILE].get('value')) or 0,
            found.get(url_key, {}).get('value') if url_key else None)


def _check_root_installed16(session, root):
    action, payload = security16.installed_request(security16.root_type('CSMSRootCertificate', session.station_id))
    installed = set(certs.hash_key(data) for data in security16.installed_hash_data(session.call(action, payload)))
    if not installed & certs.hash_keys(root, root):
        raise _Missing('the CSMS root %s (serial %s) is not installed on the station as CentralSystemRootCertificate: '
                       'run the identity role (trust anchors) first'
                       % (root.subject.rfc4514_string(), certs.ocpp_serial(root.serial_number)))


def _check_authorization_key(current, wanted):
    """Profiles 1 and 2 authenticate with the AuthorizationKey (A05.FR.02): a station that connects with basic auth
    now (profile 1 or 2) holds one; from profile 0 the station checks it itself and rejects the change without one."""
    if current in (1, 2):
        return 'ok'
    return 'checked by the station (A05.FR.02): it rejects profile %d without an AuthorizationKey' % wanted


def check_prerequisites16(params, context, session, plain, current, name):
    """The 1.6 prerequisites, in the order of A05.FR.02-04, before anything is sent."""
    results = {}
    wanted = params['security_profile']
    checks = [('url_in_environment', lambda: _check_url(params))]
    if wanted in (1, 2):
        results['authorization_key'] = _check_authorization_key(current, wanted)
    if wanted >= 2:
        checks.append(('csms_root_installed', lambda: _check_root_installed16(session, _root_certificate(params))))
        checks.append(('csms_endpoint_tls', lambda: _check_endpoint(params, _root_certificate(params))))
    if wanted == 3:
        checks.append(('client_certificate', lambda: _client_certificate(params, context, plain, name)))
    checks.append(('online', lambda: _check_online16(plain)))
    return _run_checks(checks, results)


def _check_online16(plain):
    if not plain.source_connection.get('online'):
        raise _Missing('the station is not connected to the CSMS: bring it online first (a 1.6 station falls back to '
                       'its previous profile only from a working connection)')


def plan16(station_id, url_key, url, wanted, url_differs):
    steps = []
    if url_differs:
        steps.append('ChangeConfiguration %s = %s' % (url_key, url))
    steps += ['ChangeConfiguration SecurityProfile = %d (the station checks its prerequisites, A05.FR.02-04)' % wanted,
              'wait until the CSMS sees %s on %s with profile %d: the station reconnects by itself (A05.FR.06/07); one '
              'that keeps its connection for %ds gets one Reset (Hard)' % (
                  station_id, endpoint_of(url, station_id), wanted, security16.SELF_RECONNECT_SECONDS)]
    if wanted == 3:
        steps.append('confirm the client certificate the station presents (CN = its serial number)')
    return steps


def _change16(session, key, value, what):
    status = session.change(key, value)
    if status not in ('Accepted', 'RebootRequired'):
        raise ModuleFailure('station %s answered ChangeConfiguration %s = %s with %s; %s' % (
            session.station_id, key, value, status or 'no status', what), status=status)
    return status


def wait16(backend, station_id, before, params, old_url, old_profile, reset_at, clock=time.monotonic, sleep=time.sleep):
    """Wait until the CSMS sees the station on the new endpoint with the new profile: ``(connection, None)``; or
    ``(None, connection)`` when it came back on its previous profile and endpoint (A05.FR.08) or the time is up."""
    deadline = clock() + params['timeout']
    plain = _Plain(station_id)
    while True:
        now = plain.connection_on(backend)
        if security16.reconnected(before, now) and on_endpoint(now, params['security_profile'], params['ocpp_csms_url'],
                                                               station_id):
            return now, None
        if (reset_at and came_back(reset_at, now) and old_url
                and on_endpoint(now, old_profile, old_url, station_id)):
            return None, now
        if clock() >= deadline:
            return None, now
        sleep(params['poll_interval'])


def reconnect16(backend, session, before, params, old_url, old_profile, status, clock=time.monotonic, sleep=time.sleep):
    """After the SecurityProfile change: ``(connection on the new profile or None, last connection seen, how)``.

    A spec-following station disconnects and reconnects with its new profile by itself (A05.FR.06/07) or, when it
    cannot connect, on its previous one (A05.FR.08). A station that keeps its connection for SELF_RECONNECT_SECONDS
    (or answered RebootRequired) takes the new profile only at a reboot: it gets one Reset (Hard), as OCTT's
    TC_083_CSMS sends, and the reconnect after it is confirmed the same way."""
    station_id, plain = session.station_id, _Plain(session.station_id)
    start = clock()
    deadline = start + params['timeout']
    # a station that keeps its connection gets its Reset in time to come back within the timeout
    grace = 0 if status == 'RebootRequired' else min(security16.SELF_RECONNECT_SECONDS, params['timeout'] / 2.0)
    acting = False
    while clock() < start + grace or acting:
        now = plain.connection_on(backend)
        if security16.reconnected(before, now):
            if on_endpoint(now, params['security_profile'], params['ocpp_csms_url'], station_id):
                return now, None, 'by itself'
            if old_url and on_endpoint(now, old_profile, old_url, station_id):
                return None, now, 'by itself'
        # it disconnected: it acts by itself, no Reset in the middle of its reconnect
        acting = acting or not now.get('online') or security16.reconnected(before, now)
        if clock() >= deadline:
            return None, now, 'by itself'
        sleep(params['poll_interval'])
    reset_at = plain.connection_on(backend)
    send_reset(session, 'Hard', 'reset it on site: its SecurityProfile is set and it did not reconnect by itself')
    remaining = dict(params, timeout=max(deadline - clock(), params['poll_interval']))
    now, seen = wait16(backend, station_id, before, remaining, old_url, old_profile, reset_at, clock, sleep)
    return now, seen, 'after Reset (Hard)'


def _fell_back16(session, params, url_key, old_url, old_profile, seen, context):
    """The station is not on the new profile: put its URL key back when it kept the new URL on its old profile (so a
    later reboot does not strand it), and fail this host saying where the station is."""
    restored = ''
    if seen and seen.get('online'):
        try:
            profile, url = _keys16(session, url_key)
            if url_key and url != old_url and profile == old_profile and old_url:
                session.change(url_key, old_url)
                restored = '; %s set back to %s' % (url_key, old_url)
        except ModuleFailure as failure:
            context.warn(str(failure))
        where = ('connected on its previous security profile %s at %s (it fell back, Security Extension A05.FR.08)%s'
                 % (seen.get('security_profile'), seen.get('endpoint'), restored))
    else:
        where = 'not connected (last seen: %s)' % _seen(seen or {})
    raise ModuleFailure('station %s (OCPP 1.6) did not come back on security profile %d at %s within %ds; it is %s. '
                        'Check that the station can reach that endpoint%s; the next run tries again' % (
                            session.station_id, params['security_profile'],
                            endpoint_of(params['ocpp_csms_url'], session.station_id), params['timeout'], where,
                            ' and that the certificate it holds names its serial number' if params['security_profile'] == 3 else ''),
                        kind='fell_back' if seen and seen.get('online') else 'not_connected', seen=_seen(seen or {}),
                        connect_history=[_seen(seen or {})])


def run_security_profile_16(params, context, backend, connection):
    """Security profile 1 -> 2 -> 3 of an OCPP 1.6 station: the URL key of its model, then the SecurityProfile key,
    and the reconnect confirmed through the CSMS (by itself, or after one Reset: reconnect16); no slots, never a
    downgrade (A00.FR.005)."""
    station_id, wanted, url = params['station_id'], params['security_profile'], params['ocpp_csms_url']
    url_key = params.get('url_key')
    session = KeySession(backend, station_id, max_keys=0)
    current, current_url = _keys16(session, url_key)
    plain = _Plain(station_id, connection)
    result = {'station_id': station_id, 'ocpp_version': security16.VERSION, 'from_profile': current,
              'to_profile': wanted, 'direction': direction(current, wanted), 'changed': False, 'plan': [],
              'downgrade_override': False}
    if current == wanted and on_endpoint(connection, wanted, url, station_id):
        result.update(prerequisites={}, connection=_seen(connection))
        return result
    refusal = security16.profile_refusal(station_id, current, wanted)
    if refusal:
        raise ModuleFailure(refusal, refused='downgrade')
    if current == wanted:
        raise ModuleFailure('station %s (OCPP 1.6) runs security profile %d at %s, not at %s: the Security Extension '
                            'changes the endpoint only together with a higher profile (A05), so the security stage does '
                            'not move it at the same profile: change %s with evcs.provisioning.configuration_keys and '
                            'reset the station' % (station_id, wanted, connection.get('endpoint'),
                                                   endpoint_of(url, station_id), url_key or 'its URL key'),
                            field='ocpp_csms_url', value=url)
    if not url_key:
        raise ModuleFailure('station %s (OCPP 1.6): its station model names no configuration key for the Central System '
                            'URL (configuration_keys.central_system_url), so the new endpoint cannot be set: add it to '
                            'the model file' % station_id, field='url_key')
    name = security16.certificate_common_name(station_id, params.get('serial_number'), connection) if wanted == 3 else None
    url_differs = current_url != url
    prerequisites, expected_cert = check_prerequisites16(params, context, session, plain, current, name)
    missing = dict((key, why) for key, why in prerequisites.items()
                   if why != 'ok' and not why.startswith('checked by the station'))
    result.update(prerequisites=prerequisites, changed=True, plan=plan16(station_id, url_key, url, wanted, url_differs),
                  diff={'before': {'security_profile': current, url_key: current_url},
                        'after': {'security_profile': wanted, url_key: url}})
    if missing and context.check_mode:
        context.warn('station %s: the change could not start now: %s' % (station_id, '; '.join(
            '%s: %s' % item for item in missing.items())))
    if missing and not context.check_mode:
        raise ModuleFailure('station %s: security profile %d refused before anything was sent, prerequisite %s' % (
            station_id, wanted, '; prerequisite '.join('%s not met: %s' % item for item in missing.items())),
            prerequisites=prerequisites, missing=sorted(missing))
    if context.check_mode:
        return result

    before = plain.connection_on(backend)
    old_url = (before.get('endpoint') or '').rsplit('/', 1)[0] or current_url
    if url_differs:
        _change16(session, url_key, url, 'nothing was changed')
    status = session.change(security16.SECURITY_PROFILE, str(wanted))
    if status not in ('Accepted', 'RebootRequired'):
        undone = ''
        if url_differs and current_url:
            session.change(url_key, current_url)
            undone = '; %s was set back to %s' % (url_key, current_url)
        raise ModuleFailure('station %s answered ChangeConfiguration SecurityProfile = %d with %s: it found a '
                            'prerequisite missing (A05.FR.02-04: an AuthorizationKey for 1 and 2, a '
                            'CentralSystemRootCertificate for 2 and 3, a charge point certificate for 3)%s; it stays on '
                            'profile %d' % (station_id, wanted, status or 'no status', undone, current),
                            status=status, prerequisites=prerequisites)
    now, seen, result['reconnect'] = reconnect16(backend, session, before, params, old_url, current, status)
    if now is None:
        _fell_back16(session, params, url_key, old_url, current, seen, context)
    if wanted == 3:
        if lacks(backend, 'client_certificate', context, 'the certificate station %s presents on profile 3' % station_id):
            result['certificate'] = None
        else:
            result['certificate'] = _confirm_certificate(plain, now, expected_cert)
    result['connection'] = _seen(now)
    return result
