#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: device_model
short_description: Read and set OCPP 2.0.1 device model variables of a charging station
version_added: 0.1.0
description:
  - Reads the given variables in one batched C(GetVariables), compares them with the desired values (booleans,
    integers, decimals and comma-separated lists compared by meaning, measurand lists order-insensitive), and
    writes only the differences in one batched C(SetVariables).
  - Every request is split to fit the station's C(DeviceDataCtrlr.ItemsPerMessage) and C(BytesPerMessage) limits for
    C(GetVariables) and C(SetVariables). They are read once per run and host - the first task that reads them returns
    them as the host fact C(evcs_device_data_limits) and later tasks of the run use that fact instead of reading
    them again (also M(evcs.provisioning.network_profile) and M(evcs.provisioning.charging_limit)).
  - O(gather) reads more variables in the same C(GetVariables) as the managed ones and returns them in RV(gathered),
    so a check beside the settings costs no extra round trip.
  - A variable the station answers with C(RebootRequired) is listed in RV(reboot_required_variables); the task does not
    reboot the station (see M(evcs.provisioning.station_reset) and the roles' C(evcs_reboot) setting).
  - C(Rejected), C(UnknownComponent), C(UnknownVariable) or C(NotSupportedAttributeType) fail the task with the station,
    component, variable, value and the station's reason.
  - Write-only variables (such as C(SecurityCtrlr.BasicAuthPassword)) cannot be read back over OCPP. They are never
    read; they are sent only when O(update_write_only) asks for it, and shown in the
    diff as C(********) -> C((write-only, changed)) without their value.
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
    support: partial
    details: Fully idempotent, except that write-only variables are sent on every run with O(update_write_only=always).
options:
  variables:
    description: The variables to manage or read.
    type: list
    elements: dict
    required: true
    suboptions:
      component:
        description: The component that holds the variable.
        type: dict
        required: true
        suboptions:
          name:
            description: Component name, for example C(OCPPCommCtrlr).
            type: str
            required: true
          instance:
            description: Component instance, for example V(Default) or an instance a station model names.
            type: str
          evse:
            description: EVSE id for EVSE- or connector-level components.
            type: int
          connector:
            description: Connector id on O(variables[].component.evse).
            type: int
      variable:
        description: The variable.
        type: dict
        required: true
        suboptions:
          name:
            description: Variable name, for example C(HeartbeatInterval).
            type: str
            required: true
          instance:
            description: Variable instance, for example C(GetVariables) of C(ItemsPerMessage).
            type: str
      attribute_type:
        description: The attribute to read or set.
        type: str
        default: Actual
        choices: [Actual, Target, MinSet, MaxSet]
      value:
        description:
          - The desired value. Booleans, numbers and lists are rendered as OCPP strings (C(true), C(30), C(a,b)).
          - Required with O(state=merged).
        type: raw
      value_type:
        description:
          - How values are compared. C(auto) infers it from O(variables[].value) (a list of a C(*Measurands) variable
            is a C(set), compared order-insensitively).
        type: str
        default: auto
        choices: [auto, string, boolean, integer, decimal, list, set]
      write_only:
        description: The station cannot return this value (WriteOnly mutability); it is never read and never shown.
        type: bool
        default: false
  gather:
    description:
      - Variables to read, not set, in the same C(GetVariables) as O(variables); returned in RV(gathered).
      - Only with O(state=merged) (with O(state=gathered) list them under O(variables)).
    type: list
    elements: dict
    default: []
    suboptions:
      component:
        description: The component that holds the variable.
        type: dict
        required: true
        suboptions:
          name:
            description: Component name.
            type: str
            required: true
          instance:
            description: Component instance.
            type: str
          evse:
            description: EVSE id for EVSE- or connector-level components.
            type: int
          connector:
            description: Connector id on O(gather[].component.evse).
            type: int
      variable:
        description: The variable.
        type: dict
        required: true
        suboptions:
          name:
            description: Variable name.
            type: str
            required: true
          instance:
            description: Variable instance.
            type: str
      attribute_type:
        description: The attribute to read.
        type: str
        default: Actual
        choices: [Actual, Target, MinSet, MaxSet]
  state:
    description:
      - C(merged) sets the variables that differ; C(gathered) only reads and returns them in RV(variables).
    type: str
    default: merged
    choices: [merged, gathered]
  update_write_only:
    description:
      - Write-only variables cannot be read back, so they cannot be compared.
      - C(never) leaves them alone.
      - C(on_create) sends them when another variable of the same component (same instance, EVSE and connector) is
        set in this run, that is when the component is being configured, for example a Wi-Fi passphrase together
        with a new SSID.
      - C(always) sends them on every run (the task then always reports a change).
    type: str
    default: never
    choices: [always, on_create, never]
seealso:
  - module: evcs.provisioning.station_reset
'''

EXAMPLES = r'''
- name: Heartbeat and metering
  evcs.provisioning.device_model:
    station_id: LAB-CP-0001
    variables:
      - {component: {name: OCPPCommCtrlr}, variable: {name: HeartbeatInterval}, value: 300}
      - component: {name: SampledDataCtrlr}
        variable: {name: TxUpdatedMeasurands}
        value: [Energy.Active.Import.Register, Power.Active.Import]

- name: Read the station's security profile and identity
  evcs.provisioning.device_model:
    station_id: LAB-CP-0001
    state: gathered
    variables:
      - {component: {name: SecurityCtrlr}, variable: {name: SecurityProfile}}
      - {component: {name: SecurityCtrlr}, variable: {name: Identity}}
  register: security

- name: Set the heartbeat and check the EVSE's phases in the same GetVariables
  evcs.provisioning.device_model:
    station_id: LAB-CP-0001
    variables:
      - {component: {name: OCPPCommCtrlr}, variable: {name: HeartbeatInterval}, value: 300}
    gather:
      - {component: {name: EVSE, evse: 1}, variable: {name: SupplyPhases}}
  register: settings
'''

RETURN = r'''
variables:
  description: The managed variables with the values read before any change (write-only ones are left out).
  returned: always
  type: list
  elements: dict
  sample: [{key: OCPPCommCtrlr.HeartbeatInterval, component: {name: OCPPCommCtrlr}, variable: {name: HeartbeatInterval},
            attribute_type: Actual, value: "60"}]
gathered:
  description: The variables of O(gather) with the values the station reported, in the order given.
  returned: state is merged
  type: list
  elements: dict
  sample: [{key: "EVSE[1].SupplyPhases", component: {name: EVSE, evse: 1}, variable: {name: SupplyPhases},
            attribute_type: Actual, value: "3"}]
changes:
  description: Keys (C(Component[instance][evse/connector].Variable[instance])) of the variables set, or that would be set.
  returned: state is merged
  type: list
  elements: str
  sample: [OCPPCommCtrlr.HeartbeatInterval]
reboot_required:
  description: Whether any variable answered C(RebootRequired).
  returned: state is merged
  type: bool
reboot_required_variables:
  description: Keys of the variables that take effect only after a reboot.
  returned: state is merged
  type: list
  elements: str
requests:
  description: OCPP calls sent, per action.
  returned: always
  type: dict
  sample: {GetVariables: 2, SetVariables: 1}
ansible_facts:
  description: Set the first time a run reads the station's message limits.
  returned: when this task read the limits
  type: dict
  contains:
    evcs_device_data_limits:
      description: The station's C(DeviceDataCtrlr) limits per message type, used by later tasks of the run.
      type: dict
      sample: {station_id: LAB-CP-0001, GetVariables: {ItemsPerMessage: 20, BytesPerMessage: 4000},
               SetVariables: {ItemsPerMessage: 20, BytesPerMessage: 4000}}
'''
