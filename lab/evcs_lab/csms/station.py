"""One connected charging station: the OCPP 2.0.1 messages it sends and the CSMS's answers."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from decimal import Decimal

from ocpp.charge_point import snake_to_camel_case
from ocpp.routing import on
from ocpp.v201 import ChargePoint, call_result
from ocpp.v201.enums import (
    Action, AuthorizationStatusEnumType, GenericStatusEnumType, RegistrationStatusEnumType,
)

from evcs_lab.csms.clock import now_rfc3339

LOG = logging.getLogger('evcs_lab.csms.station')
# The ocpp library logs every frame at INFO, SetVariables with BasicAuthPassword included: keep it quiet.
_FRAME_LOG = logging.getLogger('evcs_lab.csms.frames')
_FRAME_LOG.setLevel(logging.WARNING)


@dataclass(frozen=True)
class ConnectionInfo:
    """What the CSMS learnt about a connection before the websocket upgrade."""

    station_id: str
    security_profile: int
    endpoint: str
    client_certificate: str | None
    ocpp_version: str = '2.0.1'


class SessionBase:
    """What the CSMS keeps of a connection whatever its OCPP version: the station's state (kept across reconnects),
    the messages it sent and the events published of it. ``hub`` is the :class:`evcs_lab.csms.hub.StationHub`."""

    def __init__(self, info: ConnectionInfo, websocket, hub, response_timeout: float):
        super().__init__(info.station_id, websocket, response_timeout=response_timeout, logger=_FRAME_LOG)
        self.info = info
        self.hub = hub
        self.closed = asyncio.Event()
        self.state = {
            'station_id': info.station_id,
            'security_profile': info.security_profile,
            'endpoint': info.endpoint,
            'connected_at': now_rfc3339(),
            'client_certificate': info.client_certificate,
            'ocpp_version': info.ocpp_version,
            'boot': None,
            'last_heartbeat': None,
            'last_message_at': None,
            'connectors': {},
        }

    def carry_over(self, previous: dict | None) -> None:
        """What the CSMS knew of the station before this connection stays: its last BootNotification, the status of
        each connector, its last heartbeat and the last message it sent (a station boots only after power-up or Reset,
        not on a reconnect, and a 1.6 charge point that reconnects by itself may stay silent until its next
        heartbeat)."""
        for key in ('boot', 'connectors', 'last_heartbeat', 'last_message_at'):
            if (previous or {}).get(key):
                self.state[key] = previous[key]

    @property
    def boot_status(self) -> str | None:
        return (self.state['boot'] or {}).get('status')

    async def route_message(self, raw_msg):
        self.state['last_message_at'] = now_rfc3339()
        await super().route_message(raw_msg)

    async def close(self, reason: str) -> None:
        await self._connection.close(code=1000, reason=reason)

    def _changed(self) -> None:
        self.hub.save_state(self)

    def _booted(self, boot: dict, published: dict) -> tuple[str, int]:
        """Keep a BootNotification (``boot``: what the state shows) and publish it; (registration status, interval)."""
        status = self.hub.registration_status(self.id)
        first_boot = self.state['boot'] is None
        self.state['boot'] = dict(boot, status=status, at=now_rfc3339())
        self._changed()
        LOG.info('%s: BootNotification (%s) -> %s', self.id, boot.get('reason') or 'OCPP %s' % self.info.ocpp_version,
                 status)
        self.hub.publish(self.id, 'boot', dict(published, reason=boot.get('reason'), status=status,
                                               first_boot=first_boot))
        accepted = status == RegistrationStatusEnumType.accepted
        return status, self.hub.heartbeat_interval(self.id) if accepted else self.hub.config.boot_retry_interval

    def _heartbeat(self) -> str:
        self.state['last_heartbeat'] = now_rfc3339()
        self._changed()
        return now_rfc3339()

    def _connector_status(self, evse_id: int, connector_id: int, status: str, timestamp: str) -> None:
        self.state['connectors']['%d/%d' % (evse_id, connector_id)] = {
            'evse_id': evse_id, 'connector_id': connector_id, 'status': status, 'at': timestamp}
        self._changed()
        self.hub.publish(self.id, 'connector_status', {'evse_id': evse_id, 'connector_id': connector_id,
                                                       'status': status, 'at': timestamp})

    def _sign_certificate(self, csr: str, certificate_type: str | None) -> None:
        self.hub.store.save_csr(self.id, csr, certificate_type)
        self._keep('SignCertificate', {'csr': csr, 'certificateType': certificate_type})
        LOG.info('%s: SignCertificate (%s) stored', self.id, certificate_type or 'certificate type not given')

    def _security_event(self, payload: dict) -> None:
        self._record_event('SecurityEventNotification', payload)
        # the type and time only: techInfo is free text a station may fill with anything
        self.hub.publish(self.id, 'security_event', {'event_type': payload.get('type'),
                                                     'timestamp': payload.get('timestamp')})

    def _keep(self, action: str, payload: dict) -> None:
        self.hub.store.save_message(self.id, getattr(action, 'value', action),
                                    {key: plain(value) for key, value in payload.items() if value is not None})

    def _record_event(self, action: str, payload: dict) -> None:
        self.hub.store.add_event(self.id, {'type': getattr(action, 'value', action), 'received_at': now_rfc3339(),
                                           'payload': snake_to_camel_case(payload)})


class StationSession(SessionBase, ChargePoint):
    """The CSMS side of one OCPP 2.0.1 connection."""

    # -- provisioning ------------------------------------------------------------------------------
    @on(Action.boot_notification)
    def on_boot_notification(self, charging_station, reason, **_):
        station = snake_to_camel_case(charging_station)
        status, interval = self._booted({'reason': reason, 'charging_station': station}, {
            'serial_number': station.get('serialNumber'), 'vendor': station.get('vendorName'),
            'model': station.get('model'), 'firmware_version': station.get('firmwareVersion')})
        return call_result.BootNotification(current_time=now_rfc3339(), interval=interval, status=status)

    @on(Action.heartbeat)
    def on_heartbeat(self, **_):
        return call_result.Heartbeat(current_time=self._heartbeat())

    @on(Action.status_notification)
    def on_status_notification(self, timestamp, connector_status, evse_id, connector_id, **_):
        self._connector_status(evse_id, connector_id, connector_status, timestamp)
        # kept in the message store as the 1.6 side keeps it: a CSMS shows what its stations sent (station_messages)
        self._keep(Action.status_notification, {'timestamp': timestamp, 'connectorStatus': connector_status,
                                                'evseId': evse_id, 'connectorId': connector_id})
        return call_result.StatusNotification()

    @on(Action.notify_report)
    def on_notify_report(self, request_id, generated_at, seq_no, tbc=False, report_data=None, **_):
        self.hub.reports.add_part(self.id, request_id, seq_no, tbc, snake_to_camel_case(report_data or []))
        self._keep(Action.notify_report, {'requestId': request_id, 'generatedAt': generated_at, 'seqNo': seq_no,
                                          'tbc': tbc, 'reportData': snake_to_camel_case(report_data or [])})
        return call_result.NotifyReport()

    @on(Action.notify_monitoring_report)
    def on_notify_monitoring_report(self, request_id, seq_no, generated_at, tbc=False, monitor=None, **_):
        self._keep(Action.notify_monitoring_report, {'requestId': request_id, 'generatedAt': generated_at, 'seqNo': seq_no,
                                                     'tbc': tbc, 'monitor': snake_to_camel_case(monitor or [])})
        return call_result.NotifyMonitoringReport()

    @on(Action.report_charging_profiles)
    def on_report_charging_profiles(self, request_id, charging_limit_source, charging_profile, evse_id, tbc=False,
                                    **_):
        part = {'evseId': evse_id, 'chargingLimitSource': charging_limit_source,
                'chargingProfile': snake_to_camel_case(charging_profile)}
        self.hub.charging_profile_reports.add_part(self.id, request_id, part, tbc)
        self._keep(Action.report_charging_profiles, dict(part, requestId=request_id, tbc=tbc))
        return call_result.ReportChargingProfiles()

    # -- security ----------------------------------------------------------------------------------
    @on(Action.sign_certificate)
    def on_sign_certificate(self, csr, certificate_type=None, **_):
        self._sign_certificate(csr, certificate_type)
        return call_result.SignCertificate(status=GenericStatusEnumType.accepted)

    @on(Action.security_event_notification)
    def on_security_event_notification(self, **payload):
        self._security_event(payload)
        return call_result.SecurityEventNotification()

    @on(Action.notify_event)
    def on_notify_event(self, **payload):
        self._record_event(Action.notify_event, payload)
        return call_result.NotifyEvent()

    # -- operation ---------------------------------------------------------------------------------
    @on(Action.authorize)
    def on_authorize(self, id_token, **_):
        status = self.hub.id_token_status(id_token['id_token'])
        return call_result.Authorize(id_token_info={'status': status})

    @on(Action.meter_values)
    def on_meter_values(self, **_):
        return call_result.MeterValues()

    @on(Action.transaction_event)
    def on_transaction_event(self, event_type, seq_no, **_):
        LOG.info('%s: TransactionEvent %s #%d', self.id, event_type, seq_no)
        return call_result.TransactionEvent()

    @on(Action.firmware_status_notification)
    def on_firmware_status_notification(self, status, **_):
        LOG.info('%s: FirmwareStatusNotification %s', self.id, status)
        return call_result.FirmwareStatusNotification()

    @on(Action.log_status_notification)
    def on_log_status_notification(self, status, **_):
        LOG.info('%s: LogStatusNotification %s', self.id, status)
        return call_result.LogStatusNotification()


def plain(value):
    """JSON-ready: the ocpp library reads 1.6 decimals (a charging limit) as Decimal; integral ones become int."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def id_token_status(record: dict | None) -> str:
    """An id-token record allows charging unless its ``status`` says otherwise."""
    if record is None:
        return AuthorizationStatusEnumType.unknown
    status = record.get('status', AuthorizationStatusEnumType.accepted)
    known = {member.value for member in AuthorizationStatusEnumType}
    return status if status in known else AuthorizationStatusEnumType.invalid
