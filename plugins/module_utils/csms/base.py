# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CSMS backend interface: the only way plugins reach stations (OCPP) and CSMS records."""

from __future__ import annotations

import abc


class CsmsError(Exception):
    """A CSMS call failed. ``kind`` is one of the codes below, ``transient`` says whether a retry may help."""

    def __init__(self, message, kind='error', status=None, transient=False, details=None):
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.transient = transient
        self.details = details or {}


class StationOffline(CsmsError):
    def __init__(self, station_id, message=None):
        super().__init__(message or 'station %s is not connected to the CSMS' % station_id, kind='station_offline', status=409)


class StationTimeout(CsmsError):
    def __init__(self, station_id, action, message=None):
        super().__init__(message or 'station %s did not answer %s in time' % (station_id, action),
                         kind='station_timeout', status=504, transient=True)


class CsmsBackend(abc.ABC):
    """What every backend provides. Records are plain dicts keyed as the CSMS stores them."""

    #: the record collections every backend knows
    COLLECTIONS = ('stations', 'locations', 'tariffs', 'id-tokens')

    @abc.abstractmethod
    def call(self, station_id, action, payload, timeout=None):
        """Send OCPP 2.0.1 ``action`` with ``payload`` to the station and return the station's response payload."""

    @abc.abstractmethod
    def connection(self, station_id):
        """The station's connection as the CSMS sees it, or None when it never connected."""

    @abc.abstractmethod
    def last_csr(self, station_id):
        """The last SignCertificate request the station sent, or None."""

    def charging_profile_report(self, station_id, request_id):
        """The ReportChargingProfiles parts the station sent for GetChargingProfiles ``request_id``:
        ``{'complete': bool, 'reports': [{'evseId', 'chargingLimitSource', 'chargingProfile': [...]}]}``."""
        raise CsmsError('this CSMS backend cannot return the ReportChargingProfiles of station %s' % station_id,
                        kind='unsupported')

    def network_profiles(self, station_id):
        """{slot (str): connectionData} the station accepted through SetNetworkProfile, as the CSMS kept it: secrets
        (apn.apnPassword, apn.simPin, vpn.password, vpn.key) as ``{'salt': hex, 'sha256': hex}``."""
        raise CsmsError('this CSMS backend does not keep the network profiles of station %s' % station_id,
                        kind='unsupported')

    @abc.abstractmethod
    def get_record(self, collection, record_id):
        """Record and credential access: see the class docstring."""

    @abc.abstractmethod
    def put_record(self, collection, record_id, record):
        """Record and credential access: see the class docstring."""

    @abc.abstractmethod
    def patch_record(self, collection, record_id, fields):
        """Record and credential access: see the class docstring."""

    @abc.abstractmethod
    def delete_record(self, collection, record_id):
        """Record and credential access: see the class docstring."""

    @abc.abstractmethod
    def list_records(self, collection, **filters):
        """Record and credential access: see the class docstring."""

    @abc.abstractmethod
    def set_station_passwords(self, station_id, passwords):
        """Record and credential access: see the class docstring."""

    @abc.abstractmethod
    def add_station_password(self, station_id, password):
        """Record and credential access: see the class docstring."""

    @abc.abstractmethod
    def verify_station_password(self, station_id, password):
        """Record and credential access: see the class docstring."""
