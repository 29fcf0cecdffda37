# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one table of connector types: OCPP 2.0.1 ConnectorEnumType, with the kind of current each one carries.

Validation (``desired_state``), the CSMS station record (``records``), the CSV import (``chargers_csv``) and the docs
read this table; nothing else lists connector types.
"""

from __future__ import annotations

#: ConnectorEnumType -> 'AC', 'DC' or None (not tied to one kind: wireless, "other", unknown)
CONNECTOR_CURRENT = {
    'cCCS1': 'DC',
    'cCCS2': 'DC',
    'cG105': 'DC',        # CHAdeMO
    'cTesla': 'DC',
    'cType1': 'AC',
    'cType2': 'AC',
    's309-1P-16A': 'AC',
    's309-1P-32A': 'AC',
    's309-3P-16A': 'AC',
    's309-3P-32A': 'AC',
    'sBS1361': 'AC',
    'sCEE-7-7': 'AC',
    'sType2': 'AC',
    'sType3': 'AC',
    'Other1PhMax16A': 'AC',
    'Other1PhOver16A': 'AC',
    'Other3Ph': 'AC',
    'Pan': None,
    'wInductive': None,
    'wResonant': None,
    'Undetermined': None,
    'Unknown': None,
}
#: every connector type, in the order of the OCPP enumeration
CONNECTOR_TYPES = tuple(CONNECTOR_CURRENT)
#: the DC connector types (the record's power_type is DC for these)
DC_CONNECTOR_TYPES = tuple(name for name, kind in CONNECTOR_CURRENT.items() if kind == 'DC')
#: the highest phase-to-neutral voltage of an AC supply (480Y/277 V grids); 1000 V is the DC limit of IEC 61851-23
MAX_AC_PHASE_VOLTAGE = 277
MAX_DC_VOLTAGE = 1000


def current_kind(connector_type):
    """'AC', 'DC' or None for a connector type."""
    return CONNECTOR_CURRENT.get(connector_type)
