# -*- coding: utf-8 -*-
"""The backend stage of a 1.6 station: the serial number of its 1.6 BootNotification, and its OCPP version."""

from __future__ import annotations

import pytest

from ansible_collections.evcs.provisioning.plugins.module_utils import records
from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure, RunContext
from ansible_collections.evcs.provisioning.plugins.module_utils.station.boot import reported_station

from .test_records import MemoryCsms, _station_params

BOOT_16 = {'status': 'Accepted', 'at': '2026-12-07T16:00:00Z', 'chargePointSerialNumber': 'SIM-0005',
           'chargePointVendor': 'EVCS Sim', 'chargePointModel': 'SimCharger AC11-16', 'firmwareVersion': '1.6.0'}


class Csms16(MemoryCsms):
    def __init__(self, boot, version='1.6'):
        super().__init__()
        self.boot, self.version = boot, version

    def connection(self, station_id):
        return {'online': True, 'ocpp_version': self.version, 'boot': self.boot}


def test_the_16_boot_fields_are_read_like_the_201_ones():
    assert reported_station(BOOT_16) == {'serialNumber': 'SIM-0005', 'vendorName': 'EVCS Sim',
                                         'model': 'SimCharger AC11-16', 'firmwareVersion': '1.6.0'}
    assert reported_station({'charging_station': dict(BOOT_16)})['serialNumber'] == 'SIM-0005'
    assert reported_station({'charging_station': {'serialNumber': 'S1', 'vendorName': 'V', 'model': 'M'}}) == \
        {'serialNumber': 'S1', 'vendorName': 'V', 'model': 'M'}
    assert reported_station({'chargeBoxSerialNumber': 'OLD'}) == {'serialNumber': 'OLD'}
    # the reference CSMS keeps a 1.6 boot's fields under charge_point
    assert reported_station({'status': 'Accepted', 'charge_point': {'chargePointSerialNumber': 'SIM-0005'}}) == \
        {'serialNumber': 'SIM-0005'}
    assert reported_station(None) == {}


def test_a_16_station_with_another_serial_is_refused_before_any_write(monkeypatch):
    backend = Csms16(dict(BOOT_16, chargePointSerialNumber='SIM-0099'))
    monkeypatch.setattr(records, 'task_backend', lambda params, context: backend)
    with pytest.raises(ModuleFailure, match="reported serial number 'SIM-0099'"):
        records.run_station(_station_params(serial_number='SIM-0005', ocpp_version='1.6'), RunContext())
    assert backend.writes == []


def test_a_station_whose_connection_contradicts_the_inventory_version_is_refused(monkeypatch):
    backend = Csms16(BOOT_16, version='1.6')
    monkeypatch.setattr(records, 'task_backend', lambda params, context: backend)
    with pytest.raises(ModuleFailure) as failure:
        records.run_station(_station_params(serial_number='SIM-0005', ocpp_version='2.0.1'), RunContext())
    text = str(failure.value)
    assert 'station CP-1' in text and 'evcs_station.ocpp_version' in text and "'2.0.1'" in text and 'OCPP 1.6' in text
    assert "set evcs_station.ocpp_version: '1.6'" in text
    assert backend.writes == []
    # the matching version registers it
    result = records.run_station(_station_params(serial_number='SIM-0005', ocpp_version='1.6'), RunContext())
    assert result['changed'] and backend.writes
