#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: variable_monitoring
short_description: Manage the variable monitors of a charging station (OCPP 2.0.1 SetVariableMonitoring)
version_added: 0.2.0
description:
  - Reads the station's monitors with C(GetMonitoringReport) (its C(NotifyMonitoringReport) parts come through the CSMS),
    compares them with O(monitors), and writes only the differences in one C(SetVariableMonitoring) request and one
    C(ClearVariableMonitoring) request.
  - A monitor is identified by the component (with its instance, EVSE and connector), the variable (with its instance)
    and its type; its value, severity and transaction flag are compared.
  - Needs a backend that returns station messages (capability C(station_messages)); with another, the task reports the
    monitors as not verifiable and changes nothing.
author: evcs.provisioning contributors (@evcs)
extends_documentation_fragment:
  - evcs.provisioning.csms
  - evcs.provisioning.csms.STATION
  - evcs.provisioning.csms.ATTRIBUTES
attributes:
  check_mode:
    support: full
    details: The station's monitors are read; nothing is written.
  diff_mode:
    support: full
    details: Before and after of the monitors set or cleared, by place and type.
  idempotent:
    support: full
options:
  monitors:
    description: The monitors. Severity follows OCPP (0 Danger ... 9 Debug).
    type: list
    elements: dict
    default: []
    suboptions:
      component:
        description: The component watched.
        type: dict
        required: true
        suboptions:
          name: {description: "Component name, for example C(EVSE) or C(SmartChargingCtrlr).", type: str, required: true}
          instance: {description: Component instance., type: str}
          evse: {description: EVSE id of the component., type: int}
          connector: {description: Connector id on that EVSE., type: int}
      variable:
        description: The variable watched.
        type: dict
        required: true
        suboptions:
          name: {description: "Variable name, for example C(Power).", type: str, required: true}
          instance: {description: Variable instance., type: str}
      type:
        description: OCPP MonitorEnumType.
        type: str
        required: true
        choices: [UpperThreshold, LowerThreshold, Delta, Periodic, PeriodicClockAligned]
      value:
        description: Threshold, delta or period (seconds) of the monitor.
        type: float
        required: true
      severity:
        description: Severity of the event the monitor raises, 0 (Danger) to 9 (Debug).
        type: int
        default: 5
      transaction:
        description: Monitor only during transactions.
        type: bool
        default: false
  state:
    description:
      - V(merged) adds the declared monitors or changes their value, severity or transaction flag; other monitors stay.
      - V(overridden) makes the station's monitors exactly the declared ones and clears the others. A monitor the station
        refuses to clear (hard-wired or preconfigured by its maker) is its own, reported as a warning and never a change.
      - V(deleted) clears the declared monitors (matched by place and type).
      - V(gathered) writes nothing and returns the station's monitors.
    type: str
    default: merged
    choices: [merged, overridden, deleted, gathered]
  report_timeout:
    description: Seconds to wait for the station's NotifyMonitoringReport.
    type: int
    default: 30
'''

EXAMPLES = r'''
- name: Raise an event when EVSE 1 draws more than 23 kW, and only that monitor
  evcs.provisioning.variable_monitoring:
    station_id: LAB-CP-0001
    state: overridden
    monitors:
      - component: {name: EVSE, evse: 1}
        variable: {name: Power}
        type: UpperThreshold
        value: 23000
        severity: 4
'''

RETURN = r'''
monitors:
  description: The station's monitors before the task (label, id, value, severity, transaction).
  returned: always
  type: list
  elements: dict
  sample: [{monitor: "EVSE@evse1.Power UpperThreshold", id: 1, value: 23000.0, severity: 4, transaction: false}]
set:
  description: The monitors set (added or changed), by place and type.
  returned: always
  type: list
  elements: str
cleared:
  description: The monitors cleared, by place and type.
  returned: always
  type: list
  elements: str
'''
