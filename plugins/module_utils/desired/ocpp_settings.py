# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one table of the OCPP settings an inventory declares (``evcs_station.ocpp``, ``evcs_ocpp``).

Each row is one setting: its inventory key, the OCPP 2.0.1 device-model variable it becomes, how the inventory value
is checked, its default, and the OCPP 1.6 configuration key it becomes on a 1.6 station (``key16``; None where 1.6 has
no standard key: a 1.6 station model may map one in ``configuration_keys.settings``). Validation
(``desired_state.OCPP_FIELDS``, ``OCPP_DEFAULTS``), what the ocpp role sends (``station_settings.ocpp_variables``, and
``station/configuration_keys.setting_keys`` for 1.6), docs/INVENTORY.md and docs/OCPP16.md (checked by unit tests) read
it; nothing else lists them.
A setting with a default is always sent; one without is sent only when the inventory declares it.
"""

from __future__ import annotations

from collections import namedtuple

from ansible_collections.evcs.provisioning.plugins.module_utils._validation import Field

#: OCPP 2.0.1 MeasurandEnumType
MEASURANDS = (
    'Current.Export', 'Current.Import', 'Current.Offered', 'Energy.Active.Export.Register',
    'Energy.Active.Import.Register', 'Energy.Reactive.Export.Register', 'Energy.Reactive.Import.Register',
    'Energy.Active.Export.Interval', 'Energy.Active.Import.Interval', 'Energy.Active.Net',
    'Energy.Reactive.Export.Interval', 'Energy.Reactive.Import.Interval', 'Energy.Reactive.Net',
    'Energy.Apparent.Net', 'Energy.Apparent.Import', 'Energy.Apparent.Export', 'Frequency', 'Power.Active.Export',
    'Power.Active.Import', 'Power.Factor', 'Power.Offered', 'Power.Reactive.Export', 'Power.Reactive.Import',
    'SoC', 'Voltage',
)

OcppSetting = namedtuple('OcppSetting', 'key component variable instance value_type field default description key16')
OcppSetting.__new__.__defaults__ = (None,)


def _seconds(maximum=86400, minimum=1):
    return Field('int', minimum=minimum, maximum=maximum)


def _measurands():
    return Field('list', items=Field('str', choices=MEASURANDS))


_NO_DEFAULT = None

OCPP_SETTINGS = (
    OcppSetting('heartbeat_interval', 'OCPPCommCtrlr', 'HeartbeatInterval', None, 'integer', _seconds(), 300,
                'seconds between Heartbeats', 'HeartbeatInterval'),
    OcppSetting('offline_threshold', 'OCPPCommCtrlr', 'OfflineThreshold', None, 'integer', _seconds(), 60,
                'seconds offline after which the station sends StatusNotifications again on reconnect'),
    # not a device-model write: OCPPCommCtrlr.MessageTimeout is ReadOnly on standard stations; the security role sends
    # it as the messageTimeout of the network connection profile
    OcppSetting('message_timeout', None, None, None, 'integer', _seconds(600), 30,
                'seconds the station waits for a CSMS answer (the connection profile\'s messageTimeout)'),
    OcppSetting('sampled_measurands', 'SampledDataCtrlr', 'TxUpdatedMeasurands', None, 'set', _measurands(),
                ['Energy.Active.Import.Register', 'Power.Active.Import'], 'measurands sent during a transaction',
                'MeterValuesSampledData'),
    OcppSetting('sampled_interval', 'SampledDataCtrlr', 'TxUpdatedInterval', None, 'integer', _seconds(minimum=0), 60,
                'seconds between meter values during a transaction (0: none)', 'MeterValueSampleInterval'),
    OcppSetting('ended_measurands', 'SampledDataCtrlr', 'TxEndedMeasurands', None, 'set', _measurands(), _NO_DEFAULT,
                'measurands in the TransactionEvent that ends a transaction', 'StopTxnSampledData'),
    OcppSetting('ended_interval', 'SampledDataCtrlr', 'TxEndedInterval', None, 'integer', _seconds(minimum=0), _NO_DEFAULT,
                'seconds between the samples of the ending TransactionEvent'),
    OcppSetting('aligned_measurands', 'AlignedDataCtrlr', 'Measurands', None, 'set', _measurands(), _NO_DEFAULT,
                'clock-aligned measurands', 'MeterValuesAlignedData'),
    OcppSetting('aligned_interval', 'AlignedDataCtrlr', 'Interval', None, 'integer', _seconds(minimum=0), _NO_DEFAULT,
                'seconds between clock-aligned meter values (0: none)', 'ClockAlignedDataInterval'),
    OcppSetting('authorize_remote_start', 'AuthCtrlr', 'AuthorizeRemoteStart', None, 'boolean', Field('bool'), True,
                'authorize a RequestStartTransaction like a local id token', 'AuthorizeRemoteTxRequests'),
    OcppSetting('local_authorize_offline', 'AuthCtrlr', 'LocalAuthorizeOffline', None, 'boolean', Field('bool'), True,
                'start transactions for known id tokens while offline', 'LocalAuthorizeOffline'),
    OcppSetting('local_pre_authorize', 'AuthCtrlr', 'LocalPreAuthorize', None, 'boolean', Field('bool'), _NO_DEFAULT,
                'start at once for id tokens of the local list or cache, before the CSMS answers', 'LocalPreAuthorize'),
    OcppSetting('connection_timeout', 'TxCtrlr', 'EVConnectionTimeOut', None, 'integer', _seconds(3600), _NO_DEFAULT,
                'seconds a user has to plug in the cable after authorizing', 'ConnectionTimeOut'),
    OcppSetting('local_auth_list_enabled', 'LocalAuthListCtrlr', 'Enabled', None, 'boolean', Field('bool'), _NO_DEFAULT,
                'use the local authorization list', 'LocalAuthListEnabled'),
    OcppSetting('websocket_ping_interval', 'OCPPCommCtrlr', 'WebSocketPingInterval', None, 'integer',
                _seconds(minimum=0), _NO_DEFAULT, 'seconds between websocket pings (0: none)', 'WebSocketPingInterval'),
)

#: inventory key -> default, for the settings that have one
OCPP_DEFAULTS = dict((setting.key, setting.default) for setting in OCPP_SETTINGS if setting.default is not None)


def with_defaults(settings):
    """``settings`` (the inventory's OCPP settings) over the table's defaults."""
    merged = dict((key, list(value) if isinstance(value, list) else value) for key, value in OCPP_DEFAULTS.items())
    merged.update(dict((key, value) for key, value in (settings or {}).items() if value is not None))
    return merged
