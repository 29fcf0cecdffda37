"""The stations the CSMS knows: live sessions, their state, CSMS-initiated calls and the counts of those calls."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter, defaultdict
from decimal import Decimal

from ocpp.charge_point import camel_to_snake_case, remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.exceptions import OCPPError
from jsonschema.exceptions import best_match
from ocpp.messages import MessageType, get_validator
from ocpp.v16 import call as ocpp16_call
from ocpp.v201 import call as ocpp_call
from ocpp.v201.enums import MessageTriggerEnumType, RegistrationStatusEnumType

from evcs_lab.csms.config import CsmsConfig
from evcs_lab.csms.network_profiles import storable
from evcs_lab.csms.station import StationSession, id_token_status, plain
from evcs_lab.csms.store import Store

LOG = logging.getLogger('evcs_lab.csms.hub')
OCPP_VERSION = '2.0.1'
#: the request dataclasses of each OCPP version a station may speak
CALLS = {'2.0.1': ocpp_call, '1.6': ocpp16_call}
#: seconds a call may still take an answer the station sent just before it closed its connection (a station that
#: reconnects right after answering, as a 1.6 charge point does after a new AuthorizationKey or SecurityProfile)
ANSWER_AFTER_CLOSE_GRACE = 2.0


class CallFailed(Exception):
    """A CSMS-initiated call did not produce a response; ``code`` is the REST error code."""

    def __init__(self, status: int, code: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


class Reports:
    """NotifyReport parts collected per (station, requestId)."""

    def __init__(self):
        self._parts: dict[tuple[str, int], dict[int, list]] = defaultdict(dict)
        self._complete: set[tuple[str, int]] = set()

    def add_part(self, station_id: str, request_id: int, seq_no: int, tbc: bool, report_data: list) -> None:
        key = (station_id, request_id)
        self._parts[key][seq_no] = report_data
        if not tbc:
            self._complete.add(key)

    def view(self, station_id: str, request_id: int) -> dict:
        key = (station_id, request_id)
        parts = self._parts.get(key, {})
        report_data = [item for seq_no in sorted(parts) for item in parts[seq_no]]
        return {'complete': key in self._complete, 'report_data': report_data}


class ChargingProfileReports:
    """ReportChargingProfiles messages per (station, requestId), in arrival order, complete at ``tbc`` false."""

    def __init__(self):
        self._parts: dict[tuple[str, int], list[dict]] = defaultdict(list)
        self._complete: set[tuple[str, int]] = set()

    def add_part(self, station_id: str, request_id: int, part: dict, tbc: bool) -> None:
        key = (station_id, request_id)
        self._parts[key].append(part)
        if not tbc:
            self._complete.add(key)

    def view(self, station_id: str, request_id: int) -> dict:
        key = (station_id, request_id)
        return {'complete': key in self._complete, 'reports': list(self._parts.get(key, []))}


class StationHub:
    def __init__(self, config: CsmsConfig, store: Store):
        self.config = config
        self.store = store
        self.reports = Reports()
        self.charging_profile_reports = ChargingProfileReports()
        self.sessions: dict[str, StationSession] = {}
        self._call_counts: dict[str, Counter] = defaultdict(Counter)
        self._background: set[asyncio.Task] = set()
        self._published = asyncio.Event()

    # -- sessions ----------------------------------------------------------------------------------
    def attach(self, session: StationSession) -> None:
        previous = self.sessions.get(session.id)
        session.carry_over(self.store.station_state(session.id))
        self.sessions[session.id] = session
        self.store.log_connection(session.id, session.info.security_profile, session.info.endpoint,
                                  session.state['connected_at'], session.info.client_certificate)
        self.save_state(session)
        total = self.store.connections_total(session.id)
        self.publish(session.id, 'connected', {'security_profile': session.info.security_profile,
                                               'reconnect': total > 1, 'connections_total': total})
        self._forget_lower_network_profiles(session.id, session.info.security_profile)
        LOG.info('%s: connected with security profile %d at %s', session.id, session.info.security_profile,
                 session.info.endpoint)
        if previous is not None:
            LOG.info('%s: new connection replaces the previous one', session.id)
            self._in_background(previous.close('replaced by a new connection of the same station'))

    def _forget_lower_network_profiles(self, station_id: str, security_profile: int) -> None:
        """A05.FR.06: a station connected on a higher security profile deletes its slots of lower profiles."""
        forgotten = self.store.forget_network_profiles(station_id, below_security_profile=security_profile)
        if forgotten:
            LOG.info('%s: %d network profile slot(s) below security profile %d forgotten', station_id, forgotten,
                     security_profile)

    def detach(self, session: StationSession) -> None:
        session.closed.set()
        if self.sessions.get(session.id) is session:
            del self.sessions[session.id]
            LOG.info('%s: disconnected', session.id)
            self.publish(session.id, 'disconnected', {})

    # -- the event stream of all stations --------------------------------------------------------------
    def publish(self, station_id: str, event_type: str, data: dict) -> dict:
        """Append an event (never a secret: callers pass only what the stream documents) and wake the waiters."""
        event = self.store.publish(station_id, event_type, data)
        self._published.set()
        self._published = asyncio.Event()
        return event

    async def events(self, after: int, timeout: float, limit: int = 500) -> list[dict]:
        """Events after the cursor ``after``; when there are none, wait up to ``timeout`` seconds for one."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout)
        while True:
            published = self._published
            items = self.store.station_events(after, limit)
            remaining = deadline - loop.time()
            if items or remaining <= 0:
                return items
            try:
                await asyncio.wait_for(published.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    def save_state(self, session: StationSession) -> None:
        self.store.save_station_state(session.id, session.state)

    def connection_view(self, station_id: str) -> dict | None:
        state = self.store.station_state(station_id)
        if state is None:
            return None
        session = self.sessions.get(station_id)
        if session is not None:
            state = session.state
        view = {key: value for key, value in state.items() if key != 'connectors'}
        view['connectors'] = sorted(state['connectors'].values(), key=lambda c: (c['evse_id'], c['connector_id']))
        view.setdefault('ocpp_version', OCPP_VERSION)
        view['online'] = session is not None
        view['connections_total'] = self.store.connections_total(station_id)
        return view

    # -- decisions the sessions ask for ----------------------------------------------------------------
    def registration_status(self, station_id: str) -> RegistrationStatusEnumType:
        record = self.store.get_record('stations', station_id)
        if record is None:
            return RegistrationStatusEnumType.pending
        status = record.get('status', 'active')
        if status == 'retired':
            return RegistrationStatusEnumType.rejected
        return RegistrationStatusEnumType.accepted if status == 'active' else RegistrationStatusEnumType.pending

    def heartbeat_interval(self, station_id: str) -> int:
        """The interval BootNotification gives: the station record's heartbeat_interval, else the default."""
        record = self.store.get_record('stations', station_id) or {}
        return int(record.get('heartbeat_interval') or self.config.heartbeat_interval)

    def id_token_status(self, id_token: str) -> str:
        return id_token_status(self.store.get_record('id-tokens', id_token))

    def station_record_changed(self, station_id: str, record: dict) -> None:
        """A record that became active re-triggers the boot of its connected, still Pending station."""
        session = self.sessions.get(station_id)
        if record.get('status', 'active') != 'active' or session is None:
            return
        if session.boot_status == RegistrationStatusEnumType.pending:
            LOG.info('%s: record is active while the station is Pending: TriggerMessage(BootNotification)', station_id)
            payload = {'requestedMessage': MessageTriggerEnumType.boot_notification.value}
            self._in_background(self._trigger(station_id, payload))

    async def _trigger(self, station_id: str, payload: dict) -> None:
        try:
            await self.call(station_id, 'TriggerMessage', payload, self.config.call_timeout)
        except CallFailed as exc:
            LOG.warning('%s: TriggerMessage(BootNotification) failed: %s', station_id, exc.message)

    def _in_background(self, coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- CSMS-initiated calls --------------------------------------------------------------------------
    @property
    def call_counts(self) -> dict[str, dict[str, int]]:
        return {station_id: dict(counts) for station_id, counts in self._call_counts.items() if counts}

    def reset_call_counts(self) -> None:
        self._call_counts.clear()

    async def call(self, station_id: str, action: str, payload: dict, timeout: float) -> dict:
        """Send ``action`` with the camelCase ``payload`` in the OCPP version the station's connection speaks; return
        the station's camelCase response payload."""
        session = self.sessions.get(station_id)
        known = session.state if session is not None else self.store.station_state(station_id) or {}
        request = await _build_request(action, payload, known.get('ocpp_version') or OCPP_VERSION)
        if session is None:
            raise CallFailed(409, 'station_offline', 'station %s is not connected to the CSMS' % station_id)
        self._call_counts[station_id][action] += 1
        response = await self._exchange(session, request, timeout)
        LOG.info('%s: %s answered', station_id, action)
        answer = plain(snake_to_camel_case(remove_nones(serialize_as_dict(response))))
        if session.info.ocpp_version == '2.0.1' and action == 'SetNetworkProfile' and answer.get('status') == 'Accepted':
            self._network_profile_accepted(station_id, payload)
        return answer

    def _network_profile_accepted(self, station_id: str, payload: dict) -> None:
        slot = payload['configurationSlot']
        self.store.save_network_profile(station_id, slot, storable(payload['connectionData']))
        LOG.info('%s: network profile of slot %d accepted and kept', station_id, slot)

    async def _exchange(self, session: StationSession, request, timeout: float):
        action = type(request).__name__
        exchange = asyncio.ensure_future(session.call(request, suppress=False))
        closed = asyncio.ensure_future(session.closed.wait())
        try:
            done, _ = await asyncio.wait({exchange, closed}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closed.cancel()
        if exchange not in done and closed in done:
            # the reader may have read the answer before it saw the close, and the call not yet have taken it
            done, _ = await asyncio.wait({exchange}, timeout=ANSWER_AFTER_CLOSE_GRACE)
            done = done | {closed}
        if exchange not in done:
            exchange.cancel()
            if closed in done:
                LOG.warning('%s: disconnected while %s was waiting for its answer', session.id, action)
                raise CallFailed(409, 'station_offline', 'station %s disconnected before it answered %s'
                                 % (session.id, action))
            LOG.warning('%s: %s not answered within %ss', session.id, action, timeout)
            raise CallFailed(504, 'station_timeout', 'station %s did not answer %s within %s s'
                             % (session.id, action, timeout))
        try:
            return exchange.result()
        except asyncio.TimeoutError:
            raise CallFailed(504, 'station_timeout', 'station %s did not answer %s within %s s'
                             % (session.id, action, timeout)) from None
        except OCPPError as exc:
            LOG.warning('%s: %s answered with CALLERROR %s', session.id, action, exc.code)
            raise CallFailed(502, 'call_error', 'station %s answered %s with CALLERROR %s: %s'
                             % (session.id, action, exc.code, exc.description),
                             details={'code': exc.code, 'description': exc.description,
                                      'details': exc.details}) from None


async def _build_request(action: str, payload: dict, version: str = OCPP_VERSION):
    """The ocpp call dataclass of OCPP ``version`` for ``action``, validated against that version's request schema."""
    request_class = getattr(CALLS[version], action, None)
    if not isinstance(request_class, type) or not hasattr(request_class, '__dataclass_fields__'):
        raise CallFailed(400, 'unknown_action', '%s is not an OCPP %s message' % (action, version))
    try:
        request = request_class(**camel_to_snake_case(payload))
    except TypeError as exc:
        raise CallFailed(400, 'invalid_payload', '%s payload does not fit the message: %s' % (action, exc)) from None
    violation = _schema_violation(action, remove_nones(snake_to_camel_case(serialize_as_dict(request))), version)
    if violation:
        raise CallFailed(400, 'invalid_payload', '%s payload violates the OCPP %s schema at %s'
                         % (action, version, violation))
    return request


#: 1.6 requests whose schema has decimals with one digit (``multipleOf: 0.1``: a charging schedule's limit and
#: minChargingRate): the ocpp library validates these with JSON numbers parsed as Decimal, as a station does
DECIMAL_ACTIONS16 = ('SetChargingProfile', 'RemoteStartTransaction')


def _schema_violation(action: str, payload: dict, version: str = OCPP_VERSION) -> str | None:
    """Where and how the payload breaks the schema, naming no value (payloads carry passwords). A 1.6 schedule's
    decimals are checked as the ocpp library checks them (Decimal): a binary float such as 6.1 is not a multiple of
    0.1 for jsonschema, the decimal 6.1 is."""
    if version == '1.6' and action in DECIMAL_ACTIONS16:
        validator = get_validator(MessageType.Call, action, version, parse_float=Decimal)
        payload = json.loads(json.dumps(payload), parse_float=Decimal)
    else:
        validator = get_validator(MessageType.Call, action, version)
    error = best_match(validator.iter_errors(payload))
    if error is None:
        return None
    where = ''.join('[%d]' % part if isinstance(part, int) else '.%s' % part for part in error.absolute_path)
    if error.validator in ('required', 'additionalProperties'):
        what = error.message
    else:
        what = 'must satisfy %s %s' % (error.validator, json.dumps(error.validator_value, default=float))
    return '%s: %s' % (where.lstrip('.') or 'the payload', what)
