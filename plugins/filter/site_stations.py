# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stations of a site in the inventory, as the load planner takes them."""

from __future__ import annotations

DOCUMENTATION = r'''
name: site_stations
short_description: The charging stations of a site, as the load planner takes them
version_added: 0.1.0
description:
  - Every host of O(hosts) whose C(evcs_site.id) is O(site_id) and whose station is present (not
    C(state=absent)) - its id, its request in A per phase (C(load_management.max_current_a), else the sum of its
    EVSEs' C(max_current_a)), phases (the most of its EVSEs), priority and optional weight.
  - The input of the P(evcs.provisioning.load_plan#filter) filter. Give all inventory hosts (C(groups['all'])), not
    only the ones of this run, since the plan shares the site's grid connection among all its stations.
options:
  _input:
    description: C(hostvars).
    type: raw
    required: true
  hosts:
    description: The hosts to look at, usually C(groups['all']).
    type: list
    elements: str
    required: true
  site_id:
    description: The site, C(evcs_site.id).
    type: str
    required: true
'''

EXAMPLES = r'''
- name: Plan the site's grid connection
  ansible.builtin.debug:
    msg: "{{ evcs_site | evcs.provisioning.load_plan(hostvars | evcs.provisioning.site_stations(groups['all'], evcs_site.id)) }}"
'''

RETURN = r'''
_value:
  description: One item per station - id, max_current_a, phases, priority and, when given, weight.
  type: list
  elements: dict
'''

from ansible_collections.evcs.provisioning.plugins.module_utils.station_settings import site_stations


class FilterModule(object):
    def filters(self):
        return {'site_stations': site_stations}
