#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: inventory_check
short_description: Validate the inventory of a fleet of charging stations before anything changes
version_added: 0.1.0
description:
  - Builds the desired state of every charger from its inventory variables (C(evcs_station) merged over the site's
    C(evcs_site), C(evcs_network) and C(evcs_ocpp), plus C(evcs_environment), C(evcs_csms), C(evcs_vault) and
    C(evcs_environment_rules); see C(docs/INVENTORY.md)) and validates it.
  - Reports B(every) problem at once, one line each, as C(<host>) then the field path, the value, what is wrong and how
    to fix it. Secret values (passwords, passphrases, tokens, secret ids) are never shown.
  - Checks types, required fields, unknown keys (with the closest known key), station id and serial formats, OCPP
    connector types, currents, phases, static IPv4 addressing, DNS/NTP servers, Wi-Fi and cellular settings, OCPP
    endpoint URL schemes per security profile, that CSMS/Vault endpoints and the PKI mount belong to the environment,
    that a production run is confirmed, oversized values and template/shell syntax in names.
  - Across the fleet, it refuses duplicate station ids or serial numbers, the sum of station maximum currents per site against
    the site's grid connection (unless the site has a load-management group), one environment per run.
  - Run it once for the whole play (C(run_once)); the action plugin reads each host's variables from C(hostvars).
    It never talks to the CSMS or Vault.
author:
  - evcs.provisioning contributors (@evcs)
options:
  hosts:
    description:
      - Inventory host names to check. Default is every host of the play (C(ansible_play_hosts_all)).
    type: list
    elements: str
  data:
    description:
      - The variables per host, a mapping of host name to a mapping with C(evcs_station), C(evcs_site) and the other
        inventory variables, instead of reading them from the inventory. For tests and data from elsewhere.
    type: dict
  site_groups:
    description:
      - For each host, the inventory groups whose variables define C(evcs_site). A host in more than one such group is
        refused, since Ansible would silently take one site's definition (the last group by name) and the station would
        move sites in the CSMS.
      - The action plugin fills it from the inventory; give it only together with O(data).
    type: dict
extends_documentation_fragment:
  - evcs.provisioning.csms.ATTRIBUTES
attributes:
  check_mode:
    support: full
    details: It never changes anything; it validates the same way in check mode.
  diff_mode:
    support: none
    details: It changes nothing, so there is nothing to diff.
  idempotent:
    support: full
notes:
  - The summary and the returned stations never carry secrets; later roles get the full desired state (secrets
    included) from C(desired_state.station_from_vars) in their own action plugins.
seealso:
  - name: Inventory variables
    description: The variables this module reads (docs/INVENTORY.md in the collection).
    link: https://github.com/evcs/provisioning/blob/main/docs/INVENTORY.md
'''

EXAMPLES = r'''
- name: Check the inventory of every charger in the play
  evcs.provisioning.inventory_check:
  run_once: true
  register: validate_result

- name: Check two chargers only
  evcs.provisioning.inventory_check:
    hosts: [LAB-CP-0001, LAB-CP-0002]
  run_once: true

- name: Check data that does not come from an inventory
  evcs.provisioning.inventory_check:
    data:
      CP-1:
        evcs_environment: test
        evcs_station: "{{ my_station }}"
        evcs_site: "{{ my_site }}"
        evcs_csms: "{{ my_csms }}"
        evcs_vault: "{{ my_vault }}"
        evcs_environment_rules: "{{ my_rules }}"
  delegate_to: localhost
  run_once: true
'''

RETURN = r'''
stations:
  description:
    - The validated desired state per host, without secrets and without the CSMS/Vault connection settings.
    - Keys per station are documented in C(plugins/module_utils/desired_state.py) (station_id, serial_number, vendor,
      model, security_profile, ocpp_endpoint, evses, network, ocpp, load_management, tariff_id, access, site, ...).
  returned: success
  type: dict
  sample:
    LAB-CP-0001:
      station_id: LAB-CP-0001
      serial_number: SIM-0001
      security_profile: 1
      ocpp_endpoint: ws://127.0.0.1:9000/ocpp
      evses: [{id: 1, max_current_a: 32, phases: 3, voltage_v: 230, connectors: [{id: 1, type: cType2, format: Socket, max_current_a: 32}]}]
problems:
  description: Every problem found, one line each; empty on success.
  returned: always
  type: list
  elements: str
  sample: ["LAB-CP-0002: evcs_station.evses[0].connectors[0].type = 'Type2': is not an allowed value; did you mean 'cType2'? ..."]
summary:
  description: Counts per site (stations, EVSEs, connectors, summed maximum current against the grid cap) and per network mode.
  returned: always
  type: dict
  sample:
    environment: lab
    stations: 4
    sites: {lab-depot: {name: Lab depot, stations: 2, evses: 2, connectors: 2, max_current_a: 64, grid_max_current_a: 100}}
    network_modes: {ethernet: 2, wifi: 1, cellular: 1}
'''
