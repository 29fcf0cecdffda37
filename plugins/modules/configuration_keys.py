#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: configuration_keys
short_description: Read and set OCPP 1.6J configuration keys of a charging station
version_added: 0.2.0
description:
  - The OCPP 1.6J counterpart of M(evcs.provisioning.device_model). Reads the given keys with C(GetConfiguration),
    compares them with the desired values (booleans, integers, decimals and comma-separated lists compared by meaning,
    measurand lists order-insensitive) and sends C(ChangeConfiguration) only for the keys that differ.
  - C(GetConfiguration) requests are split at the station's C(GetConfigurationMaxKeys). It is read once per run and
    host - the first task that reads it returns the host fact C(evcs_configuration_key_limits) and later tasks of the
    run use that fact.
  - Every key is checked before anything is written - against the station model (O(station_model), a 1.6 model's
    C(configuration_keys) - a read-only key, or a key the model does not list when it refuses unknown keys) and
    against the station's own answer (C(unknownKey), C(readonly)). One bad key fails the task with nothing written.
  - A key the station answers with C(RebootRequired) is listed in RV(reboot_required_keys); the task does not reboot
    the station (see M(evcs.provisioning.station_reset)). C(Rejected) or C(NotSupported) fail the task naming the
    station, the key, the value and the fix.
  - Write-only keys (the Security Extension's C(AuthorizationKey), and keys a model marks C(write_only)) are never read
    back and never shown; they are sent only with O(update_write_only=always), shown in the diff as C(********) ->
    C((write-only, changed)).
  - The task fails when the station is not connected with OCPP 1.6 (or its inventory says otherwise, see
    O(ocpp_version)).
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
    details: Fully idempotent, except that write-only keys are sent on every run with O(update_write_only=always).
options:
  keys:
    description: The configuration keys to manage (O(state=merged)) or read (O(state=gathered)).
    type: list
    elements: dict
    default: []
    suboptions:
      key:
        description: The key, for example C(HeartbeatInterval).
        type: str
        required: true
      value:
        description:
          - The desired value. Booleans, numbers and lists are rendered as OCPP strings (C(true), C(30), C(a,b)).
          - Required with O(state=merged).
        type: raw
      value_type:
        description: How values are compared. C(auto) takes the station model's type of the key, else infers it from
          the value.
        type: str
        default: auto
        choices: [auto, string, boolean, integer, decimal, list, set]
      write_only:
        description: The station cannot return this value; it is never read and never shown.
        type: bool
        default: false
  gather:
    description:
      - Keys to read, not set, in the same C(GetConfiguration) as O(keys); returned in RV(gathered).
      - With O(state=gathered) and no O(keys) nor O(gather), every key the station has is read.
    type: list
    elements: str
    default: []
  state:
    description: C(merged) sets the keys that differ; C(gathered) only reads them.
    type: str
    default: merged
    choices: [merged, gathered]
  update_write_only:
    description: C(always) sends write-only keys on every run (a change each time); C(never) leaves them alone.
    type: str
    default: never
    choices: [always, never]
  station_model:
    description: The station's 1.6 model (C(station_models/<name>.yml)); its keys are checked against it first.
    type: str
  model_dirs:
    description: Directories of the inventory's own station model files (C(evcs_station_model_dirs)), listed first.
    type: list
    elements: path
    default: []
seealso:
  - module: evcs.provisioning.device_model
  - module: evcs.provisioning.station_reset
'''

EXAMPLES = r'''
- name: Heartbeat and metering of a 1.6 station
  evcs.provisioning.configuration_keys:
    station_id: LAB-CP-0005
    station_model: evcs-sim-16
    keys:
      - {key: HeartbeatInterval, value: 300}
      - {key: MeterValuesSampledData, value: [Energy.Active.Import.Register, Power.Active.Import]}

- name: Read every key the station has
  evcs.provisioning.configuration_keys:
    station_id: LAB-CP-0005
    state: gathered
  register: configuration
'''

RETURN = r'''
keys:
  description: The managed keys with the values read before any change (write-only ones are left out).
  returned: always
  type: list
  elements: dict
  sample: [{key: HeartbeatInterval, value: "60", readonly: false}]
gathered:
  description: The keys of O(gather) (or every key, see O(gather)) with the values the station reported.
  returned: always
  type: dict
  sample: {NumberOfConnectors: "1"}
unknown_keys:
  description: Keys of O(gather) the station does not know.
  returned: always
  type: list
  elements: str
changes:
  description: The keys set, or that would be set.
  returned: always
  type: list
  elements: str
  sample: [HeartbeatInterval]
reboot_required:
  description: Whether any key answered C(RebootRequired).
  returned: always
  type: bool
reboot_required_keys:
  description: The keys that take effect only after a reboot.
  returned: always
  type: list
  elements: str
requests:
  description: OCPP calls sent, per action.
  returned: always
  type: dict
  sample: {GetConfiguration: 2, ChangeConfiguration: 1}
ansible_facts:
  description: Set the first time a run reads the station's GetConfigurationMaxKeys.
  returned: when this task read the limit
  type: dict
  contains:
    evcs_configuration_key_limits:
      description: The station's C(GetConfigurationMaxKeys), used by later tasks of the run.
      type: dict
      sample: {station_id: LAB-CP-0005, GetConfigurationMaxKeys: 20}
'''
