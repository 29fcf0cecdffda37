# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The commissioning checklist of one charging station: observe (network, TLS, CSMS, OCPP read-backs), then evaluate.

Observation and evaluation are apart: ``observe()`` does every read (read-only, so check mode changes nothing),
``evaluate()`` turns the observations into checklist items and is a pure function.

An OCPP 1.6 station (its CSMS connection says so) is observed through its 1.6 messages: its configuration keys
(``configuration_keys``, GetConfiguration) for the ``device_model`` item, TriggerMessage(StatusNotification) per
connectorId (1.6 numbers the connectors 1..N across the station), GetLocalListVersion's ``listVersion`` and the
composite schedule of connector 0 for the ChargePointMaxProfile.
"""

from __future__ import annotations

import datetime
import socket
import ssl

from urllib.parse import urlsplit

try:
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - reported as a failed item
    HAS_CRYPTOGRAPHY = False

from ansible_collections.evcs.provisioning.plugins.module_utils.charging_limit import (
    PURPOSE, convert, profile_view, station_max_profiles,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CapabilityMissing, CsmsError
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.connection import (
    csms_backend, lacks, station_argument_spec, with_snapshot,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.device_model import (
    StationSession, normalise, normalise_item, render, value_type, variable_key, variable_spec,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.desired.ocpp_settings import OCPP_DEFAULTS
from ansible_collections.evcs.provisioning.plugins.module_utils.station import charging_limit16, configuration_keys
from ansible_collections.evcs.provisioning.plugins.module_utils.station import security16
from ansible_collections.evcs.provisioning.plugins.module_utils.station.protocol import ocpp_version_of

#: the checklist, in the order it is reported
CHECKS = (
    'csms_dns', 'csms_tcp', 'csms_tls', 'station_mtls', 'station_online', 'heartbeat_recent', 'device_model',
    'certificate_validity', 'connectors_available', 'local_list_version', 'load_management_cap',
    'staging_password_refused',
)
PASS, FAIL, SKIP = 'pass', 'fail', 'skip'
#: in the plan of a run (check mode with pending_apply): an item the run's apply changes, checked after it
PENDING = 'pending'
#: items the stages before commissioning set on a station that is online: registration and boot, security profile and
#: certificate, device model, local list, charging limit, the station's own credentials (the staging password retired).
#: DNS, TCP and TLS of the CSMS, an offline station and the connectors of a station that already booted Accepted are
#: not the collection's to change, and fail a plan too.
_SET_BY_APPLY = ('station_mtls', 'station_online', 'device_model', 'certificate_validity', 'local_list_version',
                 'load_management_cap', 'staging_password_refused')
_SET_BY_BOOT = ('heartbeat_recent', 'connectors_available')
_DEFAULT_PORTS = {'ws': 80, 'wss': 443}


def commissioning_check_argument_spec():
    return station_argument_spec(
        csms_endpoint=dict(type='str', required=True),
        security_profile=dict(type='int', choices=[1, 2, 3]),
        trust_anchor_path=dict(type='path'),
        heartbeat_interval=dict(type='int', default=OCPP_DEFAULTS['heartbeat_interval']),
        device_model=dict(type='list', elements='dict', default=[], options=variable_spec()),
        configuration_keys=dict(type='list', elements='dict', default=[], options=configuration_keys.key_spec(),
                                no_log=False),
        certificate_min_days=dict(type='int', default=30),
        connectors=dict(type='list', elements='dict', options=dict(
            evse_id=dict(type='int', required=True),
            connector_id=dict(type='int', required=True),
        )),
        local_list_version=dict(type='int'),
        charging_limit=dict(type='dict', options=dict(
            limit=dict(type='float', required=True),
            unit=dict(type='str', default='A', choices=['A', 'W']),
            phases=dict(type='int', default=3, choices=[1, 2, 3]),
            voltage=dict(type='float', default=230.0),
        )),
        staging_password=dict(type='str', no_log=True),
        optional_checks=dict(type='list', elements='str', default=[], choices=list(CHECKS)),
        network_timeout=dict(type='float', default=5.0),
        pending_apply=dict(type='bool', default=False),
    )


def run_commissioning_check(params, context):
    """Read everything, evaluate the checklist, fail when a required item failed. Never writes."""
    try:
        backend = with_snapshot(csms_backend(params, warn=context.warn), params, context)
    except CsmsError as exc:
        raise ModuleFailure('station %s: %s' % (params['station_id'], exc))
    session = StationSession.for_task(backend, params['station_id'], context)
    if params.get('security_profile') == 3:
        lacks(backend, 'client_certificate', context, 'the client certificate station %s presents' % params['station_id'])
    observations = observe(params, session)
    checklist = evaluate(params, observations)
    if context.check_mode and params.get('pending_apply'):
        checklist = pending_after_apply(checklist, observations)
    failed = [item['name'] for item in checklist if item['status'] == FAIL and item['required']]
    outcome = dict(changed=False, station_id=params['station_id'], checklist=checklist, passed=not failed,
                   failed_items=failed, **session.facts())
    pending = [item['name'] for item in checklist if item['status'] == PENDING]
    if pending:
        outcome['pending_items'] = pending
    if failed:
        raise ModuleFailure(failure_message(params['station_id'], checklist), **outcome)
    return outcome


def pending_after_apply(checklist, observations):
    """The plan's checklist: failed items that the apply being planned changes become ``pending`` (checked after the
    apply); what no apply can fix stays failed."""
    connection = observations.get('connection') or {}
    if not _online(connection):
        return checklist
    booted = ((connection.get('boot') or {}).get('status')) == 'Accepted'
    planned = []
    for item in checklist:
        fixable = item['name'] in _SET_BY_APPLY or (item['name'] in _SET_BY_BOOT and not booted)
        if item['status'] == FAIL and fixable:
            item = dict(item, status=PENDING, evidence={'checked_after_apply': _evidence_text(item['evidence'])})
        planned.append(item)
    return planned


def failure_message(station_id, checklist):
    """One sentence per failed required item: what failed and the evidence."""
    reasons = ['%s (%s)' % (item['name'], _evidence_text(item['evidence']))
               for item in checklist if item['status'] == FAIL and item['required']]
    return 'station %s failed commissioning: %s' % (station_id, '; '.join(reasons))


def _evidence_text(evidence):
    if isinstance(evidence, dict):
        if evidence.get('mismatches'):
            return ', '.join('%s is %s, expected %s' % (m['variable'], m['actual'] if m['status'] == 'Accepted' else m['status'],
                                                        m['expected']) for m in evidence['mismatches'])
        if 'error' in evidence:
            return str(evidence['error'])
        return ', '.join('%s=%s' % (key, value) for key, value in sorted(evidence.items()))
    return str(evidence)


# -- observation (every read the checklist needs) ------------------------------------------------------
def endpoint_of(url):
    """``(scheme, host, port)`` of the station's CSMS URL."""
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ModuleFailure('csms_endpoint %r is not a ws:// or wss:// URL with a host: give the CSMS URL the station '
                            'is configured with, for example wss://csms.example.net/ocpp/<station id>' % url)
    return parts.scheme, parts.hostname, parts.port or _DEFAULT_PORTS[parts.scheme]


def observe(params, session):
    """Every observation ``evaluate()`` needs, read through ``session`` (a ``StationSession`` of the station's CSMS);
    errors are recorded as ``{"error": text}``, never raised."""
    scheme, host, port = endpoint_of(params['csms_endpoint'])
    timeout = params['network_timeout']
    observations = {'now': datetime.datetime.now(datetime.timezone.utc), 'endpoint': {'scheme': scheme, 'host': host, 'port': port}}
    observations['dns'] = _resolve(host, port)
    if 'error' not in observations['dns']:
        observations['tcp'] = _connect(host, port, timeout)
        if scheme == 'wss' and 'error' not in observations['tcp']:
            observations['tls'] = _handshake(host, port, params.get('trust_anchor_path'), timeout)
    observations['connection'] = _guarded(session.backend.connection, session.station_id)
    if params.get('staging_password'):
        observations['staging'] = _staging_admitted(session.backend, session.station_id, params['staging_password'])
    observations['sees_client_certificate'] = session.backend.has('client_certificate')
    if _online(observations['connection']):
        version = ocpp_version_of(observations['connection'], params.get('ocpp_version'), session.station_id)
        observations['ocpp_version'] = version
        observations.update(_station_reads16(params, session) if version == '1.6' else _station_reads(params, session))
    return observations


def _station_reads16(params, session):
    """The reads of an OCPP 1.6 station, in the same observation keys as the 2.0.1 ones."""
    backend, station_id = session.backend, session.station_id
    keys = configuration_keys.KeySession(backend, station_id)
    reads = {'local_list_memory': _guarded(backend.local_list_memory, station_id) if backend.has('local_list') else None}
    desired = _readable_keys(params)
    if desired:
        reads['variables'] = _guarded(_key_results, keys, desired)
    reads['local_list'] = _guarded(session.call, 'GetLocalListVersion', {})
    if backend.has('station_messages') and params.get('connectors'):
        reads['connector_status'] = _guarded(_fresh_connector_status16, params, session)
    if params.get('charging_limit'):
        reads['charging_profiles'] = _guarded(_composite_views, keys, params['charging_limit'])
    return reads


def _readable_keys(params):
    return [dict(configuration_keys.normalise_item(item), kind=configuration_keys.kind_of(item))
            for item in params.get('configuration_keys') or ()
            if not item.get('write_only') and item['key'] not in configuration_keys.WRITE_ONLY_KEYS]


def _key_results(keys, desired):
    """The 1.6 read-back in the form ``compare_variables`` reads: ``{key: {'attributeStatus', 'attributeValue'}}``."""
    found, unknown = keys.get([item['key'] for item in desired])
    results = dict((key, {'attributeStatus': 'Accepted', 'attributeValue': entry['value']}) for key, entry in found.items())
    results.update((key, {'attributeStatus': 'UnknownKey'}) for key in unknown)
    return results


def _fresh_connector_status16(params, session):
    """TriggerMessage(StatusNotification) for each 1.6 connectorId (1..N in the order of the inventory's EVSEs and
    connectors); ``{(evse, connector): status}`` as the CSMS keeps them."""
    backend, station_id = session.backend, session.station_id
    for number, _connector in enumerate(params['connectors'], 1):
        since = backend.now()
        answer = session.call('TriggerMessage', {'requestedMessage': 'StatusNotification', 'connectorId': number})
        if answer.get('status') != 'Accepted':
            return {'error': 'the station answered TriggerMessage(StatusNotification) for connector %s with %s'
                             % (number, answer.get('status'))}
        backend.wait_for_message(station_id, 'StatusNotification', since, params['network_timeout'])
    return dict((key, value.get('status')) for key, value in backend.connector_status(station_id).items())


def _composite_views(keys, desired):
    """``{'profiles': [view]}`` of the limit the 1.6 station enforces on connector 0 (GetCompositeSchedule)."""
    units = charging_limit16.capability(keys)
    unit = desired['unit'] if desired['unit'] in units else units[0]
    enforced = charging_limit16.enforced(keys, unit)
    if enforced is None:
        return {'profiles': []}
    return {'profiles': [{'unit': enforced['unit'], 'stack_level': None,
                          'periods': [{'limit': enforced['limit']}]}]}


def _station_reads(params, session):
    backend, station_id = session.backend, session.station_id
    reads = {'local_list_memory': _guarded(backend.local_list_memory, station_id) if backend.has('local_list') else None}
    readable = readable_variables(params['device_model'])
    if readable:
        reads['variables'] = _guarded(session.get, readable)
    reads['local_list'] = _guarded(session.call, 'GetLocalListVersion', {})
    if backend.has('station_messages') and params.get('connectors'):
        reads['connector_status'] = _guarded(_fresh_connector_status, params, session)
    if params.get('charging_limit'):
        reads['charging_profiles'] = _guarded(_max_profile_views, session)
    return reads


def _reported_this_connection(params, backend, station_id):
    """The connectors' status as the CSMS keeps it when the station reported every connector during its current
    connection (it then reports each change while connected), else None. ``{(evse, connector): status}``."""
    connection = backend.connection(station_id) or {}
    if not connection.get('online') or not connection.get('connected_at'):
        return None
    reported = set()
    for message in backend.messages(station_id, 'StatusNotification', since=connection['connected_at']):
        payload = message.get('payload') or {}
        reported.add((payload.get('evseId'), payload.get('connectorId')))
    if any((connector['evse_id'], connector['connector_id']) not in reported for connector in params['connectors']):
        return None
    return dict((key, value.get('status')) for key, value in backend.connector_status(station_id).items())


def _fresh_connector_status(params, session):
    """Each connector's status: as the CSMS keeps it when the station reported it during its current connection, else
    asked for (TriggerMessage StatusNotification) and awaited: the status the CSMS kept from an earlier connection may
    be old (a station sends none on a mere reconnect). ``{(evse, connector): status}``."""
    backend, station_id = session.backend, session.station_id
    current = _reported_this_connection(params, backend, station_id)
    if current is not None:
        return current
    for connector in params['connectors']:
        since = backend.now()
        answer = session.call('TriggerMessage', {'requestedMessage': 'StatusNotification',
                                                 'evse': {'id': connector['evse_id'],
                                                          'connectorId': connector['connector_id']}})
        if answer.get('status') != 'Accepted':
            return {'error': 'the station answered TriggerMessage(StatusNotification) for connector %s/%s with %s' % (
                connector['evse_id'], connector['connector_id'], answer.get('status'))}
        backend.wait_for_message(station_id, 'StatusNotification', since, params['network_timeout'])
    return dict((key, value.get('status')) for key, value in backend.connector_status(station_id).items())


def _max_profile_views(session):
    """``{'profiles': [profile_view, ...]}``: the station's ChargingStationMaxProfiles, read back as charging_limit does."""
    return {'profiles': [profile_view(profile) for profile in station_max_profiles(session, session.backend)]}


def readable_variables(device_model):
    """The desired variables a station can report (write-only ones, such as passwords, cannot be read back)."""
    return [normalise_item(item) for item in device_model or () if not item.get('write_only')]


def _guarded(read, *args):
    try:
        return read(*args)
    except (CsmsError, ModuleFailure) as exc:
        return {'error': str(exc)}


def _resolve(host, port):
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return {'error': 'cannot resolve %s: %s' % (host, exc)}
    return {'addresses': sorted(set(info[4][0] for info in infos))}


def _connect(host, port, timeout):
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            return {'peer': '%s:%s' % sock.getpeername()[:2]}
    except OSError as exc:
        return {'error': 'no TCP connection to %s:%s: %s' % (host, port, exc)}


def _handshake(host, port, trust_anchor_path, timeout):
    if not trust_anchor_path:
        return {'error': 'trust_anchor_path is not set: give the root CA file stations trust for the CSMS'}
    try:
        tls = ssl.create_default_context(cafile=trust_anchor_path)
        with socket.create_connection((host, port), timeout=timeout) as sock:
            with tls.wrap_socket(sock, server_hostname=host) as conn:
                return dict(tls_version=conn.version(), **certificate_facts(conn.getpeercert(binary_form=True)))
    except (OSError, ssl.SSLError, ValueError) as exc:
        return {'error': 'TLS handshake with %s:%s verified by %s failed: %s' % (host, port, trust_anchor_path, exc)}


def certificate_facts(certificate):
    """CN, issuer CN, serial (lowercase hex) and expiry of a PEM (str) or DER (bytes) certificate."""
    if not HAS_CRYPTOGRAPHY:
        return {'error': 'the Python library cryptography is required on the controller'}
    if isinstance(certificate, str):
        cert = x509.load_pem_x509_certificate(certificate.encode('ascii'))
    else:
        cert = x509.load_der_x509_certificate(certificate)
    return {
        'subject_cn': _common_name(cert.subject),
        'issuer_cn': _common_name(cert.issuer),
        'serial': '%x' % cert.serial_number,
        'not_after': cert.not_valid_after_utc.isoformat().replace('+00:00', 'Z'),
    }


def _common_name(name):
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return values[0].value if values else None


def _staging_admitted(backend, station_id, staging_password):
    """Whether the CSMS would still admit the station with the shared staging (factory) password: ``{"accepted": bool}``,
    ``{"unsupported": why}`` when the backend cannot tell (capability ``password_check``), ``{"error": text}``."""
    if not backend.has('password_check'):
        return {'unsupported': str(CapabilityMissing(backend.NAME, 'password_check',
                                                     'the CSMS password of station %s' % station_id))}
    try:
        return {'accepted': bool(backend.verify_station_password(station_id, staging_password))}
    except (CsmsError, ModuleFailure) as exc:
        return {'error': str(exc)}


def _online(connection):
    return bool(connection) and 'error' not in connection and bool(connection.get('online'))


# -- evaluation (pure) ---------------------------------------------------------------------------------
def evaluate(params, observations):
    """The checklist: one item per entry of ``CHECKS``."""
    optional = set(params.get('optional_checks') or ())
    checklist = []
    for name in CHECKS:
        status, evidence = _EVALUATORS[name](params, observations)
        checklist.append({'name': name, 'status': status, 'required': name not in optional, 'evidence': evidence})
    return checklist


def _from(observation, passed):
    """An observation that is an error fails with it; otherwise ``passed(observation)`` decides."""
    if 'error' in observation:
        return FAIL, observation
    return passed(observation)


def _check_dns(params, obs):
    return _from(obs['dns'], lambda dns: (PASS, {'host': obs['endpoint']['host'], 'addresses': dns['addresses']}))


def _check_tcp(params, obs):
    if 'tcp' not in obs:
        return SKIP, 'not attempted: %s does not resolve' % obs['endpoint']['host']
    return _from(obs['tcp'], lambda tcp: (PASS, {'endpoint': '%s:%s' % (obs['endpoint']['host'], obs['endpoint']['port'])}))


def _check_tls(params, obs):
    if obs['endpoint']['scheme'] == 'ws':
        return SKIP, 'the station uses ws:// (security profile 1): no TLS'
    if 'tls' not in obs:
        return SKIP, 'not attempted: no TCP connection'
    return _from(obs['tls'], lambda tls: (PASS, tls))


def _presented_certificate(obs):
    connection = obs.get('connection') or {}
    pem = connection.get('client_certificate') if 'error' not in connection else None
    return certificate_facts(pem) if pem else None


def _check_mtls(params, obs):
    facts = _presented_certificate(obs)
    if facts is None:
        if params.get('security_profile') == 3 and not obs.get('sees_client_certificate', True):
            return SKIP, 'not verifiable: the CSMS does not show the client certificate a station presents'
        if params.get('security_profile') == 3:
            return FAIL, 'security profile 3 expected, but the station presented no client certificate to the CSMS'
        return SKIP, 'the station presents no client certificate (security profile %s)' % params.get('security_profile')
    if 'error' in facts:
        return FAIL, facts
    expected, label = params['station_id'], 'the station id'
    if obs.get('ocpp_version') == security16.VERSION:
        # a 1.6 charge point certificate names its serial number (Security Extension A00.FR.405)
        expected, label = security16.reported_serial(obs.get('connection')), 'the serial number the station reports'
    if facts['subject_cn'] != expected:
        return FAIL, dict(facts, error='certificate CN %s is not %s %s' % (facts['subject_cn'], label, expected))
    return PASS, facts


def _check_online(params, obs):
    connection = obs.get('connection')
    if not connection:
        return FAIL, 'the station never connected to the CSMS'
    if 'error' in connection:
        return FAIL, connection
    boot = connection.get('boot') or {}
    evidence = {'online': bool(connection.get('online')), 'boot_status': boot.get('status'),
                'security_profile': connection.get('security_profile'), 'connected_at': connection.get('connected_at')}
    expected = params.get('security_profile')
    if not evidence['online']:
        return FAIL, dict(evidence, error='the station is not connected to the CSMS')
    if boot.get('status') != 'Accepted':
        return FAIL, dict(evidence, error='BootNotification was answered %s, not Accepted' % boot.get('status'))
    if expected is not None and connection.get('security_profile') != expected:
        return FAIL, dict(evidence, error='connected with security profile %s, expected %s' % (connection.get('security_profile'), expected))
    return PASS, evidence


def parse_time(value):
    """A timezone-aware datetime from an RFC 3339 string (``Z`` or offset), or None."""
    if not value:
        return None
    parsed = datetime.datetime.fromisoformat(str(value).replace('Z', '+00:00'))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


def _check_heartbeat(params, obs):
    connection = obs.get('connection')
    if not _online(connection):
        return SKIP, 'the station is offline'
    seen = [parse_time(connection.get(key)) for key in ('last_heartbeat', 'last_message_at')]
    seen = [moment for moment in seen if moment is not None]
    if not seen:
        return FAIL, 'the CSMS has received no heartbeat or message from the station'
    latest = max(seen)
    age = (obs['now'] - latest).total_seconds()
    window = 2 * params['heartbeat_interval']
    evidence = {'last_seen': latest.isoformat().replace('+00:00', 'Z'), 'age_s': int(age), 'allowed_s': window}
    return (PASS, evidence) if age <= window else (FAIL, dict(evidence, error='last message %ds ago, more than %ds' % (age, window)))


def _check_device_model(params, obs):
    if obs.get('ocpp_version') == '1.6':
        desired16 = _readable_keys(params)
        if not desired16:
            return SKIP, 'no readable configuration keys given'
        return _from(obs['variables'], lambda results: compare_keys(desired16, results))
    desired = readable_variables(params['device_model'])
    if not desired:
        return SKIP, 'no readable device-model variables given'
    if 'variables' not in obs:
        return SKIP, 'the station is offline'
    return _from(obs['variables'], lambda results: compare_variables(desired, results))


def compare_variables(desired, results):
    """Every desired variable whose read-back (``{variable_key: GetVariableResult}``) is refused or differs."""
    mismatches = []
    for item in desired:
        key, kind = variable_key(item), value_type(item)
        result = results.get(key) or {}
        status, actual = result.get('attributeStatus', 'NotReported'), result.get('attributeValue')
        if status != 'Accepted' or normalise(actual, kind) != normalise(item['value'], kind):
            mismatches.append({'variable': key, 'expected': render(item['value'], kind), 'actual': actual, 'status': status})
    evidence = {'checked': len(desired), 'mismatches': mismatches}
    return (FAIL, evidence) if mismatches else (PASS, evidence)


def compare_keys(desired, results):
    """Every desired 1.6 key whose read-back is unknown or differs (the evidence names the key)."""
    mismatches = []
    for item in desired:
        result = results.get(item['key']) or {}
        status, actual = result.get('attributeStatus', 'NotReported'), result.get('attributeValue')
        if status != 'Accepted' or normalise(actual, item['kind']) != normalise(item['value'], item['kind']):
            mismatches.append({'variable': item['key'], 'expected': render(item['value'], item['kind']), 'actual': actual,
                               'status': status})
    evidence = {'checked': len(desired), 'mismatches': mismatches}
    return (FAIL, evidence) if mismatches else (PASS, evidence)


def _check_certificate_validity(params, obs):
    facts = _presented_certificate(obs)
    if facts is None:
        return SKIP, 'the station presents no client certificate'
    if 'error' in facts:
        return FAIL, facts
    days_left = int((parse_time(facts['not_after']) - obs['now']).total_seconds() // 86400)
    evidence = {'serial': facts['serial'], 'not_after': facts['not_after'], 'days_left': days_left,
                'threshold_days': params['certificate_min_days']}
    if days_left < params['certificate_min_days']:
        return FAIL, dict(evidence, error='%d days left, fewer than %d: renew the certificate' % (days_left, params['certificate_min_days']))
    return PASS, evidence


def _check_connectors(params, obs):
    connection = obs.get('connection')
    if not _online(connection):
        return SKIP, 'the station is offline'
    reported = dict(((c.get('evse_id'), c.get('connector_id')), c.get('status')) for c in connection.get('connectors') or [])
    fresh = obs.get('connector_status')
    if isinstance(fresh, dict) and 'error' not in fresh:
        reported.update(fresh)
    expected = [(c['evse_id'], c['connector_id']) for c in params.get('connectors') or []] or sorted(reported)
    if obs.get('ocpp_version') == '1.6':
        reported, expected = _connectors16(reported, expected)
    if not expected:
        return FAIL, 'the station reported no connector status'
    # a 1.6 connector is named by its connectorId alone (no EVSE)
    states = dict(('%s/%s' % key if key[0] is not None else str(key[1]), reported.get(key, 'NotReported'))
                  for key in expected)
    not_available = sorted(key for key, state in states.items() if state != 'Available')
    if not_available:
        return FAIL, {'connectors': states, 'error': 'not Available: %s' % ', '.join(
            '%s is %s' % (key, states[key]) for key in not_available)}
    return PASS, {'connectors': states}


def _connectors16(reported, expected):
    """A 1.6 station numbers its connectors 1..N (connectorId; 0 is the whole station): the inventory's connectors in
    order, and what the CSMS kept by connectorId (whatever it filed as the EVSE)."""
    by_number = dict((connector, status) for (_evse, connector), status in reported.items() if connector)
    numbered = dict(((None, number), by_number.get(number, 'NotReported')) for number in range(1, len(expected) + 1))
    return numbered, sorted(numbered) if expected else []


def _check_local_list(params, obs):
    if 'local_list' not in obs:
        return SKIP, 'the station is offline'
    expected = params.get('local_list_version')
    if expected is None:
        expected = (obs.get('local_list_memory') or {}).get('version')

    def _compare(answer):
        version = answer.get('versionNumber', answer.get('listVersion'))
        if expected is None:
            return SKIP, {'version': version, 'note': 'no expected version given or recorded in the CSMS'}
        if version != expected:
            return FAIL, {'version': version, 'expected': expected, 'error': 'local list version %s, expected %s' % (version, expected)}
        return PASS, {'version': version}
    return _from(obs['local_list'], _compare)


def limit_in_force(profiles):
    """``{'limit', 'unit', 'stack_level'}`` of the ChargingStationMaxProfile in force (the highest stack level, as
    ``profile_view`` shows it), or None when the station holds none."""
    scheduled = [view for view in profiles if view and view.get('periods')]
    if not scheduled:
        return None
    view = max(scheduled, key=lambda item: item.get('stack_level') or 0)
    return {'limit': float(view['periods'][0]['limit']), 'unit': view['unit'], 'stack_level': view.get('stack_level')}


def expected_limit(desired, unit):
    """The desired limit in ``unit`` (a station that takes only W or only A got the converted value)."""
    return {'limit': float(convert(desired['limit'], desired['unit'], unit, desired.get('phases') or 3,
                                   desired.get('voltage') or 230.0)), 'unit': unit}


def _check_load_management(params, obs):
    desired = params.get('charging_limit')
    if not desired:
        return SKIP, 'no charging limit given'
    if 'charging_profiles' not in obs:
        return SKIP, 'the station is offline'

    def _compare(read):
        in_force = limit_in_force(read['profiles'])
        if in_force is None:
            return FAIL, {'in_force': None, 'expected': dict(desired),
                          'error': 'the station holds no %s (GetChargingProfiles)' % PURPOSE}
        expected = expected_limit(desired, in_force['unit'])
        evidence = {'in_force': in_force, 'expected': expected}
        if in_force['limit'] != expected['limit']:
            return FAIL, dict(evidence, error='%s %s %s at stack level %s differs from the planned %s %s' % (
                PURPOSE, in_force['limit'], in_force['unit'], in_force['stack_level'], expected['limit'], expected['unit']))
        return PASS, evidence
    return _from(obs['charging_profiles'], _compare)


def _check_staging(params, obs):
    staging = obs.get('staging')
    if staging is None:
        return SKIP, 'no staging password given'
    if 'unsupported' in staging:
        return SKIP, staging['unsupported']
    if 'error' in staging:
        return FAIL, staging
    if staging['accepted']:
        return FAIL, {'error': 'the CSMS still admits the shared staging password for station %s: anyone who knows it '
                               'can connect as this station; give the station its own credentials (security stage) and '
                               'make the CSMS retire the staging password for it' % params['station_id']}
    return PASS, {'staging_password': 'refused'}


_EVALUATORS = {
    'csms_dns': _check_dns,
    'csms_tcp': _check_tcp,
    'csms_tls': _check_tls,
    'station_mtls': _check_mtls,
    'station_online': _check_online,
    'heartbeat_recent': _check_heartbeat,
    'device_model': _check_device_model,
    'certificate_validity': _check_certificate_validity,
    'connectors_available': _check_connectors,
    'local_list_version': _check_local_list,
    'load_management_cap': _check_load_management,
    'staging_password_refused': _check_staging,
}
