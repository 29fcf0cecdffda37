#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: station_capabilities
short_description: Discover what a charging station accepts and check declared variables against it before any write
version_added: 0.2.0
description:
  - Capability discovery - sends C(GetBaseReport) with C(FullInventory), collects the C(NotifyReport) parts the station
    sends through the CSMS backend, and keeps each variable's mutability, data type, values list, minimum and maximum,
    plus the message limits (C(DeviceDataCtrlr.ItemsPerMessage), C(BytesPerMessage)), the configuration slots (the
    values list of C(OCPPCommCtrlr.NetworkConfigurationPriority)) and the rate units (C(SmartChargingCtrlr.RateUnit)).
  - The result is cached in one file per vendor, model and firmware version (O(cache_dir)); later runs, and every
    station of the same vendor/model/firmware, read the cache instead of asking the station again.
  - The station model's known C(variables) (its model file) fill in what no station reported.
  - Checks every variable of O(variables) - for example every variable the network and ocpp roles and
    C(ocpp_extra_variables) will set - and fails before anything is written when the station does not have it,
    cannot write it (C(ReadOnly)), or would refuse the value (not a valid number or boolean, out of range, not in
    the values list), naming the host, the variable, the value (secrets masked) and the fix.
  - O(write_model) writes what the station reported as the start of a station model file (the C(gather) playbook);
    the task reports C(changed) only when the file is new or differs from the one there.
  - An OCPP 1.6J station (the version its CSMS connection negotiated when the station is asked, else O(ocpp_version))
    has no device model - C(GetConfiguration) with no key list gives every key it has with C(readonly), the standard
    keys it left out are asked for by name (split at its C(GetConfigurationMaxKeys)), and O(write_model) writes a 1.6
    station model file (C(configuration_keys), the format of C(station_models/generic-16.yml)) with the vendor, model
    and firmware of its BootNotification, its rate units (C(ChargingScheduleAllowedChargingRateUnit)) and connector
    count; the keys the collection manages are marked, C(central_system_url) is left for the operator to map. The file
    holds no values; C(AuthorizationKey) is never read. O(variables) must be empty for a 1.6 station.
author: evcs.provisioning contributors (@evcs)
extends_documentation_fragment:
  - evcs.provisioning.csms
  - evcs.provisioning.csms.STATION
  - evcs.provisioning.csms.ATTRIBUTES
attributes:
  check_mode:
    support: full
    details: Discovery only reads the station; in check mode O(write_model) is not written.
  diff_mode:
    support: none
  idempotent:
    support: full
options:
  vendor:
    description: The station's vendor (C(evcs_station.vendor)); part of the cache key.
    type: str
    required: true
  model:
    description: The station's model (C(evcs_station.model)); part of the cache key.
    type: str
    required: true
  firmware_version:
    description: The station's firmware version (C(evcs_station.firmware_version)); part of the cache key.
    type: str
  station_model:
    description: The station model file (C(station_models/<name>.yml)) whose known variables fill in the report.
    type: str
    default: generic
  model_dirs:
    description: More directories of station model files (C(evcs_station_model_dirs)).
    type: list
    elements: path
    default: []
  discover:
    description:
      - V(auto) reads the cache and asks the station only when there is none (an offline station is then checked
        against its station model only, with a warning); V(refresh) always asks the station and rewrites the cache;
        V(never) uses the cache and the model only (no CSMS needed).
    type: str
    default: auto
    choices: [auto, refresh, never]
  cache_dir:
    description: Directory of the capability cache; default E(EVCS_CAPABILITY_CACHE), else C(~/.cache/evcs-provisioning/capabilities).
    type: path
  timeout:
    description: Seconds to wait for the complete report.
    type: int
    default: 60
  variables:
    description: The device-model variables to check, in the form of M(evcs.provisioning.device_model)'s O(evcs.provisioning.device_model#module:variables).
    type: list
    elements: dict
    default: []
    suboptions:
      component:
        description: Component (name, instance, evse, connector).
        type: dict
        required: true
        suboptions:
          name:
            description: Component name.
            type: str
            required: true
          instance:
            description: Component instance.
            type: str
          evse:
            description: EVSE id.
            type: int
          connector:
            description: Connector id (with evse).
            type: int
      variable:
        description: Variable (name, instance).
        type: dict
        required: true
        suboptions:
          name:
            description: Variable name.
            type: str
            required: true
          instance:
            description: Variable instance.
            type: str
      attribute_type:
        description: Attribute type.
        type: str
        default: Actual
        choices: [Actual, Target, MinSet, MaxSet]
      value:
        description: The value the inventory declares.
        type: raw
      value_type:
        description: How the value is compared and rendered.
        type: str
        default: auto
        choices: [auto, string, boolean, integer, decimal, list, set]
      write_only:
        description: A secret the station never reports (masked in every message).
        type: bool
        default: false
  host:
    description: The inventory host named in messages; default the station id.
    type: str
  write_model:
    description: Write the discovered capabilities as a starting station model file (YAML) to this path.
    type: path
'''

EXAMPLES = r'''
- name: Check the declared variables against the station before any write
  evcs.provisioning.station_capabilities:
    station_id: LAB-CP-0001
    vendor: EVCS Sim
    model: SimCharger AC22
    firmware_version: 1.0.0
    station_model: evcs-sim-ac22
    variables:
      - {component: {name: OCPPCommCtrlr}, variable: {name: HeartbeatInterval}, value: 300}

- name: Write a starting model file from a station's report
  evcs.provisioning.station_capabilities:
    station_id: CP-1
    vendor: ACME
    model: Wallbox 7
    discover: refresh
    write_model: station_models/acme-wallbox-7.yml

- name: Write a starting 1.6 model file from an OCPP 1.6J station's configuration keys
  evcs.provisioning.station_capabilities:
    station_id: CP-16
    vendor: ACME
    model: Wallbox 6
    ocpp_version: "1.6"
    discover: refresh
    write_model: gathered_models/acme-wallbox-6.yml
'''

RETURN = r'''
source:
  description: Where the capabilities came from (the station, the cache file, or the station model only).
  returned: always
  type: str
cache_file:
  description: The cache file of the station's vendor/model/firmware, when capabilities were discovered.
  returned: always
  type: str
station_model:
  description: The station model used.
  returned: always
  type: str
checked:
  description: How many declared variables were checked.
  returned: always
  type: int
known_variables:
  description: How many variables the capabilities describe.
  returned: always
  type: int
slots:
  description: The station's configuration slots (discovered, else the model's; null when neither says).
  returned: always
  type: list
  elements: int
rate_units:
  description: The charging rate units the station accepts.
  returned: always
  type: list
  elements: str
limits:
  description: The message limits per message type (C(ItemsPerMessage), C(BytesPerMessage)).
  returned: always
  type: dict
model_file:
  description: The model file written (O(write_model)).
  returned: when O(write_model) is given
  type: str
ocpp_version:
  description: The OCPP version whose capabilities were read (C(2.0.1) or C(1.6)).
  returned: always
  type: str
known_keys:
  description: How many configuration keys the station reported (OCPP 1.6).
  returned: for an OCPP 1.6 station
  type: int
readonly_keys:
  description: The configuration keys the station reported as read-only (OCPP 1.6).
  returned: for an OCPP 1.6 station asked with GetConfiguration
  type: list
  elements: str
unknown_keys:
  description: Standard keys asked for by name that the station does not know (GetConfiguration C(unknownKey)).
  returned: for an OCPP 1.6 station asked with GetConfiguration
  type: list
  elements: str
connectors:
  description: The station's connector count (C(NumberOfConnectors), else the connectors the CSMS saw), or null.
  returned: for an OCPP 1.6 station asked with GetConfiguration
  type: int
central_system_url_candidates:
  description: Keys whose value is a ws:// or wss:// URL, one of which is likely the Central System URL key to map.
  returned: for an OCPP 1.6 station asked with GetConfiguration
  type: list
  elements: str
requests:
  description: The OCPP requests sent per action (OCPP 1.6).
  returned: for an OCPP 1.6 station asked with GetConfiguration
  type: dict
ansible_facts:
  description: The summary for later roles of the run.
  returned: always
  type: dict
  contains:
    evcs_capabilities:
      description: C(slots), C(rate_units), C(limits), C(station_id), C(station_model).
      type: dict
'''
