# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a station said about itself in its last BootNotification, whichever OCPP version it speaks.

OCPP 2.0.1 sends ``chargingStation`` {``serialNumber``, ``vendorName``, ``model``, ``firmwareVersion``}; OCPP 1.6 sends
``chargePointSerialNumber``, ``chargePointVendor``, ``chargePointModel`` and ``firmwareVersion`` at the top of the
request (``chargeBoxSerialNumber`` is deprecated in favour of ``chargePointSerialNumber``). The CSMS keeps the 2.0.1
fields as ``boot['charging_station']`` and the 1.6 ones as they were sent, as ``boot['charge_point']`` (the reference
CSMS), or beside ``status``/``at``.
"""

from __future__ import annotations

#: OCPP 1.6 BootNotification field -> the 2.0.1 chargingStation field it corresponds to
_FIELDS_16 = (
    ('chargePointSerialNumber', 'serialNumber'),
    ('chargeBoxSerialNumber', 'serialNumber'),
    ('chargePointVendor', 'vendorName'),
    ('chargePointModel', 'model'),
    ('firmwareVersion', 'firmwareVersion'),
)


def reported_station(boot):
    """``{'serialNumber', 'vendorName', 'model', 'firmwareVersion'}`` (those reported) from a kept BootNotification of
    either version, or ``{}``."""
    boot = boot or {}
    found = dict(boot.get('charging_station') or {})
    for source in (boot.get('charging_station') or {}, boot.get('charge_point') or {}, boot):
        for field16, field in _FIELDS_16:
            if source.get(field16) and not found.get(field):
                found[field] = source[field16]
    return dict((key, value) for key, value in found.items()
                if key in ('serialNumber', 'vendorName', 'model', 'firmwareVersion') and value)
