# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which OCPP version a station speaks: the one table of versions, and the one check of the inventory's word against
the CSMS's (the websocket subprotocol the station negotiated)."""

from __future__ import annotations

from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure

#: the OCPP versions the collection speaks: inventory value -> websocket subprotocol (OCPP-J section 3.1.2)
OCPP_VERSIONS = {
    '2.0.1': 'ocpp2.0.1',
    '1.6': 'ocpp1.6',
}
DEFAULT_OCPP_VERSION = '2.0.1'


def ocpp_version_of(connection, declared=None, station_id=None):
    """The version the station speaks: the one its CSMS connection negotiated (``connection['ocpp_version']``), else
    the declared one, else the default. A declared version the connection contradicts fails with the fix."""
    negotiated = (connection or {}).get('ocpp_version')
    if negotiated and declared and negotiated != declared:
        raise ModuleFailure('station %s: evcs_station.ocpp_version is %r but the station is connected to the CSMS with '
                            'OCPP %s: set evcs_station.ocpp_version: %r in its inventory (or configure the station for '
                            'OCPP %s)' % (station_id, declared, negotiated, negotiated, declared),
                            field='ocpp_version', value=declared)
    return negotiated or declared or DEFAULT_OCPP_VERSION
