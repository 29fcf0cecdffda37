#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: station
short_description: Register a charging station in the CSMS and keep its record
version_added: 0.1.0
description:
  - Registers a charging station by station id and serial number, before it first connects (pre-staging) or after,
    and keeps its CSMS record (vendor, model, expected firmware, location, operator, EVSEs and connectors, tariff,
    access mode, monitoring, firmware channel, asset metadata, status) as the inventory describes it.
  - Reads the record, compares only the fields this task names and writes the difference in one call. Fields the
    task does not name (for example the remembered local list) are left alone.
  - O(state=absent) deletes the record (deregistration); the station's own id tokens are removed with
    M(evcs.provisioning.id_tokens) O(evcs.provisioning.id_tokens#module:state=absent).
  - Runs on the controller as an action plugin.
author: evcs.provisioning contributors (@evcs)
extends_documentation_fragment:
  - evcs.provisioning.csms
  - evcs.provisioning.csms.STATION
  - evcs.provisioning.csms.ATTRIBUTES
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
options:
  serial_number:
    description: The serial number the station reports in BootNotification. Required with O(state=present).
    type: str
  vendor:
    description: Expected vendor name.
    type: str
  model:
    description: Expected model.
    type: str
  firmware_version:
    description: Expected firmware version.
    type: str
  location_id:
    description: The CSMS location (site) the station belongs to.
    type: str
  operator:
    description: The station's operator.
    type: dict
    suboptions:
      name: {description: Operator name., type: str, required: true}
      organization: {description: Organization as named in certificates., type: str}
  evses:
    description: The station's EVSEs and their connectors. Compared without regard to order.
    type: list
    elements: dict
    suboptions:
      id:
        description: EVSE id (1, 2, ...).
        type: int
        required: true
      phases:
        description: Phases of the EVSE (inventory style); sets the connectors' O(evses[].connectors[].power_type) when not given.
        type: int
        choices: [1, 3]
      voltage_v:
        description: Nominal phase voltage of the EVSE; the connectors' O(evses[].connectors[].max_voltage) when not given.
        type: int
      max_current_a:
        description: Maximum current of the EVSE; the connectors' O(evses[].connectors[].max_amperage) when not given.
        type: float
      connectors:
        description: The EVSE's connectors.
        type: list
        elements: dict
        required: true
        suboptions:
          id: {description: Connector id within the EVSE., type: int, required: true}
          type:
            description: OCPP 2.0.1 ConnectorEnumType.
            type: str
            required: true
            choices: [cCCS1, cCCS2, cG105, cTesla, cType1, cType2, s309-1P-16A, s309-1P-32A, s309-3P-16A, s309-3P-32A, sBS1361,
                      sCEE-7-7, sType2, sType3, Other1PhMax16A, Other1PhOver16A, Other3Ph, Pan, wInductive, wResonant,
                      Undetermined, Unknown]
          format: {description: Socket or fixed cable., type: str, default: Socket, choices: [Socket, Cable]}
          power_type: {description: Power type., type: str, choices: [AC_1_PHASE, AC_3_PHASE, DC]}
          max_voltage: {description: Maximum voltage in volt., type: int}
          max_amperage: {description: Maximum current in ampere., type: float}
          max_electric_power:
            description: Maximum power in watt. For AC, computed from phases, voltage and current when not given.
            type: float
          max_current_a:
            description: Maximum current of the connector (inventory style); its O(evses[].connectors[].max_amperage) when that is not given.
            type: float
  tariff_id:
    description: The CSMS tariff that applies to the station.
    type: str
  access:
    description: Who may charge.
    type: str
    choices: [public, private, free]
  monitoring:
    description: Monitoring and alert settings.
    type: dict
    suboptions:
      alerts: {description: Raise alerts for this station., type: bool, default: true}
      offline_alert_after_s: {description: Seconds offline before an alert., type: int}
  firmware_channel:
    description: The firmware update channel, for example C(stable).
    type: str
  heartbeat_interval:
    description:
      - Seconds between heartbeats that the CSMS gives the station in its BootNotification answer.
      - Keep it equal to the station's C(OCPPCommCtrlr.HeartbeatInterval) (the C(ocpp) role sets both from the same
        inventory value), because a station takes the interval of every accepted BootNotification.
      - The default is the collection's default of C(evcs_ocpp.heartbeat_interval), which the C(ocpp) role sets on a
        station without a declared interval, so the CSMS and the station agree.
    type: int
    default: 300
  asset:
    description: Asset metadata.
    type: dict
    suboptions:
      installation_address:
        description: Where the station is installed.
        type: dict
        suboptions:
          street: {description: Street and number., type: str}
          city: {description: City., type: str}
          postal_code: {description: Postal code., type: str}
          state: {description: State or region., type: str}
          country: {description: ISO 3166 alpha-2 country code., type: str}
      installation_coordinates:
        description: Position of the station.
        type: dict
        suboptions:
          latitude: {description: Latitude in decimal degrees., type: float, required: true}
          longitude: {description: Longitude in decimal degrees., type: float, required: true}
      installer: {description: Who installed the station., type: str}
      installation_date: {description: ISO date of installation., type: str}
      warranty_start: {description: ISO date the warranty starts., type: str}
  status:
    description: C(active) lets the station boot (BootNotification Accepted); C(retired) refuses it.
    type: str
    default: active
    choices: [active, retired]
  state:
    description: C(present) registers or updates the station, C(absent) deregisters it (deletes the record).
    type: str
    default: present
    choices: [present, absent]
'''

EXAMPLES = r'''
- name: Pre-stage a charger before it first connects
  evcs.provisioning.station:
    station_id: LAB-CP-0001
    serial_number: SIM-0001
    vendor: EVCS Sim
    model: SimCharger AC22
    firmware_version: 1.0.0
    location_id: lab-depot
    evses:
      - id: 1
        connectors:
          - {id: 1, type: cType2, format: Socket, power_type: AC_3_PHASE, max_voltage: 230, max_amperage: 32}
    tariff_id: lab-standard
    access: public
    asset: {installer: ACME Electric, installation_date: "2026-01-15", warranty_start: "2026-01-15"}

- name: Deregister a charger
  evcs.provisioning.station:
    station_id: LAB-CP-0001
    state: absent
'''

RETURN = r'''
station:
  description: The station record after the task (in check mode, as it would be); empty after O(state=absent).
  returned: always
  type: dict
  sample: {id: LAB-CP-0001, serial_number: SIM-0001, status: active}
operation:
  description: What the task did to the record (create, update, delete or none).
  returned: always
  type: str
  sample: create
unverifiable:
  description:
    - "What the CSMS backend in use could not do or check (it lacks a capability, docs/BACKENDS.md), one line each,
      C(not verifiable with backend <name>: <what>: backend <name> cannot <capability>). Neither drift nor a failure;
      each line is also a warning, and C(verify.yml) lists them per station."
  returned: when the backend lacks a capability the task needed
  type: list
  elements: str
'''
