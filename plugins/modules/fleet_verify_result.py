#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: fleet_verify_result
short_description: One station's part of a fleet verify, set on its own host
version_added: 0.1.0
description:
  - Takes the current host's part of a registered M(evcs.provisioning.fleet_verify) result (its C(stations) entry;
    hand each host only its own part, not the whole result, which would be templated once per host) and sets the
    facts verify.yml's drift report reads (C(evcs_drift), C(evcs_unverifiable), C(evcs_verify_failure) when its check
    stopped, C(commission_result)).
  - Reports C(changed) with the stages' diffs where the station drifted, so the audit trail names the drifted fields per
    station. It fails only with O(fail_on_drift).
author:
  - evcs.provisioning contributors (@evcs)
options:
  station:
    description: The host's entry of the C(stations) of a registered M(evcs.provisioning.fleet_verify) result; empty
      when the host was not in that batch (it is then reported as not checked).
    type: dict
    required: true
  fail_on_drift:
    description:
      - Fail the host when its station drifted or could not be checked, with the message per-host verify's report gives
        (C(drift on <station>), then the drifted fields), so this one per-host task makes the recap and the exit
        code; verify.yml's fleet mode sets it (its report is made once from the fleet result, before this task).
    type: bool
    default: false
extends_documentation_fragment:
  - evcs.provisioning.csms.ATTRIBUTES
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
    details: It only reads a registered result.
notes:
  - Runs on the controller (action plugin).
'''

EXAMPLES = r'''
- name: Take each station's result
  evcs.provisioning.fleet_verify_result:
    station: "{{ evcs_fleet_result.stations[inventory_hostname] | default({}) }}"
    fail_on_drift: true
'''

RETURN = r'''
ansible_facts:
  description: C(evcs_drift), C(evcs_unverifiable), C(evcs_verify_failure) (only when the check stopped), C(commission_result).
  returned: always
  type: dict
'''
