# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
name: load_plan
short_description: Split a site's grid cap into per-station maximums
version_added: 0.1.0
description:
  - Plans the per-station maximum current of every station of a site from the site's grid connection (A per phase,
    phases, voltage), the stations' requested maximums and priorities, and the site's load-management group.
  - Without a load-management group, fails when the requested maximums add up to more than the site cap.
  - With a group, shares the cap by priority (1 first) and weight, with at least 6 A per station.
positional: stations
options:
  _input:
    description: The site (C(evcs_site)) with C(id), C(grid_connection) and C(load_management_group).
    type: dict
    required: true
  stations:
    description: The site's stations, each C({id, max_current_a, phases, priority, weight}) with currents in A per phase.
    type: list
    elements: dict
    required: true
author: evcs.provisioning contributors
'''

EXAMPLES = r'''
- name: Plan the site
  ansible.builtin.set_fact:
    site_plan: "{{ evcs_site | evcs.provisioning.load_plan([{'id': 'CP1', 'max_current_a': 32, 'phases': 3, 'priority': 1}]) }}"
'''

RETURN = r'''
_value:
  description: The plan, C({site, group, unit, cap_a, cap_w, requested_a, planned_a, stations}); C(stations) maps each
    station id to C({max_current_a, max_power_w, phases, voltage_v, priority}).
  type: dict
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.evcs.provisioning.plugins.module_utils.load_plan import PlanError, plan_load


def load_plan(site, stations):
    try:
        return plan_load(site, stations)
    except PlanError as error:
        raise AnsibleFilterError(str(error))


class FilterModule(object):
    def filters(self):
        return {'load_plan': load_plan}
