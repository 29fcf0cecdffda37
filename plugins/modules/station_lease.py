#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: station_lease
short_description: Take, renew or release the lease that lets one run at a time write to a charging station
version_added: 0.1.0
description:
  - A per-station lease in Vault KV v2 that every controller sees, at
    C(<vault_kv_mount>/data/evcs/<environment>/stations/<station_id>/lease), written with check-and-set. It holds the
    run id, the user, the controller host, the purpose, and when it expires.
  - O(state=present) takes the lease, or renews it when this run already holds it (the expiry moves O(ttl) seconds
    ahead). When another run holds an unexpired lease, the task polls until O(wait_timeout) and then fails, naming the
    holder. A lease that was not renewed in time (its run died) is taken over.
  - O(state=absent) releases the lease this run holds; a lease held by another run is left alone.
  - Check mode takes no lease (a plan or a drift check writes nothing). The task never reports C(changed).
  - The writing playbooks take the lease after validation, renew it between stages and release it at the end; the
    inventory variables C(evcs_lease_ttl) and C(evcs_lease_wait) set O(ttl) and O(wait_timeout).
author: evcs.provisioning contributors (@evcs)
extends_documentation_fragment:
  - evcs.provisioning.vault
  - evcs.provisioning.csms.ATTRIBUTES
attributes:
  check_mode:
    support: full
    details: Check mode takes no lease.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: A lease is coordination, never reported as a change; taking it again renews it.
options:
  station_id:
    description: The station's OCPP identity. Default the inventory's C(evcs_station.id), else the host name.
    type: str
    required: true
  environment:
    description: The inventory's environment (C(evcs_environment)), part of the lease's path.
    type: str
    required: true
  vault_kv_mount:
    description: The KV v2 mount. Default C(evcs_vault.kv_mount).
    type: str
    default: secret
  state:
    description: C(present) takes or renews the lease, C(absent) releases it.
    type: str
    default: present
    choices: [present, absent]
  ttl:
    description: Seconds the lease lasts after it is taken or renewed, unless renewed again.
    type: int
    default: 900
  wait_timeout:
    description: Seconds to wait for a lease another run holds before failing.
    type: int
    default: 120
  run_id:
    description:
      - Who holds the lease. Default the environment variable E(EVCS_RUN_ID) (a CI pipeline's run id), else the
        controller host, the ansible-playbook process id and its start time. The user is E(EVCS_RUN_USER), else the
        controller user.
    type: str
  purpose:
    description: What the run does (for example the playbook's name), shown to a run that waits.
    type: str
    default: ''
  held:
    description:
      - The lease as this run's previous O(state=present) task returned it (its RV(lease)), for a renewal between
        stages. When it is this run's, not released, and expires more than O(renew_margin) seconds from now, the task
        keeps it without asking Vault (RV(action=kept)); a lease changes hands only once it is released or expired, so
        no other run can hold it, and the renewal would only move its expiry. Otherwise the task renews it as without
        this option.
    type: dict
  renew_margin:
    description: With O(held), renew only when the lease expires within this many seconds. Default half the O(ttl).
    type: int
notes:
  - The Vault policy needs C(read), C(create) and C(update) on
    C(<vault_kv_mount>/data/evcs/<environment>/stations/*).
  - Expiry compares the holder's recorded UTC time with this controller's clock; keep controllers on NTP.
seealso:
  - module: evcs.provisioning.station_certificate
'''

EXAMPLES = r'''
- name: Take the station's lease before the first write
  evcs.provisioning.station_lease:
    purpose: provision.yml
    wait_timeout: 300

- name: Renew it between stages, asking Vault only when less than half its ttl is left
  evcs.provisioning.station_lease:
    purpose: provision.yml
    held: "{{ evcs_lease.lease }}"
  register: evcs_lease_renewal

- name: Release it at the end, whatever happened
  evcs.provisioning.station_lease:
    state: absent
'''

RETURN = r'''
action:
  description:
    - C(acquired), C(renewed), C(released) or C(none) (check mode, or a lease this run does not hold).
    - C(kept) when O(held) showed this run holds the lease for longer than O(renew_margin) (no Vault request).
  returned: always
  type: str
path:
  description: The KV v2 path of the lease below the mount.
  returned: always
  type: str
  sample: evcs/lab/stations/LAB-CP-0001/lease
run_id:
  description: This run's id.
  returned: always
  type: str
waited:
  description: Whether the task waited for another run's lease.
  returned: when state=present and not in check mode
  type: bool
lease:
  description: The lease record written (run_id, user, host, purpose, acquired_at, renewed_at, expires_at).
  returned: when state=present and not in check mode
  type: dict
vault_requests:
  description: What the task asked Vault, by kind (login, list, read, write); empty when the lease was kept.
  returned: when the lease was taken, renewed, kept or released
  type: dict
  sample: {login: 0, list: 0, read: 1, write: 1}
holder:
  description: The record of the run that holds the lease, when the task failed waiting for it.
  returned: on failure
  type: dict
'''
