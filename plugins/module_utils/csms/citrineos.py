# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backend for CitrineOS 1.8.x (the open-source CSMS): its REST API plus a read-only view of its message store.

How each part of the interface maps to CitrineOS (docs/BACKENDS.md says the same for operators):

- **call**: ``POST <csms_url>/ocpp/2.0.1/<module>/<action>?identifier=<station>&tenantId=<tenant>``. CitrineOS's
  HTTP answer only acknowledges the send; the station's reply is read from CitrineOS's message store (table
  ``"OCPPMessages"``: CitrineOS writes every frame it sends and receives there) over a read-only PostgreSQL connection
  from the controller (``csms_options.message_store``). That works wherever the controller reaches the database, with
  no way back from CitrineOS to the controller (a callback URL does not work from an AWX job or a CI runner that
  CitrineOS cannot reach), so it is the default and only reply mode of this version.
- **messages / wait_for_message / connection**: read from the same message store (SignCertificate, NotifyReport,
  BootNotification and its answer, StatusNotification, Heartbeat), ``"ChargingStations"."isOnline"`` for the state.
- **registry**: stations are CitrineOS's ``"ChargingStations"`` rows, sites its ``"Locations"`` (the collection's site
  id kept as the location's name), id tokens its ``"Authorizations"``: CitrineOS 1.8 has no REST route that creates
  them, so these writes need ``csms_options.registrar`` (a database role with INSERT/UPDATE/DELETE on those tables);
  without it the backend lacks ``prestage``/``sites``/``id_tokens`` and says so.
- **station password**: the collection sets the password on the station itself (SetVariables), the backend stores it
  in CitrineOS with ``POST /data/configuration/password`` and ``setOnCharger: true`` (stored only). CitrineOS keeps
  one password per station (no rotation); the check reads its PBKDF2 hash (``/data/monitoring/variableAttribute``)
  and compares.
- **certificates**: Vault stays the only signer. The CSR comes from the message store, CertificateSigned goes through
  CitrineOS. A CitrineOS that signs CSRs itself (a profile-3 websocket server with a real CA key) is detected: a
  CertificateSigned it sent on its own after the station's CSR fails the call with a clear message.
- **SetNetworkProfile**: CitrineOS 1.8.3's route answers 500 for tenant 1 and sends nothing; with ``tenantId=0`` it
  falls back to the default tenant and sends it, so stations of the default tenant get it (other tenants: missing).
- **OCPP 1.6 stations**: CitrineOS records the subprotocol a station negotiated (``"ChargingStations".protocol``);
  ``connection()`` reports it as ``ocpp_version`` and a 1.6 station's calls go through
  ``POST <csms_url>/ocpp/1.6/<module>/<action>`` (:data:`_ACTION_MODULE_16`: all the 1.6 routes 1.8.3 has), their
  replies read from the message store like 2.0.1 ones (for a station CitrineOS let in unknown, which has no recorded
  protocol, the protocol of its last frame in the message store tells). A 1.6 action without such a route
  (SendLocalList, GetLocalListVersion and every call of the Security Extension among them) is refused as a missing
  capability before anything is sent. CitrineOS reads a Basic-auth password as UTF-8 text, so a 1.6 AuthorizationKey
  is stored as the text its bytes are, and a key whose bytes are not text is refused.
- **missing in 1.8.3** (declared, reported as "not verifiable with backend citrineos"): SendLocalList (fails even
  for an empty list), tariffs as the collection keeps them, several passwords per station, the network profiles a station accepted, the client certificate of a
  profile-3 connection (and 1.8.3 does not compare its CN with the station id: see docs/BACKENDS.md).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import random
import ssl
import time

from urllib.parse import quote

try:
    import requests
    HAS_REQUESTS = True
except ImportError:  # pragma: no cover - reported at from_params
    HAS_REQUESTS = False

try:
    import pg8000.native
    import pg8000.exceptions
    HAS_PG8000 = True
except ImportError:  # pragma: no cover - reported at from_params
    HAS_PG8000 = False

from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import (
    CallError, CapabilityMissing, CsmsBackend, CsmsError, RECORD_FIELDS, StationOffline, StationTimeout, parse_time,
    rfc3339,
)

#: the CitrineOS module whose REST route sends each OCPP 2.0.1 action (CitrineOS 1.8's ``/ocpp/2.0.1/<module>/...``)
_ACTION_MODULE = {
    'CertificateSigned': 'certificates', 'DeleteCertificate': 'certificates',
    'GetInstalledCertificateIds': 'certificates', 'InstallCertificate': 'certificates',
    'ChangeAvailability': 'configuration', 'ClearDisplayMessage': 'configuration', 'DataTransfer': 'configuration',
    'GetDisplayMessages': 'configuration', 'PublishFirmware': 'configuration', 'Reset': 'configuration',
    'SetDisplayMessage': 'configuration', 'SetNetworkProfile': 'configuration', 'TriggerMessage': 'configuration',
    'UnpublishFirmware': 'configuration', 'UpdateFirmware': 'configuration',
    'CancelReservation': 'evdriver', 'ClearCache': 'evdriver', 'GetLocalListVersion': 'evdriver',
    'RequestStartTransaction': 'evdriver', 'RequestStopTransaction': 'evdriver', 'ReserveNow': 'evdriver',
    'SendLocalList': 'evdriver', 'UnlockConnector': 'evdriver',
    'ClearVariableMonitoring': 'monitoring', 'GetVariables': 'monitoring', 'SetMonitoringBase': 'monitoring',
    'SetMonitoringLevel': 'monitoring', 'SetVariableMonitoring': 'monitoring', 'SetVariables': 'monitoring',
    'CustomerInformation': 'reporting', 'GetBaseReport': 'reporting', 'GetLog': 'reporting',
    'GetMonitoringReport': 'reporting', 'GetReport': 'reporting',
    'ClearChargingProfile': 'smartcharging', 'GetChargingProfiles': 'smartcharging',
    'GetCompositeSchedule': 'smartcharging', 'SetChargingProfile': 'smartcharging',
    'CostUpdated': 'transactions', 'GetTransactionStatus': 'transactions',
}
#: actions CitrineOS 1.8 cannot send through its REST API, with the capability that names it and why
_BROKEN_ACTIONS = {
    'SendLocalList': ('local_list', 'CitrineOS 1.8.3 fails sendLocalList even for an empty list'),
    'GetReport': ('station_messages', 'CitrineOS 1.8.3 answers its getReport route with HTTP 500 and sends nothing'),
    'GetMonitoringReport': ('station_messages', 'CitrineOS 1.8.3 answers getMonitoringReport with HTTP 500'),
}
#: the CitrineOS module whose ``/ocpp/1.6/<module>/<action>`` route sends each OCPP 1.6 action: all that CitrineOS 1.8.3
#: offers for 1.6 (its ``1.6/MessageApi`` of each module)
_ACTION_MODULE_16 = {
    'ChangeAvailability': 'configuration', 'ChangeConfiguration': 'configuration', 'DataTransfer': 'configuration',
    'GetConfiguration': 'configuration', 'Reset': 'configuration', 'TriggerMessage': 'configuration',
    'UpdateFirmware': 'configuration',
    'ClearCache': 'evdriver', 'RemoteStartTransaction': 'evdriver', 'RemoteStopTransaction': 'evdriver',
    'UnlockConnector': 'evdriver',
    'GetDiagnostics': 'reporting',
    'ClearChargingProfile': 'smartcharging', 'GetCompositeSchedule': 'smartcharging',
    'SetChargingProfile': 'smartcharging',
}
#: the OCPP 1.6 actions a Central System sends (core profiles and the Security Extension); those without a route above
#: are refused as missing capabilities, naming the route CitrineOS 1.8.3 lacks
_OCPP16_ACTIONS = frozenset(_ACTION_MODULE_16) | frozenset((
    'CancelReservation', 'GetLocalListVersion', 'ReserveNow', 'SendLocalList',
    'CertificateSigned', 'DeleteCertificate', 'ExtendedTriggerMessage', 'GetInstalledCertificateIds', 'GetLog',
    'InstallCertificate', 'SignedUpdateFirmware',
))
#: the capability of the interface a 1.6 action without a route belongs to (others are named by the action itself)
_CAPABILITY_16 = {'SendLocalList': 'local_list', 'GetLocalListVersion': 'local_list'}
#: CitrineOS's ``"ChargingStations".protocol`` (the websocket subprotocol the station negotiated) -> OCPP version
_PROTOCOLS = {'ocpp1.6': '1.6', 'ocpp2.0.1': '2.0.1'}
_MESSAGES = '"OCPPMessages"'
#: the first and the longest pause between two looks into the message store
_POLL_FIRST, _POLL_MAX = 0.05, 0.3
#: how long after a station's CSR a CertificateSigned from CitrineOS itself would show up
_SELF_SIGN_GRACE = 1.5
_DB_OPTIONS = dict(
    host=dict(type='str', required=True),
    port=dict(type='int', default=5432),
    database=dict(type='str', default='citrine'),
    user=dict(type='str', required=True),
    password=dict(type='str', no_log=True),
    ssl=dict(type='bool', default=False),
    ca_path=dict(type='path'),
)


#: how often a call that CitrineOS refused for a write collision on its own tables (nothing sent) is sent again
_CONFLICT_RETRIES = 5


def _write_conflict(response, body):
    """CitrineOS answered HTTP 500 "Validation error" (a unique-constraint collision in its own database before it
    sent anything), directly or as the payload of a batch acknowledgement."""
    text = json.dumps(body) if not isinstance(body, str) else body
    return 'Validation error' in text and (response.status_code >= 500 or '"success": false' in text)


def _segment(value):
    return quote(str(value), safe='')


def _camel(action):
    return action[:1].lower() + action[1:]


class _NeverSent(Exception):
    """CitrineOS acknowledged a call but no frame of it reached its message store in time."""


class _Database(object):
    """One PostgreSQL connection (pg8000, pure Python) to CitrineOS's database, opened on first use."""

    def __init__(self, settings, timeout, what):
        self.settings = settings
        self.timeout = timeout
        self.what = what
        self._connection = None

    def _connect(self):
        settings = self.settings
        context = None
        if settings.get('ssl'):
            context = ssl.create_default_context(cafile=settings.get('ca_path'))
        try:
            return pg8000.native.Connection(settings['user'], host=settings['host'], port=settings['port'],
                                            database=settings['database'], password=settings.get('password'),
                                            ssl_context=context, timeout=self.timeout,
                                            application_name='evcs.provisioning')
        except Exception as exc:  # pylint: disable=broad-except  # socket, TLS and auth errors alike
            raise CsmsError('cannot connect to the CitrineOS database for %s at %s:%s/%s as %s (%s: %s): check '
                            'csms_options.%s (inventory: evcs_csms.options)'
                            % (self.what, settings['host'], settings['port'], settings['database'], settings['user'],
                               exc.__class__.__name__, exc, self.what), kind='unreachable', transient=True)

    def run(self, sql, **params):
        if self._connection is None:
            self._connection = self._connect()
        try:
            return self._connection.run(sql, **params)
        except pg8000.exceptions.DatabaseError as exc:
            detail = exc.args[0] if exc.args else exc
            if isinstance(detail, dict):
                detail = '%s %s' % (detail.get('C', ''), detail.get('M', ''))
            raise CsmsError('CitrineOS database (%s) refused a query: %s: check the role\'s privileges '
                            '(docs/BACKENDS.md)' % (self.what, detail), kind='database')
        except (OSError, pg8000.exceptions.InterfaceError) as exc:
            self._connection = None
            raise CsmsError('the CitrineOS database connection (%s) failed: %s' % (self.what, exc),
                            kind='unreachable', transient=True)

    def close(self):
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:  # pylint: disable=broad-except  # closing a broken connection
                pass
            self._connection = None


def _frame(message):
    """An OCPP-J frame from the message store (jsonb: a list, sometimes a JSON string)."""
    if isinstance(message, str):
        try:
            message = json.loads(message)
        except ValueError:
            return []
    return message if isinstance(message, list) else []


def _subset(wanted, have):
    """``wanted`` is contained in ``have`` (CitrineOS may add defaults to what it sends)."""
    if isinstance(wanted, dict):
        return isinstance(have, dict) and all(_subset(value, have.get(key)) for key, value in wanted.items())
    if isinstance(wanted, list):
        return isinstance(have, list) and len(wanted) == len(have) and all(_subset(a, b) for a, b in zip(wanted, have))
    return wanted == have


def password_matches(stored, password):
    """Whether ``password`` matches CitrineOS's stored ``PBKDF2:<iterations>:<key length>:<digest>:<salt>:<hash>``."""
    parts = (stored or '').split(':')
    if len(parts) != 6 or parts[0] != 'PBKDF2':
        return False
    _algorithm, iterations, key_length, digest, salt, expected = parts
    try:
        derived = hashlib.pbkdf2_hmac(digest, password.encode('utf-8'), salt.encode('utf-8'), int(iterations),
                                      int(key_length)).hex()
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(derived, expected)


class CitrineosCsms(CsmsBackend):
    """CitrineOS 1.8.x: REST for commands and its own data routes, its message store (read-only) for replies."""

    NAME = 'citrineos'
    OPTIONS = dict(
        tenant_id=dict(type='int', default=1),
        reply_mode=dict(type='str', default='message_store', choices=['message_store']),
        message_store=dict(type='dict', required=True, options=_DB_OPTIONS),
        registrar=dict(type='dict', options=_DB_OPTIONS),
        poll_interval=dict(type='float', default=0.3),
        endpoints=dict(type='dict', default={}),
    )
    REQUIRES = ('csms_url',)
    #: what CitrineOS 1.8 can do through this backend; ``prestage``, ``sites`` and ``id_tokens`` need ``registrar``
    BASE_CAPABILITIES = frozenset(('station_messages', 'station_status', 'password_check'))
    REGISTRAR_CAPABILITIES = frozenset(('prestage', 'sites', 'id_tokens'))
    #: SetNetworkProfile reaches stations of the default tenant only (see ``call``)
    CAPABILITIES = BASE_CAPABILITIES | REGISTRAR_CAPABILITIES | frozenset(('set_network_profile',))

    @classmethod
    def from_params(cls, params, options, warn=None):
        if not HAS_REQUESTS:
            raise CsmsError('the Python library requests is required on the controller for the citrineos backend',
                            kind='config')
        if not HAS_PG8000:
            raise CsmsError('the Python library pg8000 is required on the controller for the citrineos backend (it '
                            'reads the station replies from the CitrineOS message store): pip install pg8000',
                            kind='config')
        return cls(params['csms_url'], options, token=params.get('csms_token'), ca_path=params.get('csms_ca_path'),
                   validate_certs=params.get('csms_validate_certs', True), timeout=params.get('csms_timeout') or 30,
                   retries=params.get('csms_retries', 3))

    def __init__(self, url, options, token=None, ca_path=None, validate_certs=True, timeout=30, retries=3):
        self.url = url.rstrip('/')
        self.tenant_id = options.get('tenant_id') or 1
        self.timeout = timeout
        self.retries = retries
        self.poll_interval = options.get('poll_interval') or 0.3
        self.endpoints = dict((str(key), value) for key, value in (options.get('endpoints') or {}).items())
        self._session = requests.Session()
        if token:
            self._session.headers['Authorization'] = 'Bearer %s' % token
        self._verify = ca_path if (validate_certs and ca_path) else bool(validate_certs)
        self._store = _Database(options['message_store'], timeout, 'message_store')
        registrar = options.get('registrar')
        self._registrar = _Database(registrar, timeout, 'registrar') if registrar else None
        capabilities = self.BASE_CAPABILITIES | (self.REGISTRAR_CAPABILITIES if registrar else frozenset())
        if self.tenant_id == 1:
            capabilities = capabilities | frozenset(('set_network_profile',))
        self.CAPABILITIES = capabilities
        #: requests this client made, by kind (benchmarks and reports); ``ocpp`` counts calls sent to stations
        self.requests_made = {'read': 0, 'write': 0, 'ocpp': 0}

    # -- transport -------------------------------------------------------------------------------------------
    def _http(self, method, path, params=None, json_body=None, write=False, tenant=None):
        self.requests_made['write' if write else 'read'] += 1
        query = dict(params or {}, tenantId=self.tenant_id if tenant is None else tenant)
        attempt, started = 0, time.monotonic()
        while True:
            attempt += 1
            try:
                response = self._session.request(method, self.url + path, params=query, json=json_body,
                                                 timeout=self.timeout, verify=self._verify)
            except requests.exceptions.SSLError as exc:
                raise CsmsError('TLS verification of CitrineOS at %s failed (%s): set csms_ca_path' % (self.url, exc),
                                kind='tls')
            except requests.exceptions.ConnectionError as exc:
                # nothing was sent: retried for up to csms_timeout seconds (CitrineOS restarting), then given up
                if attempt <= self.retries or time.monotonic() - started < self.timeout:
                    time.sleep(min(0.5 * 2 ** (attempt - 1), 4.0))
                    continue
                raise CsmsError('CitrineOS at %s is unreachable after %d attempts in %.0f s (%s): check csms_url '
                                '(inventory: evcs_csms.url) and that CitrineOS runs'
                                % (self.url, attempt, time.monotonic() - started, exc), kind='unreachable',
                                transient=True)
            except requests.exceptions.Timeout as exc:
                if attempt <= self.retries and not write:
                    continue
                raise CsmsError('CitrineOS at %s did not answer %s %s in %s s (%s)'
                                % (self.url, method, path, self.timeout, exc), kind='timeout', transient=True)
            if response.status_code in (401, 403):
                raise CsmsError('CitrineOS refused the API call %s %s (HTTP %d): check csms_token (inventory: '
                                'evcs_csms.token)' % (method, path, response.status_code), kind='unauthorized',
                                status=response.status_code)
            return response

    @staticmethod
    def _body(response):
        try:
            return response.json()
        except ValueError:
            return response.text[:500]

    # -- station channel -------------------------------------------------------------------------------------
    def _watermark(self):
        return self._store.run('SELECT coalesce(max(id), 0) FROM %s' % _MESSAGES)[0][0]

    def ocpp_version(self, station_id, recorded=None):
        """The OCPP version of the station's websocket connection, from the subprotocol CitrineOS recorded: in
        ``"ChargingStations".protocol`` (``recorded``, when the caller read it) when the station's row existed as it
        connected, else with each frame in the message store (a station CitrineOS let in unknown gets its row only
        at its BootNotification). None for a station that never connected."""
        if recorded is None:
            rows = self._store.run('SELECT protocol FROM "ChargingStations" WHERE id = :station AND "tenantId" = '
                                   ':tenant', station=station_id, tenant=self.tenant_id)
            recorded = rows[0][0] if rows else None
        if not recorded:
            rows = self._store.run('SELECT protocol FROM %s WHERE "stationId" = :station AND "tenantId" = :tenant '
                                   'ORDER BY id DESC LIMIT 1' % _MESSAGES, station=station_id, tenant=self.tenant_id)
            recorded = rows[0][0] if rows else None
        return _PROTOCOLS.get(recorded) if recorded else None

    def _route(self, station_id, action, version):
        """``(path, tenant)`` of CitrineOS's REST route that sends ``action`` to a station speaking ``version``, or
        the refusal: a capability CitrineOS 1.8.3 lacks, or an action that OCPP version does not have."""
        if version == '1.6':
            module = _ACTION_MODULE_16.get(action)
            if module is not None:
                return '/ocpp/1.6/%s/%s' % (module, _camel(action)), self.tenant_id
            if action in _OCPP16_ACTIONS:
                raise CapabilityMissing(self.NAME, _CAPABILITY_16.get(action, 'send OCPP 1.6 %s' % action),
                                        '%s to OCPP 1.6 station %s' % (action, station_id),
                                        'CitrineOS 1.8.3 has no /ocpp/1.6/ route that sends %s' % action)
            raise CsmsError('station %s speaks OCPP 1.6 (CitrineOS records its connection as ocpp1.6), and %s is not '
                            'an OCPP 1.6 action a CSMS sends' % (station_id, action), kind='unknown_action')
        if action in _BROKEN_ACTIONS:
            capability, reason = _BROKEN_ACTIONS[action]
            raise CapabilityMissing(self.NAME, capability, '%s to station %s' % (action, station_id), reason)
        module = _ACTION_MODULE.get(action)
        if module is None:
            raise CsmsError('CitrineOS 1.8 has no REST route that sends %s: it is not an OCPP 2.0.1 action the '
                            'collection can send through CitrineOS' % action, kind='unknown_action')
        if action == 'SetNetworkProfile':
            self.require('set_network_profile', 'SetNetworkProfile to station %s' % station_id,
                         'CitrineOS 1.8.3 answers its setNetworkProfile route with HTTP 500 for tenant %s and sends '
                         'nothing' % self.tenant_id)
            # CitrineOS 1.8.3's setNetworkProfile handler takes its arguments in another order than it is called with:
            # tenantId 1 lands where extra query values belong (HTTP 500); tenantId 0 falls back to the default
            # tenant 1 and the message is sent (docs/BACKENDS.md)
            return '/ocpp/2.0.1/%s/%s' % (module, _camel(action)), 0
        return '/ocpp/2.0.1/%s/%s' % (module, _camel(action)), self.tenant_id

    def call(self, station_id, action, payload, timeout=None, resend=False):
        if action not in _ACTION_MODULE and action not in _OCPP16_ACTIONS:
            raise CsmsError('CitrineOS 1.8 has no REST route that sends %s: it is neither an OCPP 2.0.1 nor an OCPP '
                            '1.6 action the collection can send through CitrineOS' % action, kind='unknown_action')
        # a station CitrineOS has not seen connect yet is sent the 2.0.1 route (it answers "No connection found")
        version = self.ocpp_version(station_id)
        path, tenant = self._route(station_id, action, version)
        if action == 'CertificateSigned':
            self._refuse_self_signing(station_id)
        timeout = timeout or self.timeout
        mark = self._watermark()
        self.requests_made['ocpp'] += 1
        for attempt in range(_CONFLICT_RETRIES + 1):
            response = self._http('POST', path, params={'identifier': station_id}, json_body=payload, write=True,
                                  tenant=tenant)
            body = self._body(response)
            if not _write_conflict(response, body) or attempt == _CONFLICT_RETRIES:
                break
            # CitrineOS 1.8.3 saves what it is about to send before sending it; two stations' calls at the same
            # moment collide on its shared rows ("Validation error", HTTP 500) and nothing was sent: send again
            time.sleep(0.2 + random.random() * 0.5 * (attempt + 1))
        acks = body if isinstance(body, list) else [body]
        if response.status_code >= 400 or not acks or not all(isinstance(ack, dict) for ack in acks):
            raise CsmsError('CitrineOS did not send %s to station %s: HTTP %d %s'
                            % (action, station_id, response.status_code, json.dumps(body)[:300]),
                            kind='csms_error', status=response.status_code, details={'body': body})
        failed = [ack for ack in acks if not ack.get('success')]
        if failed:
            text = json.dumps(failed[0].get('payload'))
            if 'No connection found' in text:
                raise StationOffline(station_id, 'station %s is not connected to CitrineOS, so %s could not be sent: '
                                     'bring it online (power, network, CSMS URL) and run again' % (station_id, action))
            raise CsmsError('CitrineOS did not send %s to station %s: %s' % (action, station_id, text[:300]),
                            kind='csms_error', details={'body': body})
        try:
            return self._await_reply(station_id, action, payload, mark, len(acks), timeout)
        except _NeverSent:
            if resend:
                raise StationTimeout(station_id, action, 'CitrineOS acknowledged %s to station %s but never sent it '
                                     '(twice, %s s each): check CitrineOS and its message broker'
                                     % (action, station_id, timeout))
            # CitrineOS acknowledged but never sent it (it lost its message-broker channel, or restarted): nothing
            # reached the station, so sending it again is safe
            return self.call(station_id, action, payload, timeout, resend=True)

    def _await_reply(self, station_id, action, payload, mark, count, timeout):
        """The station's answer(s) to what CitrineOS sent after ``mark``; several batches (CitrineOS splits
        GetVariables/SetVariables itself when it knows ItemsPerMessage) are merged into one answer."""
        deadline, pause = time.monotonic() + timeout, _POLL_FIRST
        while True:
            requests_sent = self._store.run(
                'SELECT id, "correlationId", message FROM %s WHERE "stationId" = :station AND action = :action '
                "AND origin = 'csms' AND id > :mark AND \"tenantId\" = :tenant ORDER BY id" % _MESSAGES,
                station=station_id, action=action, mark=mark, tenant=self.tenant_id)
            ours = [row for row in requests_sent if len(_frame(row[2])) > 3 and _frame(row[2])[0] == 2]
            matching = [row for row in ours if _subset(payload, _frame(row[2])[3])] or ours
            if len(matching) >= count:
                correlation = [row[1] for row in matching[:count]]
                replies = self._store.run(
                    'SELECT "correlationId", message FROM %s WHERE "stationId" = :station AND origin = \'cs\' '
                    'AND id > :mark AND "correlationId" IN (%s)'
                    % (_MESSAGES, ', '.join(':c%d' % index for index in range(len(correlation)))),
                    station=station_id, mark=mark, **dict(('c%d' % index, value) for index, value in enumerate(correlation)))
                by_id = dict((row[0], _frame(row[1])) for row in replies)
                if all(cid in by_id for cid in correlation):
                    return self._merge([by_id[cid] for cid in correlation], station_id, action)
            if time.monotonic() >= deadline:
                if not matching:
                    raise _NeverSent()
                raise StationTimeout(station_id, action, 'station %s did not answer %s within %s s'
                                     % (station_id, action, timeout))
            time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            pause = min(pause * 2, _POLL_MAX, self.poll_interval)

    @staticmethod
    def _merge(frames, station_id, action):
        merged = {}
        for frame in frames:
            if frame and frame[0] == 4:
                raise CallError(station_id, action, 'station %s answered %s with a CALLERROR: %s %s'
                                % (station_id, action, frame[2] if len(frame) > 2 else '', frame[3] if len(frame) > 3 else ''),
                                details={'code': frame[2] if len(frame) > 2 else None,
                                         'description': frame[3] if len(frame) > 3 else None,
                                         'details': frame[4] if len(frame) > 4 else None})
            payload = frame[2] if len(frame) > 2 and isinstance(frame[2], dict) else {}
            for key, value in payload.items():
                if isinstance(value, list) and isinstance(merged.get(key), list):
                    merged[key] = merged[key] + value
                else:
                    merged.setdefault(key, value)
        return merged

    def _refuse_self_signing(self, station_id):
        """Fail when CitrineOS answered the station's last CSR with a CertificateSigned of its own (it holds a CA key):
        that certificate bypasses the operator's Vault PKI."""
        rows = self._store.run(
            'SELECT id, timestamp FROM %s WHERE "stationId" = :station AND action = \'SignCertificate\' '
            "AND origin = 'cs' ORDER BY id DESC LIMIT 1" % _MESSAGES, station=station_id)
        if not rows:
            return
        csr_id, received = rows[0]
        received = parse_time(received)
        if received is not None:
            waited = (datetime.datetime.now(datetime.timezone.utc) - received).total_seconds()
            if 0 <= waited < _SELF_SIGN_GRACE:
                time.sleep(_SELF_SIGN_GRACE - waited)
        signed = self._store.run(
            'SELECT count(*) FROM %s WHERE "stationId" = :station AND action = \'CertificateSigned\' '
            "AND origin = 'csms' AND id > :csr" % _MESSAGES, station=station_id, csr=csr_id)[0][0]
        if signed:
            raise CsmsError('CitrineOS signed the CSR of station %s itself and sent it a certificate the operator\'s '
                            'Vault PKI did not issue: its profile-3 websocket server holds a CA key '
                            '(mtlsCertificateAuthorityKeyFilePath). Point that setting at an empty file so that Vault '
                            'stays the only signer (docs/BACKENDS.md), then renew the station\'s certificate'
                            % station_id, kind='self_signing_csms')

    def now(self):
        return rfc3339(self._store.run('SELECT now()')[0][0])

    def messages(self, station_id, action, since=None, request_id=None):
        rows = self._store.run(
            'SELECT timestamp, message FROM %s WHERE "stationId" = :station AND action = :action AND origin = \'cs\' '
            'AND "tenantId" = :tenant AND timestamp > :since ORDER BY id' % _MESSAGES,
            station=station_id, action=action, tenant=self.tenant_id,
            since=parse_time(since) or datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc))
        found = []
        for received, message in rows:
            frame = _frame(message)
            if len(frame) < 4 or frame[0] != 2 or not isinstance(frame[3], dict):
                continue
            if request_id is not None and frame[3].get('requestId') != request_id:
                continue
            found.append({'action': action, 'received_at': rfc3339(received), 'payload': frame[3]})
        return found

    def connection(self, station_id):
        rows = self._store.run('SELECT "isOnline", "updatedAt", protocol FROM "ChargingStations" WHERE id = :station '
                               'AND "tenantId" = :tenant', station=station_id, tenant=self.tenant_id)
        if not rows:
            return None
        online, updated, protocol = rows[0]
        version = self.ocpp_version(station_id, protocol)
        boot = self._last_boot(station_id, version)
        # CitrineOS keeps no connection times: a station's connection after a power-up or Reset starts with its
        # BootNotification, so the last boot stands for the start of the current connection
        connected = boot['at'] if boot else (rfc3339(updated) if updated else None)
        # the last message of any kind from the station (a heartbeat or anything else shows it is alive)
        heartbeat = self._store.run(
            'SELECT max(timestamp) FROM %s WHERE "stationId" = :station AND origin = \'cs\'' % _MESSAGES,
            station=station_id)[0][0]
        profile, endpoint = self._station_endpoint(station_id, version) if online else (None, None)
        return {'online': bool(online), 'connected_at': connected, 'endpoint': endpoint,
                'security_profile': profile, 'ocpp_version': version, 'client_certificate': None,
                'connections_total': None, 'last_heartbeat': rfc3339(heartbeat) if heartbeat else None, 'boot': boot,
                'connectors': self._connectors(station_id)}

    def _station_endpoint(self, station_id, version=None):
        """The security profile the station runs (asked of the station: CitrineOS 1.8 keeps no record of the
        websocket server a station is connected to; a 2.0.1 station's ``SecurityCtrlr.SecurityProfile`` variable, a
        1.6 station's ``SecurityProfile`` configuration key of the Security Extension) and the URL of CitrineOS's
        websocket server for it (``csms_options.endpoints``, else CitrineOS's own server list)."""
        try:
            profile = self._security_profile_16(station_id) if version == '1.6' else \
                self._security_profile_201(station_id)
        except (CsmsError, ValueError, TypeError):
            return None, None
        if profile is None:
            return None, None
        base = self.endpoints.get(str(profile))
        if not base:
            rows = self._store.run('SELECT host, port FROM "ServerNetworkProfiles" WHERE "securityProfile" = :profile '
                                   'ORDER BY id LIMIT 1', profile=profile)
            if rows:
                base = '%s://%s:%s' % ('ws' if profile < 2 else 'wss', rows[0][0], rows[0][1])
        return profile, ('%s/%s' % (base.rstrip('/'), station_id) if base else None)

    def _security_profile_201(self, station_id):
        answer = self.call(station_id, 'GetVariables', {'getVariableData': [
            {'component': {'name': 'SecurityCtrlr'}, 'variable': {'name': 'SecurityProfile'}}]}, timeout=10)
        results = answer.get('getVariableResult') or []
        return int(results[0].get('attributeValue')) if results and results[0].get('attributeStatus') == 'Accepted' \
            else None

    def _security_profile_16(self, station_id):
        answer = self.call(station_id, 'GetConfiguration', {'key': ['SecurityProfile']}, timeout=10)
        values = [item.get('value') for item in answer.get('configurationKey') or []
                  if isinstance(item, dict) and item.get('key') == 'SecurityProfile']
        return int(values[0]) if values and values[0] not in (None, '') else None

    def _last_boot(self, station_id, version=None):
        rows = self._store.run(
            'SELECT "correlationId", timestamp, message FROM %s WHERE "stationId" = :station '
            "AND action = 'BootNotification' AND origin = 'cs' ORDER BY id DESC LIMIT 1" % _MESSAGES,
            station=station_id)
        if not rows:
            return None
        correlation, received, message = rows[0]
        request = _frame(message)
        answer = self._store.run(
            'SELECT message FROM %s WHERE "stationId" = :station AND "correlationId" = :correlation '
            "AND origin = 'csms'" % _MESSAGES, station=station_id, correlation=correlation)
        reply = _frame(answer[0][0]) if answer else []
        payload = request[3] if len(request) > 3 and isinstance(request[3], dict) else {}
        status = reply[2].get('status') if len(reply) > 2 and isinstance(reply[2], dict) else None
        if version == '1.6' or 'chargePointVendor' in payload:
            # OCPP 1.6: the charge point's fields at the top of the request, no reason (module_utils/station/boot.py)
            return {'reason': None, 'status': status, 'at': rfc3339(received), 'charging_station': {},
                    'charge_point': payload}
        return {'reason': payload.get('reason'), 'status': status, 'at': rfc3339(received),
                'charging_station': payload.get('chargingStation') or {}}

    def _connectors(self, station_id):
        rows = self._store.run(
            'SELECT DISTINCT ON (message->3->>\'evseId\', message->3->>\'connectorId\') timestamp, message FROM %s '
            "WHERE \"stationId\" = :station AND action = 'StatusNotification' AND origin = 'cs' "
            "ORDER BY message->3->>'evseId', message->3->>'connectorId', id DESC" % _MESSAGES, station=station_id)
        connectors = []
        for received, message in rows:
            frame = _frame(message)
            payload = frame[3] if len(frame) > 3 and isinstance(frame[3], dict) else {}
            if 'evseId' in payload and 'connectorId' in payload:
                connectors.append({'evse_id': payload['evseId'], 'connector_id': payload['connectorId'],
                                   'status': payload.get('connectorStatus'), 'at': rfc3339(received)})
            elif 'connectorId' in payload and 'status' in payload:
                # OCPP 1.6 numbers connectors over the whole charge point (0: the charge point itself): evse 0
                connectors.append({'evse_id': 0, 'connector_id': payload['connectorId'], 'status': payload['status'],
                                   'at': rfc3339(received)})
        return sorted(connectors, key=lambda item: (item['evse_id'], item['connector_id']))

    # -- registry --------------------------------------------------------------------------------------------
    _STATION_COLUMNS = (('serial_number', 'chargePointSerialNumber'), ('vendor', 'chargePointVendor'),
                        ('model', 'chargePointModel'), ('firmware_version', 'firmwareVersion'))
    _SITE_FIELDS = ('address', 'coordinates', 'timezone')
    _ID_TOKEN_FIELDS = ('id_token', 'type', 'status', 'group')

    def record_fields(self, kind):
        super(CitrineosCsms, self).record_fields(kind)
        if kind == 'station':
            kept = [field for field, _column in self._STATION_COLUMNS] + ['heartbeat_interval']
            if self.has('sites'):
                kept.append('location_id')
            return frozenset(kept)
        if kind == 'site':
            return frozenset(self._SITE_FIELDS)
        if kind == 'id_token':
            return frozenset(self._ID_TOKEN_FIELDS)
        return frozenset(RECORD_FIELDS[kind])

    def _writer(self, capability, what):
        if self._registrar is None:
            raise CapabilityMissing(self.NAME, capability, what, 'CitrineOS 1.8 has no REST route for it: give '
                                    'csms_options.registrar, a database role that may write its tables')
        return self._registrar

    def _check_kind(self, kind):
        if kind not in RECORD_FIELDS:
            raise CsmsError('%r is not a record kind: use one of %s' % (kind, ', '.join(sorted(RECORD_FIELDS))),
                            kind='invalid_kind')
        if kind == 'tariff':
            raise CapabilityMissing(self.NAME, 'tariffs', 'tariff records', 'CitrineOS 1.8 keeps prices per station '
                                    'and connector, not named tariffs')
        if kind in ('site', 'id_token') and self._registrar is None:
            self._writer('sites' if kind == 'site' else 'id_tokens', '%s records' % kind)

    def read_record(self, kind, record_id):
        self._check_kind(kind)
        return getattr(self, '_read_%s' % kind)(record_id)

    def create_record(self, kind, record_id, data):
        self._check_kind(kind)
        return getattr(self, '_write_%s' % kind)(record_id, data, create=True)

    def update_record(self, kind, record_id, changes):
        self._check_kind(kind)
        return getattr(self, '_write_%s' % kind)(record_id, changes, create=False)

    def delete_record(self, kind, record_id):
        self._check_kind(kind)
        return getattr(self, '_delete_%s' % kind)(record_id)

    def find_records(self, kind, **filters):
        self._check_kind(kind)
        if kind == 'id_token':
            records = [self._id_token(row) for row in self._store.run(
                self._TOKEN_COLUMNS + 'WHERE "tenantId" = :tenant ORDER BY id', tenant=self.tenant_id)]
        elif kind == 'station':
            records = [self._read_station(row[0]) for row in self._store.run(
                'SELECT id FROM "ChargingStations" WHERE "tenantId" = :tenant ORDER BY id', tenant=self.tenant_id)]
        else:
            records = [self._read_site(row[0]) for row in self._store.run(
                'SELECT name FROM "Locations" WHERE "tenantId" = :tenant ORDER BY id', tenant=self.tenant_id)]
        return [record for record in records
                if record and all(record.get(key) == value for key, value in filters.items())]

    # stations
    def _read_station(self, station_id):
        rows = self._store.run(
            'SELECT s.id, s."chargePointSerialNumber", s."chargePointVendor", s."chargePointModel", '
            's."firmwareVersion", l.name FROM "ChargingStations" s LEFT JOIN "Locations" l ON l.id = s."locationId" '
            'WHERE s.id = :station AND s."tenantId" = :tenant', station=station_id, tenant=self.tenant_id)
        if not rows:
            return None
        record = {'id': station_id}
        for (field, _column), value in zip(self._STATION_COLUMNS, rows[0][1:5]):
            if value is not None:
                record[field] = value
        if rows[0][5] is not None:
            record['location_id'] = rows[0][5]
        boot = self._boot_config(station_id)
        if boot.get('heartbeatInterval') is not None:
            record['heartbeat_interval'] = boot['heartbeatInterval']
        return record

    def _boot_config(self, station_id):
        """CitrineOS's boot configuration of the station (``/data/configuration/boot``): what it answers at the next
        BootNotification, the heartbeat interval among it (a station takes the interval from that answer)."""
        response = self._http('GET', '/data/configuration/boot', params={'stationId': station_id})
        if response.status_code == 404 or not response.content:
            return {}
        body = self._body(response)
        if response.status_code < 400 and not isinstance(body, dict):
            return {}
        if response.status_code >= 400:
            raise CsmsError('CitrineOS did not show the boot configuration of station %s: HTTP %d'
                            % (station_id, response.status_code), kind='csms_error', status=response.status_code)
        return body

    def _write_boot_config(self, station_id, heartbeat_interval):
        current = self._boot_config(station_id)
        body = {'status': 'Accepted' if current.get('status') in (None, 'Rejected') else current['status'],
                'heartbeatInterval': int(heartbeat_interval)}
        if current.get('bootRetryInterval') is not None:
            body['bootRetryInterval'] = current['bootRetryInterval']
        response = self._http('PUT', '/data/configuration/boot', params={'stationId': station_id}, json_body=body,
                              write=True)
        if response.status_code >= 400:
            raise CsmsError('CitrineOS did not store the boot configuration of station %s: HTTP %d %s'
                            % (station_id, response.status_code, json.dumps(self._body(response))[:300]),
                            kind='csms_error', status=response.status_code)

    def _write_station(self, station_id, data, create):
        if data.get('heartbeat_interval') is not None:
            self._write_boot_config(station_id, data['heartbeat_interval'])
        if not any(field in data for field, _column in self._STATION_COLUMNS) and 'location_id' not in data \
                and self._read_station(station_id) is not None:
            return self._read_station(station_id)
        writer = self._writer('prestage', 'the record of station %s' % station_id)
        values = dict((column, data[field]) for field, column in self._STATION_COLUMNS if field in data)
        location = None
        if 'location_id' in data and data['location_id'] is not None:
            location = self._location_key(data['location_id'])
            if location is None:
                raise CsmsError('station %s: location_id %s is not a site CitrineOS knows: create the site first'
                                % (station_id, data['location_id']), kind='not_found')
            values['locationId'] = location
        exists = bool(self._store.run('SELECT 1 FROM "ChargingStations" WHERE id = :station', station=station_id))
        params = dict(('v%d' % index, value) for index, value in enumerate(values.values()))
        if not exists:
            columns = ''.join(', "%s"' % column for column in values)
            placeholders = ''.join(', :v%d' % index for index in range(len(values)))
            writer.run('INSERT INTO "ChargingStations" (id, "isOnline", "tenantId", "createdAt", "updatedAt"%s) '
                       'VALUES (:station, false, :tenant, now(), now()%s)' % (columns, placeholders),
                       station=station_id, tenant=self.tenant_id, **params)
        elif values:
            assignments = ', '.join('"%s" = :v%d' % (column, index) for index, column in enumerate(values))
            writer.run('UPDATE "ChargingStations" SET %s, "updatedAt" = now() WHERE id = :station AND "tenantId" = '
                       ':tenant' % assignments, station=station_id, tenant=self.tenant_id, **params)
        self.requests_made['write'] += 1
        return self._read_station(station_id)

    def _delete_station(self, station_id):
        """Delete the station's record (its boot configuration first); CitrineOS keeps the station's messages. A
        station CitrineOS still holds other records of (transactions, device model) cannot be deleted: the error says
        so, and decommissioning leaves such a record in place (the station has no password or certificate left)."""
        writer = self._writer('prestage', 'the record of station %s' % station_id)
        if self._read_station(station_id) is None:
            return False
        self._http('DELETE', '/data/configuration/boot', params={'stationId': station_id}, write=True)
        writer.run('DELETE FROM "ChargingStations" WHERE id = :station AND "tenantId" = :tenant', station=station_id,
                   tenant=self.tenant_id)
        return True

    # sites (CitrineOS locations; the collection's site id is the location's name)
    def _location_key(self, site_id):
        rows = self._store.run('SELECT id FROM "Locations" WHERE name = :name AND "tenantId" = :tenant ORDER BY id '
                               'LIMIT 1', name=str(site_id), tenant=self.tenant_id)
        return rows[0][0] if rows else None

    def _read_site(self, site_id):
        rows = self._store.run(
            'SELECT address, city, "postalCode", country, "timeZone", ST_Y(coordinates), ST_X(coordinates) '
            'FROM "Locations" WHERE name = :name AND "tenantId" = :tenant ORDER BY id LIMIT 1',
            name=str(site_id), tenant=self.tenant_id)
        if not rows:
            return None
        street, city, postal, country, zone, lat, lon = rows[0]
        record = {'id': site_id}
        pairs = (('street', street), ('city', city), ('postal_code', postal), ('country', country))
        address = dict((key, value) for key, value in pairs if value is not None)
        if address:
            record['address'] = address
        if zone:
            record['timezone'] = zone
        if lat is not None and lon is not None:
            record['coordinates'] = {'latitude': lat, 'longitude': lon}
        return record

    def _write_site(self, site_id, data, create):
        writer = self._writer('sites', 'site %s' % site_id)
        key = self._location_key(site_id)
        address = data.get('address') if isinstance(data.get('address'), dict) else {}
        values = {}
        if 'address' in data:
            values.update({'address': address.get('street'), 'city': address.get('city'),
                           'postalCode': address.get('postal_code'), 'country': address.get('country')})
        if 'timezone' in data:
            values['timeZone'] = data['timezone']
        params = dict(('v%d' % index, value) for index, value in enumerate(values.values()))
        coordinates = data.get('coordinates') if isinstance(data.get('coordinates'), dict) else None
        point = ''
        if coordinates and coordinates.get('latitude') is not None and coordinates.get('longitude') is not None:
            point = ', coordinates = ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)'
            params.update(lat=float(coordinates['latitude']), lon=float(coordinates['longitude']))
        if key is None:
            key = writer.run('INSERT INTO "Locations" (name, "tenantId", "createdAt", "updatedAt") VALUES (:name, '
                             ':tenant, now(), now()) RETURNING id', name=str(site_id), tenant=self.tenant_id)[0][0]
        assignments = ''.join(', "%s" = :v%d' % (column, index) for index, column in enumerate(values))
        writer.run('UPDATE "Locations" SET "updatedAt" = now()%s%s WHERE id = :key' % (assignments, point),
                   key=key, **params)
        self.requests_made['write'] += 1
        return self._read_site(site_id)

    def _delete_site(self, site_id):
        writer = self._writer('sites', 'site %s' % site_id)
        key = self._location_key(site_id)
        if key is None:
            return False
        writer.run('UPDATE "ChargingStations" SET "locationId" = NULL WHERE "locationId" = :key', key=key)
        writer.run('DELETE FROM "Locations" WHERE id = :key', key=key)
        return True

    # id tokens (CitrineOS authorizations; the collection's group is kept in the authorization's customData)
    _GROUP_VENDOR = 'evcs.provisioning'

    @classmethod
    def _id_token(cls, row):
        token, token_type, status, custom = row
        group = custom.get('group') if isinstance(custom, dict) and custom.get('vendorId') == cls._GROUP_VENDOR else None
        record = {'id': '%s.%s' % (group, token) if group else token, 'id_token': token, 'type': token_type,
                  'status': status}
        if group:
            record['group'] = group
        return record

    @staticmethod
    def _token_of(record_id, data=None):
        if data and data.get('id_token'):
            return data['id_token'], data.get('group')
        group, dot, token = str(record_id).partition('.')
        return (token, group) if dot else (group, None)

    _TOKEN_COLUMNS = 'SELECT "idToken", "idTokenType", status, "customData" FROM "Authorizations" '

    def _read_id_token(self, record_id):
        token, group = self._token_of(record_id)
        rows = self._store.run(self._TOKEN_COLUMNS + 'WHERE "idToken" = :token AND "tenantId" = :tenant',
                               token=token, tenant=self.tenant_id)
        records = [self._id_token(row) for row in rows]
        return next((record for record in records if record['id'] == str(record_id)), None)

    def _write_id_token(self, record_id, data, create):
        writer = self._writer('id_tokens', 'id token %s' % record_id)
        token, group = self._token_of(record_id, data if create else None)
        current = self._read_id_token(record_id)
        merged = dict(current or {}, **data)
        custom = json.dumps({'vendorId': self._GROUP_VENDOR, 'group': merged.get('group') or group}) \
            if (merged.get('group') or group) else None
        params = dict(token=token, type=merged.get('type') or 'ISO14443', status=merged.get('status') or 'Accepted',
                      tenant=self.tenant_id, custom=custom)
        if current is None:
            writer.run('INSERT INTO "Authorizations" ("idToken", "idTokenType", status, "customData", "tenantId", '
                       '"createdAt", "updatedAt") VALUES (:token, :type, :status, CAST(:custom AS jsonb), :tenant, '
                       'now(), now())', **params)
        else:
            writer.run('UPDATE "Authorizations" SET "idTokenType" = :type, status = :status, '
                       '"customData" = CAST(:custom AS jsonb), "updatedAt" = now() WHERE "idToken" = :token '
                       'AND "tenantId" = :tenant', **params)
        self.requests_made['write'] += 1
        return self._read_id_token(record_id)

    def _delete_id_token(self, record_id):
        writer = self._writer('id_tokens', 'id token %s' % record_id)
        if self._read_id_token(record_id) is None:
            return False
        token, _group = self._token_of(record_id)
        writer.run('DELETE FROM "Authorizations" WHERE "idToken" = :token AND "tenantId" = :tenant', token=token,
                   tenant=self.tenant_id)
        return True

    # -- the station's credential ------------------------------------------------------------------------------
    def _compared_password(self, station_id, password):
        """What CitrineOS 1.8.3 compares with its stored hash when the station connects: the Basic-auth password read
        as UTF-8 text. A 2.0.1 station sends its password as text. A 1.6 station sends the bytes its AuthorizationKey
        (their hexadecimal representation, the form the collection keeps) stands for: CitrineOS can admit it only when
        those bytes are UTF-8 text, and then that text is what it must store; other keys it can never admit."""
        if self.ocpp_version(station_id) != '1.6':
            return password
        try:
            return bytes.fromhex(password).decode('utf-8')
        except ValueError:  # not hexadecimal, or bytes that are not UTF-8 (UnicodeDecodeError is a ValueError)
            raise CsmsError('CitrineOS 1.8.3 reads the Basic-auth password of OCPP 1.6 station %s as UTF-8 text, and '
                            'the AuthorizationKey the collection holds for it stands for bytes that are not UTF-8 text '
                            '(the Security Extension advises random bytes): CitrineOS cannot admit the station with it '
                            'on security profile 1 or 2. Nothing was stored: move the station to security profile 3 '
                            '(client certificate), or use a CSMS that compares the key\'s bytes (docs/BACKENDS.md)'
                            % station_id, kind='unsupported_credential')

    def set_station_password(self, station_id, password):
        """Stored in CitrineOS only (``setOnCharger: true``); the collection sets it on the station itself."""
        compared = self._compared_password(station_id, password)
        response = self._http('POST', '/data/configuration/password', write=True,
                              json_body={'stationId': station_id, 'password': compared, 'setOnCharger': True})
        if response.status_code >= 400:
            hint = (' (CitrineOS knows no station %s: it must boot once, or be pre-staged)' % station_id
                    if response.status_code >= 500 else '')
            raise CsmsError('CitrineOS did not store the password of station %s: HTTP %d%s'
                            % (station_id, response.status_code, hint), kind='csms_error', status=response.status_code)

    def verify_station_password(self, station_id, password):
        password = self._compared_password(station_id, password)
        response = self._http('GET', '/data/monitoring/variableAttribute',
                              params={'stationId': station_id, 'component_name': 'SecurityCtrlr',
                                      'variable_name': 'BasicAuthPassword'})
        if response.status_code >= 400:
            raise CsmsError('CitrineOS did not show the stored password of station %s: HTTP %d'
                            % (station_id, response.status_code), kind='csms_error', status=response.status_code)
        body = self._body(response)
        stored = [item.get('value') for item in body if isinstance(item, dict) and item.get('type') == 'Actual'] \
            if isinstance(body, list) else []
        return any(password_matches(value, password) for value in stored)
