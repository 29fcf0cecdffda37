# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CSMS backend interface: the only way plugins reach stations (OCPP) and CSMS records.

Two parts, one class:

- the **station channel**: :meth:`CsmsBackend.call` sends an OCPP 2.0.1 call and returns the station's response,
  :meth:`CsmsBackend.wait_for_message` waits for a message the station sends on its own (SignCertificate,
  NotifyReport, ReportChargingProfiles), :meth:`CsmsBackend.connection` is the station's connection with its last
  BootNotification and connector status as the CSMS knows them across reconnects;
- the **registry**: records of the collection's own kinds (``station``, ``site``, ``tariff``, ``id_token``) in the
  collection's own field names (:data:`RECORD_FIELDS`), the station's local-list memory and its credential; each
  backend translates them to its product's schema in its own file.

A backend declares what its product can do in :attr:`CsmsBackend.CAPABILITIES` (names in :data:`CAPABILITIES`). A
method that needs a capability the backend lacks raises :class:`CapabilityMissing`; the caller reports it ("not
verifiable with backend <name>: ...") through ``csms.connection.unverifiable`` and does all the rest.
docs/BACKEND_INTERFACE.md and docs/BACKENDS.md describe the same contract for backend authors.
"""

from __future__ import annotations

import abc
import datetime
import time


class CsmsError(Exception):
    """A CSMS call failed. ``kind`` is one of the codes below, ``transient`` says whether a retry may help."""

    def __init__(self, message, kind='error', status=None, transient=False, details=None):
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.transient = transient
        self.details = details or {}


class StationOffline(CsmsError):
    """The station is not connected to the CSMS (or disconnected before it answered)."""

    def __init__(self, station_id, message=None):
        super().__init__(message or 'station %s is not connected to the CSMS' % station_id, kind='station_offline', status=409)


class StationTimeout(CsmsError):
    """The station did not answer a call (or did not send the awaited message) in time."""

    def __init__(self, station_id, action, message=None):
        super().__init__(message or 'station %s did not answer %s in time' % (station_id, action),
                         kind='station_timeout', status=504, transient=True)


class CallError(CsmsError):
    """The station answered with a CALLERROR; ``details`` holds ``code``, ``description`` and ``details``."""

    def __init__(self, station_id, action, message=None, details=None):
        super().__init__(message or 'station %s answered %s with a CALLERROR' % (station_id, action),
                         kind='call_error', status=502, details=details)


#: what a backend may be able to do, with the words a refusal uses ("backend X cannot <description>")
CAPABILITIES = {
    'prestage': 'register a station before its first boot',
    'record_fields': "keep every field of the collection's records",
    'sites': 'keep site (location) records',
    'tariffs': 'keep tariff records',
    'id_tokens': 'keep id-token records',
    'password_rotation': 'accept several BasicAuth passwords per station during a rotation',
    'password_check': 'tell whether it accepts a given BasicAuth password for a station',
    'network_profile_memory': 'remember the network connection profiles a station accepted',
    'set_network_profile': 'send SetNetworkProfile to a station',
    'local_list': 'send a local authorization list and remember the version it sent',
    'station_messages': 'show the messages a station sent on its own (SignCertificate, NotifyReport, '
                        'ReportChargingProfiles)',
    'client_certificate': 'show the client certificate a station presented on a security profile 3 connection',
    'station_status': "keep a station's last BootNotification and connector status across reconnects",
    'station_events': 'publish one stream of the events of all stations, known or not (boots, reconnects, security '
                      'events, connector status), for an event source to follow',
}

#: the event types of :meth:`CsmsBackend.events` and the fields of their ``data``
STATION_EVENT_TYPES = {
    'boot': ('reason', 'status', 'first_boot', 'serial_number', 'vendor', 'model', 'firmware_version'),
    'connected': ('security_profile', 'reconnect', 'connections_total'),
    'disconnected': (),
    'security_event': ('event_type', 'timestamp'),
    'connector_status': ('evse_id', 'connector_id', 'status', 'at'),
}


class CapabilityMissing(CsmsError):
    """The backend cannot do what was asked. ``str()`` is the line a stage reports:
    ``not verifiable with backend <backend>: <what>: backend <backend> cannot <capability> (<reason>)``."""

    def __init__(self, backend, capability, what=None, reason=None):
        self.backend = backend
        self.capability = capability
        self.what = what
        self.reason = reason
        super().__init__(self.describe(what), kind='capability_missing', details={'capability': capability,
                                                                                  'backend': backend})

    def describe(self, what=None):
        """The report line, ``what`` naming what could not be done or checked."""
        cannot = 'backend %s cannot %s' % (self.backend, CAPABILITIES.get(self.capability, self.capability))
        if self.reason:
            cannot += ' (%s)' % self.reason
        return 'not verifiable with backend %s: %s%s' % (self.backend, '%s: ' % what if what else '', cannot)


#: the record kinds of the registry and the collection's field names of each (besides ``id``); ``station.status``
#: is ``active`` or ``retired``; nested values as the modules' argument specs document them
RECORD_FIELDS = {
    'station': ('serial_number', 'vendor', 'model', 'firmware_version', 'location_id', 'operator', 'evses',
                'tariff_id', 'access', 'monitoring', 'firmware_channel', 'asset', 'status', 'heartbeat_interval'),
    'site': ('name', 'address', 'coordinates', 'timezone', 'operator', 'grid_connection', 'access'),
    'tariff': ('name', 'currency', 'price_per_kwh', 'price_per_minute', 'session_fee', 'valid_from'),
    'id_token': ('id_token', 'type', 'status', 'group'),
}
#: the capability a record kind needs (stations need none: every backend keeps them)
KIND_CAPABILITY = {'site': 'sites', 'tariff': 'tariffs', 'id_token': 'id_tokens'}

#: the first and the longest pause between two looks for an awaited message (the pause doubles in between)
_POLL_FIRST, _POLL_MAX = 0.05, 0.5


def parse_time(value):
    """A timezone-aware datetime from an RFC 3339 string or a datetime (naive means UTC); None stays None."""
    if value is None or value == '':
        return None
    if isinstance(value, datetime.datetime):
        moment = value
    else:
        try:
            moment = datetime.datetime.fromisoformat(str(value).replace('Z', '+00:00'))
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def rfc3339(moment):
    """``2026-12-07T12:00:00.123Z`` (milliseconds at most: some CSMSs reject more) from a datetime."""
    moment = parse_time(moment)
    return moment.astimezone(datetime.timezone.utc).isoformat(timespec='milliseconds').replace('+00:00', 'Z')


class CsmsBackend(abc.ABC):
    """What every backend provides. Subclasses set ``NAME``, ``CAPABILITIES``, ``OPTIONS`` and ``from_params``."""

    #: the value of ``csms_backend`` that selects this backend
    NAME = None
    #: the capabilities (keys of :data:`CAPABILITIES`) this backend has
    CAPABILITIES = frozenset()
    #: argument spec of the backend's own settings, given as ``csms_options`` (inventory: ``evcs_csms.options``) and
    #: documented in the doc fragment ``evcs.provisioning.csms_<NAME>``
    OPTIONS = {}
    #: the generic connection options this backend needs (``csms_url``, ``csms_token``)
    REQUIRES = ('csms_url',)

    @classmethod
    def from_params(cls, params, options, warn=None):
        """The backend for the module options ``params`` (csms_url, csms_token, csms_ca_path, csms_validate_certs,
        csms_timeout, csms_retries, already read from the environment) and its validated ``options``."""
        raise NotImplementedError

    # -- capabilities ------------------------------------------------------------------------------------------
    def has(self, capability):
        """Whether this backend has ``capability`` (a key of :data:`CAPABILITIES`)."""
        return capability in self.CAPABILITIES

    def require(self, capability, what=None, reason=None):
        """Raise :class:`CapabilityMissing` unless the backend has ``capability``."""
        if not self.has(capability):
            raise CapabilityMissing(self.NAME, capability, what, reason)

    # -- station channel ---------------------------------------------------------------------------------------
    @abc.abstractmethod
    def call(self, station_id, action, payload, timeout=None):
        """Send OCPP 2.0.1 ``action`` with the camelCase ``payload`` and return the station's camelCase response payload.

        Raises StationOffline, StationTimeout, CallError (the station's CALLERROR), CapabilityMissing (the product
        cannot send this action: ``set_network_profile``, ``local_list``), CsmsError (anything else)."""

    def now(self):
        """The CSMS's clock as an RFC 3339 string: what to pass as ``since`` before making a station send something.
        The default is the controller's clock; a backend overrides it where the CSMS's clock may differ."""
        return rfc3339(datetime.datetime.now(datetime.timezone.utc))

    def events(self, since=None, timeout=0):
        """The stream of events of all stations (capability ``station_events``): ``(events, cursor)`` where
        ``events`` are those after the opaque cursor ``since`` (None: from the first the CSMS kept; ``'now'``: only
        later ones), oldest first, each ``{'cursor', 'station_id', 'type' (a key of STATION_EVENT_TYPES), 'at' (RFC
        3339), 'data': {the fields of STATION_EVENT_TYPES[type]}}``, and ``cursor`` the one to pass next. Waits up to
        ``timeout`` seconds when there is none yet. Events carry no secret."""
        raise CapabilityMissing(self.NAME, 'station_events', 'station events')

    def messages(self, station_id, action, since=None, request_id=None):
        """The ``action`` messages (SignCertificate, NotifyReport, ReportChargingProfiles, ...) the station sent after
        ``since`` (RFC 3339 or datetime; None: all the CSMS kept), with ``payload.requestId == request_id`` when given,
        oldest first: ``[{'action', 'received_at' (RFC 3339), 'payload' (camelCase)}]``. Does not wait.
        Raises CapabilityMissing (``station_messages``) when the backend cannot see them."""
        raise CapabilityMissing(self.NAME, 'station_messages', '%s messages of station %s' % (action, station_id))

    def wait_for_message(self, station_id, action, since, timeout, request_id=None):
        """Wait up to ``timeout`` seconds for the ``action`` message(s) the station sends after ``since``.

        Returns the list of messages: one for a single message (SignCertificate), every part up to the one without
        ``tbc`` for a report sent in parts (NotifyReport, ReportChargingProfiles with ``request_id``). Raises
        StationTimeout when nothing (or not every part) arrived in time, CapabilityMissing as :meth:`messages`.
        Backends may override it (push instead of polling)."""
        deadline, pause = time.monotonic() + timeout, _POLL_FIRST
        while True:
            found = self.messages(station_id, action, since=since, request_id=request_id)
            if found:
                if request_id is None and not found[0]['payload'].get('tbc'):
                    return found[:1]
                complete = [index for index, message in enumerate(found) if not message['payload'].get('tbc')]
                if complete:
                    return found[:complete[0] + 1]
            if time.monotonic() >= deadline:
                raise StationTimeout(station_id, action, 'station %s sent no%s %s%s within %s s' % (
                    station_id, ' complete' if found else '', action,
                    ' for requestId %s' % request_id if request_id is not None else '', timeout))
            time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            pause = min(pause * 2, _POLL_MAX)

    @abc.abstractmethod
    def connection(self, station_id):
        """The station as the CSMS knows it, or None when it never connected::

            {'online': bool, 'connected_at': RFC 3339 (current or last connection), 'security_profile': int or None,
             'ocpp_version': '2.0.1' or '1.6' (the subprotocol the station negotiated) or None when not known,
             'client_certificate': PEM or None (capability client_certificate), 'connections_total': int or None,
             'last_heartbeat': RFC 3339 or None,
             'boot': {'reason', 'status', 'at', 'charging_station': {...}} or None,   # last BootNotification
             'connectors': [{'evse_id', 'connector_id', 'status', 'at'}]}           # last StatusNotification each

        ``boot`` and ``connectors`` survive reconnects (a station boots only after power-up or Reset)."""

    def last_boot(self, station_id):
        """The station's last BootNotification as the CSMS answered it: ``{'reason', 'status', 'at',
        'charging_station'}``, or None (never booted, or capability ``station_status`` missing)."""
        return (self.connection(station_id) or {}).get('boot')

    def connector_status(self, station_id):
        """``{(evse_id, connector_id): {'status', 'at'}}``: the last StatusNotification of each connector."""
        return dict(((item['evse_id'], item['connector_id']), {'status': item.get('status'), 'at': item.get('at')})
                    for item in (self.connection(station_id) or {}).get('connectors') or [])

    def sent_network_profiles(self, station_id):
        """``{slot (str): connectionData}`` the station accepted through SetNetworkProfile, as the CSMS kept it, secrets
        (apn.apnPassword, apn.simPin, vpn.password, vpn.key) as ``{'salt': hex, 'sha256': hex}``.
        Raises CapabilityMissing (``network_profile_memory``)."""
        raise CapabilityMissing(self.NAME, 'network_profile_memory', 'the network profiles sent to station %s' % station_id)

    # -- registry ----------------------------------------------------------------------------------------------
    def record_fields(self, kind):
        """The fields of ``kind`` (see :data:`RECORD_FIELDS`) this backend keeps and reads back; a field it does not
        keep is reported as not verifiable, never as drift. Raises CapabilityMissing when it keeps no such records."""
        if kind in KIND_CAPABILITY:
            self.require(KIND_CAPABILITY[kind], '%s records' % kind)
        return frozenset(RECORD_FIELDS[kind])

    @abc.abstractmethod
    def read_record(self, kind, record_id):
        """The record ``{'id': record_id, <field>: value, ...}`` in the collection's field names, or None."""

    @abc.abstractmethod
    def create_record(self, kind, record_id, data):
        """Create (or replace) the record from ``data`` (collection field names); returns it as read_record would.
        A station before its first boot needs ``prestage``."""

    @abc.abstractmethod
    def update_record(self, kind, record_id, changes):
        """Write the top-level fields ``changes`` of an existing record, leave the others; returns the record."""

    @abc.abstractmethod
    def delete_record(self, kind, record_id):
        """Delete the record; True when it existed."""

    @abc.abstractmethod
    def find_records(self, kind, **filters):
        """Every record of ``kind`` whose fields equal ``filters`` (for example ``group`` of id tokens, ``status`` of
        stations), as read_record returns them."""

    def local_list_memory(self, station_id):
        """What the CSMS remembers of the station's local list: ``{'version', 'hash', 'entries'}`` or None.
        Raises CsmsError kind ``not_found`` when the station has no record, CapabilityMissing (``local_list``)."""
        raise CapabilityMissing(self.NAME, 'local_list', 'the local list of station %s' % station_id)

    def remember_local_list(self, station_id, memory):
        """Keep ``memory`` (``{'version', 'hash', 'entries'}``) as the station's local list. Raises CapabilityMissing."""
        raise CapabilityMissing(self.NAME, 'local_list', 'the local list of station %s' % station_id)

    # -- the station's credential (BasicAuthPassword of security profiles 1 and 2) ------------------------------
    @abc.abstractmethod
    def set_station_password(self, station_id, password):
        """Make ``password`` the only one the CSMS accepts from the station (stored, never sent to the station)."""

    def add_station_password(self, station_id, password):
        """Accept ``password`` beside the ones accepted now (a rotation). Raises CapabilityMissing
        (``password_rotation``)."""
        raise CapabilityMissing(self.NAME, 'password_rotation', 'the password rotation of station %s' % station_id)

    def verify_station_password(self, station_id, password):
        """Whether the CSMS accepts ``password`` from the station. Raises CapabilityMissing (``password_check``)."""
        raise CapabilityMissing(self.NAME, 'password_check', 'the CSMS password of station %s' % station_id)
