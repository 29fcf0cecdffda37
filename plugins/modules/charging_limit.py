#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: charging_limit
short_description: Set a charging station's maximum (ChargingStationMaxProfile)
version_added: 0.1.0
description:
  - Reads C(SmartChargingCtrlr.Enabled) and C(SmartChargingCtrlr.RateUnit); fails when smart charging is off, and
    converts between A and W (with a warning) when the station accepts only the other unit.
  - Reads the station's real C(ChargingStationMaxProfile) back as OCPP intends - C(GetChargingProfiles) (EVSE 0,
    purpose C(ChargingStationMaxProfile)) answered C(NoProfiles) or C(Accepted), then the C(ReportChargingProfiles)
    the station sends, which the CSMS collects by request id - and sends C(SetChargingProfile) on EVSE 0 only when
    the station holds no such profile at O(stack_level) or it differs from the desired one (limit, unit, phases, id,
    schedule start, validity). A profile changed on the station behind the collection's back is found and set again.
  - C(Rejected) or C(NotSupported) fail the task with the station's reason.
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
  limit:
    description: The maximum, in O(unit) (A per phase, or W in total). Must be positive.
    type: float
    required: true
  unit:
    description: The unit of O(limit).
    type: str
    default: A
    choices: [A, W]
  phases:
    description: Phases the limit applies to (also used for A/W conversion).
    type: int
    default: 3
    choices: [1, 2, 3]
  voltage:
    description: Phase-to-neutral voltage, used only for A/W conversion.
    type: float
    default: 230.0
  stack_level:
    description: Stack level of the profile.
    type: int
    default: 0
  profile_id:
    description: Id of the charging profile (and its schedule).
    type: int
    default: 1
'''

EXAMPLES = r'''
- name: Limit the station to 16 A on three phases
  evcs.provisioning.charging_limit:
    station_id: LAB-CP-0001
    limit: 16
    unit: A
    phases: 3
'''

RETURN = r'''
profile:
  description: The station maximum as applied (after any unit conversion).
  returned: always
  type: dict
  sample: {id: 1, stack_level: 0, unit: A, limit: 16.0, phases: 3}
requests:
  description: OCPP calls sent, per action.
  returned: always
  type: dict
ansible_facts:
  description: Set the first time a run reads the station's message limits (see M(evcs.provisioning.device_model)).
  returned: when this task read the limits
  type: dict
  contains:
    evcs_device_data_limits:
      description: The station's C(DeviceDataCtrlr) limits per message type.
      type: dict
'''
