#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: fleet_verify
short_description: Check many charging stations against the inventory from one task (the fleet mode of verify.yml)
version_added: 0.1.0
description:
  - Runs, for every station of O(hosts), the stage calls verify.yml's roles make per station (the CSMS station record,
    the network and OCPP device-model variables or OCPP 1.6 configuration keys, the EVSEs and connectors, the variable
    monitors, the station maximum of the site's load plan, and the commissioning checklist), each through the stage's
    own action with its argument spec, in check mode with diff, so nothing is written.
  - Stations are checked concurrently (O(workers) threads), each thread keeping one CSMS client (HTTP keep-alive) per
    CSMS connection. Host variables are read on the controller's main thread first.
  - Returns per station the drift entries and C(unverifiable) lines verify.yml reports (the filters
    M(evcs.provisioning.result_changes) and M(evcs.provisioning.result_unverifiable) over the same registered names), the
    task that stopped its check, and the stages' diffs. M(evcs.provisioning.fleet_verify_result) hands each station its
    part on its own host.
  - Not checked in fleet mode (per-host verify checks them) are capability discovery, the sites' tariff and id-token
    records, the station's id tokens and local list, its certificate and trust anchors (identity) and its security
    profile and passwords (security). See docs/VERIFY.md.
  - Run it once per play batch (C(run_once)). Secrets of the stages are masked as their own tasks mask them.
author:
  - evcs.provisioning contributors (@evcs)
options:
  hosts:
    description: Inventory host names to check. Default is the play batch (C(ansible_play_batch)).
    type: list
    elements: str
  names:
    description: The registered result names whose changes are drift (verify.yml's C(evcs_registered_results)).
    type: list
    elements: str
    required: true
  workers:
    description: Stations checked at the same time.
    type: int
    default: 32
extends_documentation_fragment:
  - evcs.provisioning.csms.ATTRIBUTES
attributes:
  check_mode:
    support: full
    details: It always checks in check mode; it never writes.
  diff_mode:
    support: full
  idempotent:
    support: full
    details: It never writes.
notes:
  - Runs on the controller (action plugin); connection options come from each station's C(evcs_csms) as its stage
    tasks take them.
'''

EXAMPLES = r'''
- name: Check the stations of the batch, many at a time
  evcs.provisioning.fleet_verify:
    hosts: "{{ ansible_play_batch }}"
    names: "{{ evcs_registered_results }}"
  run_once: true
  register: evcs_fleet_result
'''

RETURN = r'''
stations:
  description:
    - Per host, C(inventory_hostname), C(evcs_drift) (C([{source, field, before, after}])), C(evcs_unverifiable), the
      stages' C(diff) list, C(evcs_verify_failure) (the task and its message) when its check stopped, and C(commission_result).
  returned: always
  type: dict
checked:
  description: How many stations were checked.
  returned: always
  type: int
timing:
  description: Seconds a station's check took (C(station_mean_s), C(station_max_s)) and the O(workers) used.
  returned: always
  type: dict
drifted:
  description: The hosts that drifted or whose check failed.
  returned: always
  type: list
  elements: str
'''
