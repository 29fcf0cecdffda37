# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backend for the reference CSMS REST API (documented as OpenAPI at ``/openapi.json``)."""

from __future__ import annotations

import time


try:
    import requests
    HAS_REQUESTS = True
except ImportError:  # pragma: no cover - reported by the caller
    HAS_REQUESTS = False

from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import (
    CAPABILITIES, CallError, CsmsBackend, CsmsError, StationOffline, StationTimeout, rfc3339,
)
from ansible_collections.evcs.provisioning.plugins.module_utils.identifiers import path_segment

#: answers that say "try again later": retried with a bounded exponential backoff
_TRANSIENT_STATUS = (429, 502, 503)
#: the longest single wait between two attempts, in seconds (a Retry-After answer is capped to it too)
_MAX_BACKOFF = 8.0
#: writes that leave the same state when repeated (other writes are not repeated after a timeout)
_IDEMPOTENT_WRITES = ('PUT', 'DELETE')
#: the REST collection of each record kind
_COLLECTIONS = {'station': 'stations', 'site': 'locations', 'tariff': 'tariffs', 'id_token': 'id-tokens'}
#: the station record field the reference API keeps the local-list memory in
_LOCAL_LIST = 'local_list'


class ReferenceCsms(CsmsBackend):
    """Synchronous REST client; one HTTP session (connection pool) per instance."""

    NAME = 'reference'
    #: the reference API offers everything the interface names
    CAPABILITIES = frozenset(CAPABILITIES)
    OPTIONS = {}
    REQUIRES = ('csms_url', 'csms_token')

    @classmethod
    def from_params(cls, params, options, warn=None):
        return cls(params['csms_url'], params['csms_token'], ca_path=params.get('csms_ca_path'),
                   validate_certs=params.get('csms_validate_certs', True), timeout=params.get('csms_timeout') or 30,
                   retries=params.get('csms_retries', 3))

    def __init__(self, url, token, ca_path=None, validate_certs=True, timeout=30, retries=3, backoff=0.5):
        if not HAS_REQUESTS:
            raise CsmsError('the Python library requests is required on the controller for the reference CSMS backend')
        self.url = url.rstrip('/')
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._session = requests.Session()
        self._session.headers['Authorization'] = 'Bearer %s' % token
        # passed with every request: requests lets REQUESTS_CA_BUNDLE override a session-level verify
        self._verify = ca_path if (validate_certs and ca_path) else bool(validate_certs)
        #: counts of requests this client made, by kind: used for benchmarks and reports
        self.requests_made = {'read': 0, 'write': 0}

    # -- transport -------------------------------------------------------------------------------
    def _request(self, method, path, json_body=None, params=None, timeout=None, write=False):
        """One API call; connection errors, timeouts of calls that are safe to repeat and 429/502/503 answers are
        retried ``retries`` times with a bounded exponential backoff."""
        self.requests_made['write' if write else 'read'] += 1
        timeout = timeout or self.timeout
        repeatable = not write or method in _IDEMPOTENT_WRITES
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._session.request(method, self.url + path, json=json_body, params=params,
                                                 timeout=timeout, verify=self._verify)
            except requests.exceptions.SSLError as exc:
                raise CsmsError('TLS verification of the CSMS at %s failed (%s): set csms_ca_path (inventory: '
                                'evcs_csms.ca_path) to the CA that issued its certificate' % (self.url, _reason(exc)),
                                kind='tls')
            except requests.exceptions.ReadTimeout:
                if attempt <= self.retries and repeatable:
                    self._pause(attempt)
                    continue
                raise self._timed_out(method, path, timeout, attempt, repeatable)
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                if attempt <= self.retries:
                    self._pause(attempt)
                    continue
                raise CsmsError('the CSMS at %s is unreachable after %d attempts (%s): check csms_url (inventory: '
                                'evcs_csms.url) and that the CSMS is running, then run again' % (self.url, attempt, _reason(exc)),
                                kind='unreachable', transient=True)
            if _transient(response) and attempt <= self.retries:
                self._pause(attempt, response.headers.get('Retry-After'))
                continue
            response.attempts = attempt
            return response

    def _pause(self, attempt, retry_after=None):
        wait = self.backoff * (2 ** (attempt - 1))
        if retry_after and retry_after.strip().isdigit():
            wait = max(wait, float(retry_after))
        time.sleep(min(wait, _MAX_BACKOFF))

    def _timed_out(self, method, path, timeout, attempt, repeatable):
        if repeatable:
            advice = 'the CSMS is overloaded or hangs: check it, or raise csms_timeout (EVCS_CSMS_TIMEOUT), then run again'
        else:
            advice = ('the call may still have been applied, so it was not repeated: run again, the next run reads '
                      'the current state and sends only what is missing; raise csms_timeout (EVCS_CSMS_TIMEOUT) for a '
                      'slow CSMS')
        return CsmsError('the CSMS at %s did not answer %s %s within %d s (attempt %d): %s'
                         % (self.url, method, path, timeout, attempt, advice), kind='timeout', transient=True)

    @staticmethod
    def _error(response):
        try:
            body = response.json()
        except ValueError:
            body = {'message': response.text[:300]}
        if not isinstance(body, dict):
            body = {'message': str(body)[:300]}
        return body.get('error', 'http_%d' % response.status_code), body.get('message', ''), body

    def _json(self, response, what):
        if response.status_code == 401 or response.status_code == 403:
            raise CsmsError('the CSMS refused the API token (%d) for %s: check csms_token (inventory: evcs_csms.token)'
                            % (response.status_code, what), kind='unauthorized', status=response.status_code)
        if response.status_code >= 500:
            code, message, body = self._error(response)
            attempts = getattr(response, 'attempts', 1)
            raise CsmsError('CSMS %s failed with HTTP %d (%s%s)%s: the CSMS has a server-side problem; check its '
                            'health and logs, then run again (a run is safe to repeat: it writes only what is missing)'
                            % (what, response.status_code, code, ': %s' % message if message else '',
                               ' after %d attempts' % attempts if attempts > 1 else ''),
                            kind=code, status=response.status_code, transient=True, details=body)
        if response.status_code >= 400:
            code, message, body = self._error(response)
            raise CsmsError('CSMS %s failed: %s %s' % (what, code, message), kind=code, status=response.status_code,
                            details=body)
        if response.status_code == 204 or not response.content:
            return {}
        return response.json()

    # -- station channel ---------------------------------------------------------------------------------------
    def call(self, station_id, action, payload, timeout=None):
        write = not action.startswith('Get')
        params = {'timeout': timeout} if timeout else None
        response = self._request('POST', '/api/stations/%s/ocpp/%s' % (_segment(station_id), _segment(action)),
                                 json_body=payload, params=params, timeout=(timeout or self.timeout) + 5, write=write)
        if response.status_code == 409:
            raise StationOffline(station_id, 'station %s is not connected to the CSMS, so %s could not be sent: bring it '
                                 'online (power, network, CSMS URL) and run again' % (station_id, action))
        if response.status_code == 504:
            raise StationTimeout(station_id, action)
        if response.status_code == 502:
            code, message, body = self._error(response)
            raise CallError(station_id, action, 'station %s answered %s with a CALLERROR: %s' % (station_id, action, message),
                            details=body.get('details', {}))
        return self._json(response, '%s to %s' % (action, station_id)).get('payload', {})

    def now(self):
        return self._json(self._request('GET', '/api/health'), 'clock').get('time') or super(ReferenceCsms, self).now()

    def messages(self, station_id, action, since=None, request_id=None):
        params = {'action': action}
        if since is not None:
            params['since'] = rfc3339(since)
        if request_id is not None:
            params['request_id'] = request_id
        return self._json(self._request('GET', '/api/stations/%s/messages' % _segment(station_id), params=params),
                          '%s messages of %s' % (action, station_id)).get('items', [])

    def events(self, since=None, timeout=0):
        params = {'since': since or '0', 'timeout': timeout}
        body = self._json(self._request('GET', '/api/events', params=params, timeout=self.timeout + timeout),
                          'station events')
        return body.get('items', []), body.get('cursor', since)

    def connection(self, station_id):
        response = self._request('GET', '/api/stations/%s/connection' % _segment(station_id))
        if response.status_code == 404:
            return None
        return self._json(response, 'connection of %s' % station_id)

    def sent_network_profiles(self, station_id):
        return self._json(self._request('GET', '/api/stations/%s/network-profiles' % _segment(station_id)),
                          'network profiles of %s' % station_id)

    # -- registry ----------------------------------------------------------------------------------------------
    def _record_path(self, kind, record_id=None):
        try:
            path = '/api/%s' % _COLLECTIONS[kind]
        except KeyError:
            raise CsmsError('%r is not a record kind: use one of %s' % (kind, ', '.join(sorted(_COLLECTIONS))),
                            kind='invalid_kind')
        return path if record_id is None else '%s/%s' % (path, _segment(record_id))

    def read_record(self, kind, record_id):
        response = self._request('GET', self._record_path(kind, record_id))
        if response.status_code == 404:
            return None
        return self._json(response, 'read of %s %s' % (kind, record_id))

    def create_record(self, kind, record_id, data):
        return self._json(self._request('PUT', self._record_path(kind, record_id), json_body=dict(data, id=record_id),
                                        write=True), 'write of %s %s' % (kind, record_id))

    def update_record(self, kind, record_id, changes):
        return self._json(self._request('PATCH', self._record_path(kind, record_id), json_body=changes, write=True),
                          'update of %s %s' % (kind, record_id))

    def delete_record(self, kind, record_id):
        response = self._request('DELETE', self._record_path(kind, record_id), write=True)
        if response.status_code == 404:
            return False
        self._json(response, 'delete of %s %s' % (kind, record_id))
        return True

    def find_records(self, kind, **filters):
        return self._json(self._request('GET', self._record_path(kind), params=filters or None),
                          'list of %s records' % kind).get('items', [])

    def local_list_memory(self, station_id):
        record = self.read_record('station', station_id)
        if record is None:
            raise CsmsError('station %s has no record' % station_id, kind='not_found', status=404)
        return record.get(_LOCAL_LIST)

    def remember_local_list(self, station_id, memory):
        self.update_record('station', station_id, {_LOCAL_LIST: memory})

    # -- the station's credential ------------------------------------------------------------------------------
    def _credentials(self, station_id, suffix=''):
        return '/api/stations/%s/credentials%s' % (_segment(station_id), suffix)

    def set_station_password(self, station_id, password):
        self._json(self._request('PUT', self._credentials(station_id), json_body={'passwords': [password]}, write=True),
                   'credentials of %s' % station_id)

    def add_station_password(self, station_id, password):
        self._json(self._request('POST', self._credentials(station_id), json_body={'password': password}, write=True),
                   'credentials of %s' % station_id)

    def verify_station_password(self, station_id, password):
        return bool(self._json(self._request('POST', self._credentials(station_id, '/verify'),
                                             json_body={'password': password}),
                               'credential check of %s' % station_id).get('valid'))


def _transient(response):
    """429/502/503, except a 502 that carries the station's CALLERROR (an answer, not an outage)."""
    if response.status_code not in _TRANSIENT_STATUS:
        return False
    if response.status_code == 502:
        try:
            return (response.json() or {}).get('error') != 'call_error'
        except (ValueError, AttributeError):
            return True
    return True


def _reason(exc):
    """The innermost cause of a requests exception, without the URL noise."""
    while getattr(exc, 'args', None) and isinstance(exc.args[0], Exception):
        exc = exc.args[0]
    reason = getattr(exc, 'reason', None) or exc
    return '%s: %s' % (exc.__class__.__name__, reason) if str(reason) else exc.__class__.__name__


def _segment(identifier):
    """An identifier (station, record, action) as exactly one URL path segment: every id that enters a path goes
    through it."""
    return path_segment(identifier)
