#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: id_tokens
short_description: Synchronise an id-token allow list to the CSMS and to a station's local authorization list
version_added: 0.1.0
description:
  - Keeps the CSMS id-token records (RFID cards, app tokens) of one site or group as listed, and with
    O(local_list=true) the station's OCPP local authorization list as well.
  - Records are read with one list call; only new, changed and (O(state=exact)) surplus tokens are written.
  - "The local list follows OCPP 2.0.1: GetLocalListVersion first; a Full SendLocalList the first time (version 1)
    or when the station's version is not the one the CSMS remembers; a Differential update of only the added,
    changed and removed entries after that; on VersionMismatch the version is read again and a Full update sent.
    The version advances only when the station answers Accepted. Requests are split to the station's
    C(LocalAuthListCtrlr.ItemsPerMessage) and C(BytesPerMessage). The CSMS remembers the applied list (version,
    hash, entries) with the station's record. On OCPP 2.0.1, when the station's C(LocalAuthListCtrlr.Entries) (read
    with the run's other device-model variables) counts the entries the CSMS remembers, that version stands for the
    station's and GetLocalListVersion is not sent."
  - A CSMS backend without id-token records or without a local list (docs/BACKENDS.md) reports that part as not
    verifiable (a warning and RV(unverifiable)) and does the rest.
  - Runs on the controller as an action plugin.
author: evcs.provisioning contributors (@evcs)
extends_documentation_fragment:
  - evcs.provisioning.csms
  - evcs.provisioning.csms.ATTRIBUTES
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
options:
  group:
    description:
      - The site or group the tokens belong to (a site id, a group name, or a station id for station-only tokens).
      - Record ids are C(<group>.<id_token>).
    type: str
    required: true
  tokens:
    description: The group's tokens.
    type: list
    elements: dict
    default: []
    suboptions: &token
      id_token: {description: The token value (for RFID the UID in hex)., type: str, required: true}
      type:
        description: OCPP IdTokenEnumType.
        type: str
        default: ISO14443
        choices: [Central, eMAID, ISO14443, ISO15693, KeyCode, Local, MacAddress, NoAuthorization]
      status:
        description: OCPP AuthorizationStatusEnumType the token is given.
        type: str
        default: Accepted
        choices: [Accepted, Blocked, ConcurrentTx, Expired, Invalid, NoCredit, NotAllowedTypeOutlet, NotAtThisLocation,
                  NotAtThisTime, Unknown]
  state:
    description:
      - C(present) writes the listed tokens and leaves the group's other tokens alone.
      - C(exact) also deletes the group's tokens the list does not name.
      - C(absent) deletes the listed tokens, or every token of the group when O(tokens) is empty; with
        O(local_list=true) the station's local list is emptied.
    type: str
    default: present
    choices: [present, exact, absent]
  records:
    description: Synchronise the CSMS id-token records. Set C(false) to only write a station's local list.
    type: bool
    default: true
  station_id:
    description: The station whose local list is written. Required with O(local_list=true).
    type: str
  local_list:
    description: Also write O(tokens) and O(local_list_tokens) to the station's local authorization list.
    type: bool
    default: false
  local_list_tokens:
    description: Further tokens of the station's local list that are not records of O(group) (for example the site's).
    type: list
    elements: dict
    default: []
    suboptions: *token
  station_offline:
    description: What to do when the station is not connected and its local list cannot be written.
    type: str
    default: fail
    choices: [fail, warn]
'''

EXAMPLES = r'''
- name: The depot's RFID allow list, exactly as listed
  evcs.provisioning.id_tokens:
    group: lab-depot
    state: exact
    tokens:
      - {id_token: 04A2B3C4D5E6F7, type: ISO14443, status: Accepted}

- name: The station's local authorization list (site tokens plus its own)
  evcs.provisioning.id_tokens:
    group: LAB-CP-0001
    station_id: LAB-CP-0001
    state: exact
    tokens: []
    local_list: true
    local_list_tokens:
      - {id_token: 04A2B3C4D5E6F7}
'''

RETURN = r'''
id_tokens:
  description: What happened to the group's records.
  returned: when O(records=true)
  type: dict
  sample: {group: lab-depot, create: 1, update: 0, delete: 0}
local_list:
  description: What happened to the station's local list.
  returned: when O(local_list=true)
  type: dict
  contains:
    version:
      description: The station's list version after the task.
      type: int
    update_type:
      description: C(Full), C(Differential) or null when nothing was sent.
      type: str
    messages:
      description: Number of SendLocalList requests sent.
      type: int
  sample: {version: 2, update_type: Differential, messages: 1}
unverifiable:
  description:
    - "What the CSMS backend in use could not do or check (it lacks a capability, docs/BACKENDS.md), one line each,
      C(not verifiable with backend <name>: <what>: backend <name> cannot <capability>). Neither drift nor a failure;
      each line is also a warning, and C(verify.yml) lists them per station."
  returned: when the backend lacks a capability the task needed
  type: list
  elements: str
'''
