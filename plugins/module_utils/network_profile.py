# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SetNetworkProfile for one configuration slot, plus OCPPCommCtrlr.NetworkConfigurationPriority.

OCPP 2.0.1 has no call that reads a network connection profile back (there is no GetNetworkProfile, and the
device model does not expose slot contents), so the CSMS is the authority on what it sent: it keeps the connection
data of every SetNetworkProfile the station accepted, per slot, with each secret replaced by
``{'salt': ..., 'sha256': sha256(salt + value)}`` (``CsmsBackend.network_profiles``). The module compares the
desired profile with that, secrets by recomputing the salted hash, whether or not the station has a CSMS record.
"""

from __future__ import annotations

import hashlib
import hmac

from ansible.module_utils.six.moves.urllib.parse import urlsplit

from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CapabilityMissing, CsmsError
from ansible_collections.evcs.provisioning.plugins.module_utils.plaintext_secrets import guard_plaintext, plaintext_argument_spec
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.connection import (
    lacks, task_backend, station_argument_spec, unverifiable,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.device_model import (
    MASK, StationSession, converge_variables, current_values, normalise_item, variable_key,
)

INTERFACES = ['Wired0', 'Wired1', 'Wired2', 'Wired3', 'Wireless0', 'Wireless1', 'Wireless2', 'Wireless3']
_SCHEMES = {1: 'ws', 2: 'wss', 3: 'wss'}
STATION_CERTIFICATE = 'ChargingStationCertificate'
#: option name -> OCPP key, per part of the connection data; the CSMS keeps secrets only as salted hashes
_APN_KEYS = {'apn': 'apn', 'apn_user_name': 'apnUserName', 'apn_password': 'apnPassword', 'sim_pin': 'simPin',
             'preferred_network': 'preferredNetwork', 'use_only_preferred_network': 'useOnlyPreferredNetwork',
             'apn_authentication': 'apnAuthentication'}
_VPN_KEYS = {'server': 'server', 'user': 'user', 'group': 'group', 'password': 'password', 'key': 'key', 'type': 'type'}
_SECRETS = ('apnPassword', 'simPin', 'password', 'key')
_PRIORITY = {'component': {'name': 'OCPPCommCtrlr'}, 'variable': {'name': 'NetworkConfigurationPriority'},
             'value_type': 'list'}
_SECURITY_PROFILE = {'component': {'name': 'SecurityCtrlr'}, 'variable': {'name': 'SecurityProfile'}}


def network_profile_argument_spec():
    return station_argument_spec(
        slot=dict(type='int', required=True),
        ocpp_csms_url=dict(type='str', required=True),
        security_profile=dict(type='int', required=True, choices=[1, 2, 3]),
        interface=dict(type='str', default='Wired0', choices=INTERFACES),
        ocpp_version=dict(type='str', default='OCPP20', choices=['OCPP20']),
        ocpp_transport=dict(type='str', default='JSON', choices=['JSON']),
        message_timeout=dict(type='int', default=30),
        apn=apn_argument_spec(),
        vpn=vpn_argument_spec(),
        priority=dict(type='list', elements='int'),
        allowed_hosts=dict(type='list', elements='str'),
        **plaintext_argument_spec()
    )


def secret_names(data):
    """The secrets a connection profile carries (``apn.apnPassword``, ``vpn.key``, ...): what must not go over ws://."""
    return ['%s.%s' % (section, key) for section in ('apn', 'vpn') for key in _SECRETS
            if (data.get(section) or {}).get(key) not in (None, '')]


def apn_argument_spec():
    """The ``apn`` option of a connection profile (shared with the security_profile module's new slot)."""
    return dict(type='dict', options=dict(
        apn=dict(type='str', required=True),
        apn_user_name=dict(type='str'),
        apn_password=dict(type='str', no_log=True),
        sim_pin=dict(type='int', no_log=True),
        preferred_network=dict(type='str'),
        use_only_preferred_network=dict(type='bool'),
        apn_authentication=dict(type='str', default='AUTO', choices=['CHAP', 'NONE', 'PAP', 'AUTO']),
    ))


def vpn_argument_spec():
    """The ``vpn`` option of a connection profile (shared with the security_profile module's new slot)."""
    return dict(type='dict', options=dict(
        server=dict(type='str', required=True),
        user=dict(type='str', required=True),
        group=dict(type='str'),
        password=dict(type='str', required=True, no_log=True),
        key=dict(type='str', required=True, no_log=True),
        type=dict(type='str', required=True, choices=['IKEv2', 'IPSec', 'L2TP', 'PPTP']),
    ))


def add_connection_secrets(params, context):
    """Hide the secrets of the ``apn``/``vpn`` options from every output."""
    for section, key in (('apn', 'apn_password'), ('apn', 'sim_pin'), ('vpn', 'password'), ('vpn', 'key')):
        context.add_secret((params.get(section) or {}).get(key))


# -- connection data -----------------------------------------------------------------------------------------
def _section(values, keys):
    return dict((keys[name], value) for name, value in values.items() if value is not None and name in keys)


def connection_data(params):
    """The OCPP ``connectionData`` of the desired profile (schema spelling)."""
    data = {
        'ocppVersion': params['ocpp_version'],
        'ocppTransport': params['ocpp_transport'],
        'ocppCsmsUrl': params['ocpp_csms_url'],
        'messageTimeout': params['message_timeout'],
        'securityProfile': params['security_profile'],
        'ocppInterface': params['interface'],
    }
    if params.get('apn'):
        data['apn'] = _section(params['apn'], _APN_KEYS)
    if params.get('vpn'):
        data['vpn'] = _section(params['vpn'], _VPN_KEYS)
    return data


def salted_hash_matches(stored, value):
    """Whether the CSMS's ``{'salt', 'sha256'}`` of a secret is the hash of ``value``."""
    if not isinstance(stored, dict) or not stored.get('salt') or not stored.get('sha256'):
        return False
    digest = hashlib.sha256((str(stored['salt']) + str(value)).encode('utf-8')).hexdigest()
    return hmac.compare_digest(digest, str(stored['sha256']))


def _copy(data):
    """A copy of connection data whose apn/vpn sections may be changed without touching ``data``."""
    return dict(data, **dict((name, dict(data[name])) for name in ('apn', 'vpn') if name in data))


def _walk_secrets(data, visit):
    """Call ``visit(name, section, key)`` for each secret in connection data (``name`` is apn or vpn)."""
    for name in ('apn', 'vpn'):
        section = data.get(name) or {}
        for key in _SECRETS:
            if key in section:
                visit(name, section, key)


def profile_matches(desired, recorded):
    """Whether the slot content the CSMS kept (secrets as salted hashes) equals the desired connection data."""
    if not recorded:
        return False
    plain, stored = _copy(desired), _copy(recorded)
    mismatched = []

    def _compare(name, section, key):
        other = stored.get(name) or {}
        if not salted_hash_matches(other.get(key), section[key]):
            mismatched.append(key)
        section[key] = other.get(key)
    _walk_secrets(plain, _compare)
    return not mismatched and plain == stored


def masked(data):
    """Connection data for a diff: secrets as ``********``."""
    if not data:
        return data
    shown = _copy(data)

    def _mask(_name, section, key):
        section[key] = MASK
    _walk_secrets(shown, _mask)
    return shown


# -- guards --------------------------------------------------------------------------------------------------
def check_url(station_id, url, security_profile, allowed_hosts):
    """Refuse a CSMS URL that would cut the station off; message names the station, the value and the fix."""
    parts = urlsplit(url)
    scheme = _SCHEMES[security_profile]
    if parts.scheme != scheme or not parts.hostname:
        raise ModuleFailure('station %s: ocpp_csms_url %s does not fit security profile %d, which needs a %s:// URL: '
                            'take the URL for profile %d from evcs_csms.ws_urls' % (
                                station_id, url, security_profile, scheme, security_profile))
    if allowed_hosts is not None and parts.hostname not in allowed_hosts:
        raise ModuleFailure('station %s: ocpp_csms_url %s points at host %s, which is not a CSMS of this environment '
                            '(allowed: %s): use this environment\'s evcs_csms.ws_urls' % (
                                station_id, url, parts.hostname, ', '.join(allowed_hosts) or 'none'))


def _check_security_profile(session, wanted, current):
    try:
        active = int(current[variable_key(normalise_item(_SECURITY_PROFILE))])
    except (TypeError, ValueError, KeyError):
        return None
    if wanted < active:
        raise ModuleFailure('station %s runs security profile %d; a slot with security profile %d would be a '
                            'downgrade that the station refuses and that could cut it off: set security_profile '
                            'to %d or higher' % (session.station_id, active, wanted, active))
    return active


def _check_certificates(session, backend, wanted, context):
    """Profiles 2 and 3 need the CSMS root installed; profile 3 also the station's own certificate."""
    if wanted < 2:
        return
    answer = session.call('GetInstalledCertificateIds', {'certificateType': ['CSMSRootCertificate']})
    if answer.get('status') != 'Accepted':
        raise ModuleFailure('station %s has no CSMSRootCertificate installed, so it could not verify the CSMS over '
                            'wss with security profile %d: run the identity role (trust anchors) first'
                            % (session.station_id, wanted))
    evidence = _has_station_certificate(session.station_id, backend) if wanted == 3 else True
    if evidence is None:
        unverifiable(context, CapabilityMissing(backend.NAME, 'station_messages', 'the ChargingStationCertificate of '
                                                'station %s before security profile 3' % session.station_id))
    elif not evidence:
        raise ModuleFailure('station %s has no ChargingStationCertificate (it presents none to the CSMS and the CSMS '
                            'never received its SignCertificate request), so security profile 3 (mTLS) would cut it '
                            'off: run the identity role first' % session.station_id)


def _has_station_certificate(station_id, backend):
    """Evidence of a ChargingStationCertificate: GetInstalledCertificateIds lists trust anchors only in OCPP 2.0.1,
    so it is the certificate the station presents on a profile-3 connection, or the CSR round trip the CSMS saw
    (SignCertificate -> CertificateSigned)."""
    try:
        connection = backend.connection(station_id) or {}
        if connection.get('security_profile') == 3 and connection.get('client_certificate'):
            return True
        csrs = backend.messages(station_id, 'SignCertificate')
    except CapabilityMissing:
        return None
    except CsmsError as error:
        raise ModuleFailure('station %s: reading its certificate evidence from the CSMS failed: %s' % (station_id, error))
    return any(csr['payload'].get('certificateType', STATION_CERTIFICATE) == STATION_CERTIFICATE for csr in csrs)


# -- what the CSMS sent ----------------------------------------------------------------------------------------
#: what ``sent_profile`` returns when the backend cannot tell what the station accepted
UNKNOWN = object()


def sent_profile(backend, station_id, slot, context=None, in_use=False):
    """The connection data the station accepted for ``slot`` as the CSMS kept it (secrets hashed), or None.

    A backend without ``network_profile_memory`` cannot tell: a slot the station already lists in
    NetworkConfigurationPriority (``in_use``) is then reported as not verifiable and left alone (UNKNOWN), any other
    slot is taken as empty (None), so it is sent once."""
    if context is not None and lacks(backend, 'network_profile_memory', context, 'the network profile of slot %d of '
                                     'station %s' % (slot, station_id)):
        return UNKNOWN if in_use else None
    try:
        return (backend.sent_network_profiles(station_id) or {}).get(str(slot))
    except CsmsError as error:
        raise ModuleFailure('station %s: reading the network profiles the CSMS sent it failed: %s: the CSMS must keep '
                            'accepted SetNetworkProfile requests (see docs/BACKENDS.md)' % (station_id, error))


def _send_profile(session, slot, data):
    answer = session.call('SetNetworkProfile', {'configurationSlot': slot, 'connectionData': data})
    if answer.get('status') != 'Accepted':
        info = answer.get('statusInfo') or {}
        raise ModuleFailure('station %s answered SetNetworkProfile for slot %d (%s) with %s (%s): check the URL, '
                            'interface, APN and VPN settings' % (
                                session.station_id, slot, data['ocppCsmsUrl'], answer.get('status'),
                                ' '.join(filter(None, (info.get('reasonCode'), info.get('additionalInfo'))))
                                or 'no reason given'))


def _validate(params):
    station_id = params['station_id']
    if params['slot'] < 0:
        raise ModuleFailure('station %s: slot %d is not a configuration slot: use 0 or higher' % (station_id, params['slot']))
    if params.get('priority') is not None and params['slot'] not in params['priority']:
        raise ModuleFailure('station %s: priority %s does not list slot %d, so the station would never use it: add the '
                            'slot to priority' % (station_id, params['priority'], params['slot']))
    check_url(station_id, params['ocpp_csms_url'], params['security_profile'], params.get('allowed_hosts'))


def run_network_profile(params, context):
    _validate(params)
    add_connection_secrets(params, context)
    station_id, slot = params['station_id'], params['slot']
    backend = task_backend(params, context)
    session = StationSession.for_task(backend, station_id, context)
    data = connection_data(params)

    # one GetVariables: the active security profile and the slot order
    current = current_values(session, [normalise_item(_SECURITY_PROFILE), normalise_item(_PRIORITY)])
    active = _check_security_profile(session, params['security_profile'], current)
    slots_in_use = [item.strip() for item in (current[variable_key(normalise_item(_PRIORITY))] or '').split(',')]
    slot_in_use = slots_in_use[0]
    sent = sent_profile(backend, station_id, slot, context, str(slot) in slots_in_use)
    profile_changed = sent is not UNKNOWN and not profile_matches(data, sent)
    if profile_changed and lacks(backend, 'set_network_profile', context,
                                 'the network profile of slot %d of station %s was not sent' % (slot, station_id)):
        profile_changed, sent = False, UNKNOWN
    consent = guard_plaintext(params, context, active, secret_names(data)) if profile_changed else None
    if profile_changed:
        _check_certificates(session, backend, params['security_profile'], context)

    priority_items = []
    if params.get('priority') is not None:
        priority_items = [normalise_item(dict(_PRIORITY, value=params['priority']))]

    if profile_changed and not context.check_mode:
        _send_profile(session, slot, data)
    priority = converge_variables(session, priority_items, context.check_mode, current=current)

    new_first = str(params['priority'][0]) if params.get('priority') else slot_in_use
    reboot = (profile_changed and str(slot) == slot_in_use) or new_first != slot_in_use
    diff = {'before': dict(priority['diff']['before']), 'after': dict(priority['diff']['after'])}
    if profile_changed:
        diff['before']['slot %d' % slot] = masked(sent)
        diff['after']['slot %d' % slot] = masked(data)
    if consent:
        diff['after']['plaintext_secrets'] = consent
    outcome = {
        'changed': profile_changed or priority['changed'],
        'diff': diff,
        'slot': slot,
        'profile_changed': profile_changed,
        'priority_changed': priority['changed'],
        'reboot_required': bool(reboot and (profile_changed or priority['changed'])),
        'requests': session.calls,
    }
    outcome.update(session.facts())
    return outcome
