#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: tariff
short_description: Manage a tariff record in the CSMS
version_added: 0.1.0
description:
  - Creates, updates or removes one CSMS tariff. Only the fields this task names are compared and written
    (PUT for a new record, PATCH of the changed fields otherwise).
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
  tariff_id:
    description: The CSMS tariff id.
    type: str
    required: true
  name:
    description: Human name of the tariff.
    type: str
  currency:
    description: ISO 4217 currency code, for example C(EUR).
    type: str
  price_per_kwh:
    description: Energy price per kWh.
    type: float
  price_per_minute:
    description: Time price per minute of a session.
    type: float
  session_fee:
    description: Flat fee per session.
    type: float
  valid_from:
    description: Start of validity (RFC 3339 or ISO date).
    type: str
  state:
    description: C(present) writes the record, C(absent) deletes it.
    type: str
    default: present
    choices: [present, absent]
'''

EXAMPLES = r'''
- name: Write the standard tariff
  evcs.provisioning.tariff:
    tariff_id: lab-standard
    currency: EUR
    price_per_kwh: 0.39
    price_per_minute: 0.0
    session_fee: 0.0
'''

RETURN = r'''
tariff:
  description: The tariff record after the task (in check mode, as it would be).
  returned: always
  type: dict
  sample: {id: lab-standard, currency: EUR, price_per_kwh: 0.39}
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
