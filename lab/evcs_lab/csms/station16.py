"""One connected OCPP 1.6J charge point (with the Security Extension): the messages it sends and the CSMS's answers.

The CSMS keeps them exactly as it keeps a 2.0.1 station's (`station.SessionBase`): the connection view's `boot` holds
the 1.6 BootNotification fields under `charge_point` (wire names: chargePointVendor, chargePointModel,
chargePointSerialNumber, firmwareVersion, ...), connector status is kept per connector as evse 0 / connector N (1.6
numbers connectors over the whole charge point, 0 being the charge point itself), and SignCertificate,
SecurityEventNotification and the other station-initiated messages are stored for `messages` and `wait`.
"""

from __future__ import annotations

import logging

from ocpp.charge_point import snake_to_camel_case
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action, AuthorizationStatus

from evcs_lab.csms.clock import now_rfc3339
from evcs_lab.csms.station import SessionBase, id_token_status

LOG = logging.getLogger('evcs_lab.csms.station16')


class StationSession16(SessionBase, ChargePoint):
    """The CSMS side of one OCPP 1.6J connection."""

    @on(Action.boot_notification)
    def on_boot_notification(self, charge_point_vendor, charge_point_model, **fields):
        charge_point = snake_to_camel_case(dict(fields, charge_point_vendor=charge_point_vendor,
                                                charge_point_model=charge_point_model))
        status, interval = self._booted({'reason': None, 'charge_point': charge_point}, {
            'serial_number': charge_point.get('chargePointSerialNumber'), 'vendor': charge_point_vendor,
            'model': charge_point_model, 'firmware_version': charge_point.get('firmwareVersion')})
        self._keep('BootNotification', charge_point)
        return call_result.BootNotification(current_time=now_rfc3339(), interval=interval, status=status)

    @on(Action.heartbeat)
    def on_heartbeat(self, **_):
        return call_result.Heartbeat(current_time=self._heartbeat())

    @on(Action.status_notification)
    def on_status_notification(self, connector_id, error_code, status, timestamp=None, **fields):
        self._connector_status(0, connector_id, status, timestamp or now_rfc3339())
        self._keep('StatusNotification', snake_to_camel_case(dict(fields, connector_id=connector_id,
                                                                  error_code=error_code, status=status,
                                                                  timestamp=timestamp)))
        return call_result.StatusNotification()

    # -- Security Extension ------------------------------------------------------------------------------
    @on(Action.sign_certificate)
    def on_sign_certificate(self, csr, **_):
        self._sign_certificate(csr, None)
        return call_result.SignCertificate(status='Accepted')

    @on(Action.security_event_notification)
    def on_security_event_notification(self, **payload):
        self._security_event(payload)
        self._keep('SecurityEventNotification', snake_to_camel_case(payload))
        return call_result.SecurityEventNotification()

    @on(Action.signed_firmware_status_notification)
    def on_signed_firmware_status_notification(self, status, **payload):
        self._keep('SignedFirmwareStatusNotification', snake_to_camel_case(dict(payload, status=status)))
        return call_result.SignedFirmwareStatusNotification()

    @on(Action.log_status_notification)
    def on_log_status_notification(self, status, **payload):
        self._keep('LogStatusNotification', snake_to_camel_case(dict(payload, status=status)))
        return call_result.LogStatusNotification()

    # -- operation -----------------------------------------------------------------------------------------
    @on(Action.authorize)
    def on_authorize(self, id_tag, **_):
        return call_result.Authorize(id_tag_info={'status': _status16(self.hub.store.get_record('id-tokens', id_tag))})

    @on(Action.meter_values)
    def on_meter_values(self, connector_id, meter_value, **payload):
        self._keep('MeterValues', snake_to_camel_case(dict(payload, connector_id=connector_id,
                                                           meter_value=meter_value)))
        return call_result.MeterValues()

    @on(Action.start_transaction)
    def on_start_transaction(self, connector_id, id_tag, **_):
        LOG.info('%s: StartTransaction on connector %d', self.id, connector_id)
        return call_result.StartTransaction(transaction_id=1, id_tag_info={
            'status': _status16(self.hub.store.get_record('id-tokens', id_tag))})

    @on(Action.stop_transaction)
    def on_stop_transaction(self, transaction_id, **_):
        LOG.info('%s: StopTransaction %d', self.id, transaction_id)
        return call_result.StopTransaction()

    @on(Action.firmware_status_notification)
    def on_firmware_status_notification(self, status, **_):
        self._keep('FirmwareStatusNotification', {'status': status})
        return call_result.FirmwareStatusNotification()

    @on(Action.diagnostics_status_notification)
    def on_diagnostics_status_notification(self, status, **_):
        self._keep('DiagnosticsStatusNotification', {'status': status})
        return call_result.DiagnosticsStatusNotification()

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id, **_):
        return call_result.DataTransfer(status='UnknownVendorId')


def _status16(record: dict | None) -> str:
    """The 1.6 AuthorizationStatus of an id-token record (1.6 knows Accepted, Blocked, Expired, Invalid,
    ConcurrentTx; a token the CSMS does not know is Invalid)."""
    status = id_token_status(record)
    known = {member.value for member in AuthorizationStatus}
    return status if status in known else AuthorizationStatus.invalid
