#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: site
short_description: Manage a site's location record in the CSMS
version_added: 0.1.0
description:
  - Creates, updates or removes the CSMS location record of one site (address, coordinates, timezone, operator,
    grid connection capacity, default access).
  - Reads the record, compares only the fields this task names and writes the difference in one call (PUT for a
    new record, PATCH of only the changed fields otherwise). Fields the task does not name are left alone.
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
  site_id:
    description: The CSMS location id of the site (lowercase letters, digits and C(-)).
    type: str
    required: true
  name:
    description: Human name of the site.
    type: str
  address:
    description: Postal address of the site.
    type: dict
    suboptions:
      street: {description: Street and number., type: str}
      city: {description: City., type: str}
      postal_code: {description: Postal code., type: str}
      state: {description: State or region., type: str}
      country: {description: ISO 3166 alpha-2 country code., type: str}
  coordinates:
    description: Geographic position of the site.
    type: dict
    suboptions:
      latitude: {description: Latitude in decimal degrees., type: float, required: true}
      longitude: {description: Longitude in decimal degrees., type: float, required: true}
  timezone:
    description: IANA time zone of the site, for example C(Europe/Berlin).
    type: str
  operator:
    description: The operator of the site.
    type: dict
    suboptions:
      name: {description: Operator name., type: str, required: true}
      organization: {description: Organization as named in certificates., type: str}
  grid_connection:
    description: The grid connection capacity of the site (the site cap).
    type: dict
    suboptions:
      max_current_a: {description: Maximum current per phase in ampere., type: float, required: true}
      phases: {description: Number of phases., type: int, default: 3, choices: [1, 3]}
      voltage_v: {description: Nominal phase voltage., type: int, default: 230}
  access:
    description: Default access mode of the site's stations.
    type: str
    choices: [public, private, free]
  state:
    description: C(present) writes the record, C(absent) deletes it.
    type: str
    default: present
    choices: [present, absent]
'''

EXAMPLES = r'''
- name: Write the depot's location record
  evcs.provisioning.site:
    csms_url: https://csms.example.net:8443
    csms_token: "{{ csms_token }}"
    site_id: lab-depot
    name: Lab depot
    address: {street: Hauptstr. 1, city: Berlin, postal_code: "10115", country: DE}
    coordinates: {latitude: 52.52, longitude: 13.40}
    timezone: Europe/Berlin
    operator: {name: EVCS Lab Operator}
    grid_connection: {max_current_a: 100, phases: 3, voltage_v: 230}
'''

RETURN = r'''
location:
  description: The location record after the task (in check mode, as it would be).
  returned: always
  type: dict
  sample: {id: lab-depot, name: Lab depot, timezone: Europe/Berlin}
operation:
  description: What the task did to the record.
  returned: always
  type: str
  sample: update
unverifiable:
  description:
    - "What the CSMS backend in use could not do or check (it lacks a capability, docs/BACKENDS.md), one line each,
      C(not verifiable with backend <name>: <what>: backend <name> cannot <capability>). Neither drift nor a failure;
      each line is also a warning, and C(verify.yml) lists them per station."
  returned: when the backend lacks a capability the task needed
  type: list
  elements: str
'''
