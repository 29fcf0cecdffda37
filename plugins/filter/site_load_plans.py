# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The load plan of every site in the inventory, from one pass over its hosts."""

from __future__ import annotations

DOCUMENTATION = r'''
name: site_load_plans
short_description: The load plan of every site, from one pass over the inventory
version_added: 0.1.0
description:
  - Reads C(evcs_site) and C(evcs_station) of every host of O(hosts) once, groups the present stations by
    C(evcs_site.id) and plans each site's grid connection as the P(evcs.provisioning.load_plan#filter) filter does.
  - Run it once per run (C(run_once)), not once per host - a site's plan needs all of its stations, so planning per host
    reads every host's variables for every host, which grows with the square of the fleet.
  - A site whose stations cannot fit its cap maps to C({error}) with the reason, so that only that site's stations fail.
options:
  _input:
    description: C(hostvars).
    type: raw
    required: true
  hosts:
    description: The hosts to plan, usually C(groups['all']) (not only the ones of this run).
    type: list
    elements: str
    required: true
'''

EXAMPLES = r'''
- name: Plan every site once
  ansible.builtin.set_fact:
    site_plans: "{{ hostvars | evcs.provisioning.site_load_plans(groups['all']) }}"
  run_once: true
'''

RETURN = r'''
_value:
  description: Site id to its plan (as P(evcs.provisioning.load_plan#filter) returns it), or to C({error}).
  type: dict
'''

from ansible_collections.evcs.provisioning.plugins.module_utils.load_plan import plan_load
from ansible_collections.evcs.provisioning.plugins.module_utils.station_settings import site_load_plans


def _site_load_plans(hostvars, hosts):
    return site_load_plans(hostvars, hosts, plan_load)


class FilterModule(object):
    def filters(self):
        return {'site_load_plans': _site_load_plans}
