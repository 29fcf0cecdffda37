#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: station_reset
short_description: Reset a charging station and wait until it is back
version_added: 0.1.0
description:
  - Sends C(Reset) and waits until the CSMS sees the station reconnected (a connection and a BootNotification newer
    than before the reset), then optionally re-reads O(verify_variables) and fails when they do not hold their values.
  - Fails with what the CSMS last saw when the station does not come back within O(wait_timeout).
author: evcs.provisioning contributors (@evcs)
extends_documentation_fragment:
  - evcs.provisioning.csms
  - evcs.provisioning.csms.STATION
  - evcs.provisioning.csms.ATTRIBUTES
attributes:
  check_mode:
    support: full
    details: Nothing is sent in check mode; the task reports the reset it would make.
  diff_mode:
    support: full
  idempotent:
    support: none
    details: Every run resets the station; call it from a handler or under a condition.
options:
  type:
    description:
      - C(OnIdle) waits for running transactions to end; C(Immediate) stops them.
      - An OCPP 1.6 station gets a C(Soft) reset for C(OnIdle) (it ends its transactions, then restarts) and a C(Hard)
        one for C(Immediate).
    type: str
    default: OnIdle
    choices: [OnIdle, Immediate]
  wait_timeout:
    description: Seconds to wait for the station to come back.
    type: int
    default: 180
  poll_interval:
    description: Seconds between two looks at the station's connection.
    type: float
    default: 1.0
  verify_variables:
    description:
      - Device model variables to re-read after the station is back, in the form of the O(evcs.provisioning.device_model#module:variables)
        option of M(evcs.provisioning.device_model). Write-only ones are skipped.
    type: list
    elements: dict
    default: []
    suboptions:
      component:
        description: The component (C(name), C(instance), C(evse), C(connector)).
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
            description: EVSE id.
            type: int
          connector:
            description: Connector id.
            type: int
      variable:
        description: The variable (C(name), C(instance)).
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
      value:
        description: The value the variable must hold.
        type: raw
      value_type:
        description: How the value is compared.
        type: str
        default: auto
        choices: [auto, string, boolean, integer, decimal, list, set]
      write_only:
        description: Write-only variables are not verified.
        type: bool
        default: false
  verify_keys:
    description:
      - OCPP 1.6 configuration keys to re-read after the station is back, in the form of the
        O(evcs.provisioning.configuration_keys#module:keys) option of M(evcs.provisioning.configuration_keys).
        Write-only ones (C(AuthorizationKey)) are skipped. Used instead of O(verify_variables) on a 1.6 station.
    type: list
    elements: dict
    default: []
    suboptions:
      key:
        description: The key.
        type: str
        required: true
      value:
        description: The value the key must hold.
        type: raw
      value_type:
        description: How the value is compared.
        type: str
        default: auto
        choices: [auto, string, boolean, integer, decimal, list, set]
      write_only:
        description: Write-only keys are not verified.
        type: bool
        default: false
seealso:
  - module: evcs.provisioning.device_model
'''

EXAMPLES = r'''
- name: Reboot to apply and check the new heartbeat interval
  evcs.provisioning.station_reset:
    station_id: LAB-CP-0001
    type: OnIdle
    wait_timeout: 120
    verify_variables:
      - {component: {name: OCPPCommCtrlr}, variable: {name: HeartbeatInterval}, value: 300}
'''

RETURN = r'''
reset_status:
  description:
    - The station's answer to Reset (C(Accepted) or C(Scheduled)), or C(Unanswered) when the station closed its
      connection to reboot before its answer reached the CSMS (the CSMS reported it offline or timed out); the wait
      for its reconnection confirms such a reset.
  returned: success and not check mode
  type: str
connected_at:
  description: When the station reconnected, as the CSMS saw it (RFC 3339).
  returned: success and not check mode
  type: str
boot:
  description: The BootNotification the CSMS received after the reset.
  returned: success and not check mode
  type: dict
verified:
  description: Keys of the variables verified after the reset.
  returned: success and not check mode
  type: list
  elements: str
'''
