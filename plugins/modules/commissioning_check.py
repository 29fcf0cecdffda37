#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: commissioning_check
short_description: Run the commissioning checklist that proves a charging station is live
version_added: 0.1.0
description:
  - Runs the standard commissioning checklist for one charging station and returns every item with its status
    (V(pass), V(fail) or V(skip)) and the evidence.
  - "Items: C(csms_dns) and C(csms_tcp) (the host and port of the station's configured CSMS URL resolve and accept a
    TCP connection from the controller); C(csms_tls) (TLS handshake verified by the profile's trust anchor);
    C(station_mtls) (the client certificate the station presented to the CSMS names the station; evidence: CN,
    issuer, serial); C(station_online) (connected, BootNotification C(Accepted), the expected security profile);
    C(heartbeat_recent) (a heartbeat or message within twice the heartbeat interval); C(device_model) (one
    GetVariables read-back equals O(device_model); the run's station snapshot answers it when the earlier stages of the
    run read or wrote those variables, see C(evcs_station_snapshot)); C(certificate_validity) (days left above
    O(certificate_min_days)); C(connectors_available) (every connector reports C(Available): the status it reported during its current
    connection, else asked for with TriggerMessage(StatusNotification));
    C(local_list_version) (GetLocalListVersion equals the expected version; on OCPP 2.0.1 the run's snapshot answers
    it with the version the CSMS remembers when the station's C(LocalAuthListCtrlr.Entries) counts the entries the CSMS
    sent, and asks the station otherwise); C(load_management_cap)
    (the station's ChargingStationMaxProfiles, read back with GetChargingProfiles and the ReportChargingProfiles the CSMS
    collected, as M(evcs.provisioning.charging_limit) reads them: the one at the highest stack level holds O(charging_limit),
    converted to the unit the station took)); C(staging_password_refused) (the CSMS no longer admits the station with
    the shared staging password O(staging_password); skipped without it or when the backend cannot tell)."
  - The task fails when a required item fails; items named in O(optional_checks) are reported but never fail it.
  - Read-only. It sends only Get requests to the station and changes nothing, in check mode or not.
extends_documentation_fragment:
  - evcs.provisioning.csms
  - evcs.provisioning.csms.STATION
  - evcs.provisioning.csms.ATTRIBUTES
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
    details: The module changes nothing, so there is no diff.
  idempotent:
    support: full
options:
  csms_endpoint:
    description:
      - The CSMS URL the station is configured with, C(ws://) or C(wss://), for example
        C(wss://csms.example.net/ocpp/CP-0001). Its host and port are checked for DNS, TCP and TLS.
    type: str
    required: true
  security_profile:
    description:
      - The OCPP security profile the station must be connected with. Profile 3 also requires a client certificate.
    type: int
    choices: [1, 2, 3]
  trust_anchor_path:
    description: The root CA file (PEM) the station trusts for the CSMS; verifies the TLS handshake of C(wss://) endpoints.
    type: path
  heartbeat_interval:
    description: The station's heartbeat interval in seconds; a message within twice this time counts as recent.
    type: int
    default: 300
  device_model:
    description:
      - Device-model variables with their desired values, read back with GetVariables (split to the station's
        C(ItemsPerMessage)/C(BytesPerMessage)) and compared as M(evcs.provisioning.device_model) compares them.
      - Takes the same list as O(evcs.provisioning.device_model#module:variables). Write-only variables are not read back.
    type: list
    elements: dict
    default: []
    suboptions:
      component:
        description: The component that holds the variable.
        type: dict
        required: true
        suboptions:
          name:
            description: Component name, for example C(OCPPCommCtrlr).
            type: str
            required: true
          instance:
            description: Component instance, for example V(Default) or an instance a station model names.
            type: str
          evse:
            description: EVSE id for EVSE- or connector-level components.
            type: int
          connector:
            description: Connector id on O(device_model[].component.evse).
            type: int
      variable:
        description: The variable.
        type: dict
        required: true
        suboptions:
          name:
            description: Variable name, for example C(HeartbeatInterval).
            type: str
            required: true
          instance:
            description: Variable instance.
            type: str
      attribute_type:
        description: The attribute to read.
        type: str
        default: Actual
        choices: [Actual, Target, MinSet, MaxSet]
      value:
        description: The desired value.
        type: raw
      value_type:
        description: How values are compared; C(auto) infers it from O(device_model[].value).
        type: str
        default: auto
        choices: [auto, string, boolean, integer, decimal, list, set]
      write_only:
        description: The station cannot return this value; the variable is skipped.
        type: bool
        default: false
  configuration_keys:
    description:
      - OCPP 1.6 stations - configuration keys with their desired values, read back with GetConfiguration for the
        C(device_model) item instead of O(device_model), in the form of
        O(evcs.provisioning.configuration_keys#module:keys). Write-only keys (C(AuthorizationKey)) are not read back.
      - On a 1.6 station C(connectors_available) triggers a StatusNotification per connectorId (1..N in the order of
        O(connectors)), C(local_list_version) reads C(listVersion) and C(load_management_cap) reads the composite
        schedule of connector 0 (the ChargePointMaxProfile).
    type: list
    elements: dict
    default: []
    suboptions:
      key:
        description: The key.
        type: str
        required: true
      value:
        description: The desired value.
        type: raw
      value_type:
        description: How values are compared.
        type: str
        default: auto
        choices: [auto, string, boolean, integer, decimal, list, set]
      write_only:
        description: Write-only keys are not read back.
        type: bool
        default: false
  certificate_min_days:
    description: Days the station's client certificate must still be valid.
    type: int
    default: 30
  connectors:
    description: The connectors that must report C(Available). Default is every connector the station reported.
    type: list
    elements: dict
    suboptions:
      evse_id:
        description: EVSE id.
        type: int
        required: true
      connector_id:
        description: Connector id within the EVSE.
        type: int
        required: true
  local_list_version:
    description:
      - The local authorization list version the station must report.
      - Default is the version M(evcs.provisioning.id_tokens) left in the CSMS's memory of the station's local list;
        without either the item is skipped.
    type: int
  charging_limit:
    description: The station maximum that must be in force. Without it the item is skipped.
    type: dict
    suboptions:
      limit:
        description: The limit.
        type: float
        required: true
      unit:
        description: Unit of O(charging_limit.limit).
        type: str
        default: A
        choices: [A, W]
      phases:
        description: Phases, to convert the limit when the station took it in the other unit.
        type: int
        default: 3
        choices: [1, 2, 3]
      voltage:
        description: Phase-to-neutral voltage, to convert the limit when the station took it in the other unit.
        type: float
        default: 230.0
  optional_checks:
    description: Items that are reported but do not fail the task.
    type: list
    elements: str
    default: []
    choices: [csms_dns, csms_tcp, csms_tls, station_mtls, station_online, heartbeat_recent, device_model,
              certificate_validity, connectors_available, local_list_version, load_management_cap,
              staging_password_refused]
  staging_password:
    description:
      - The shared staging (factory) password of the CSMS. The item C(staging_password_refused) passes when the CSMS
        refuses it for this station. Never logged.
    type: str
  network_timeout:
    description: Seconds for each DNS/TCP/TLS probe from the controller.
    type: float
    default: 5.0
  pending_apply:
    description:
      - For the plan of a run (C(provision.yml --check --diff)); only in check mode. A failed item that the run's apply
        sets on a station that is online (C(station_mtls), C(station_online), C(device_model),
        C(certificate_validity), C(local_list_version), C(load_management_cap), and C(heartbeat_recent) and
        C(connectors_available) of a station that has not booted Accepted yet) is reported as C(pending), to be checked
        after the apply, and does not fail the task. DNS, TCP and TLS of the CSMS, an offline station and the
        connectors of a booted station still fail it.
    type: bool
    default: false
author:
  - evcs.provisioning contributors (@evcs)
'''

EXAMPLES = r'''
- name: Commission a charger
  evcs.provisioning.commissioning_check:
    csms_url: "{{ evcs_csms.url }}"
    csms_token: "{{ evcs_csms.token }}"
    csms_ca_path: "{{ evcs_csms.ca_path }}"
    station_id: CP-0001
    csms_endpoint: wss://csms.example.net/ocpp/CP-0001
    security_profile: 3
    trust_anchor_path: /etc/evcs/csms-root.pem
    device_model:
      - {component: {name: OCPPCommCtrlr}, variable: {name: HeartbeatInterval}, value: 300}
    charging_limit: {limit: 32, unit: A}
    optional_checks: [connectors_available]
  register: commissioning
'''

RETURN = r'''
station_id:
  description: The station checked.
  returned: always
  type: str
  sample: CP-0001
passed:
  description: Whether every required item passed.
  returned: always
  type: bool
failed_items:
  description: Names of the required items that failed.
  returned: always
  type: list
  elements: str
  sample: [device_model]
pending_items:
  description: With O(pending_apply) in check mode, the items the apply changes and that are checked after it.
  returned: when any
  type: list
  elements: str
  sample: [station_mtls, device_model]
checklist:
  description: Every item of the checklist, in order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The item.
      type: str
      sample: csms_tls
    status:
      description: V(pass), V(fail) or V(skip).
      type: str
      sample: pass
    required:
      description: Whether a failure of this item fails the task.
      type: bool
    evidence:
      description: What was observed (addresses, certificate CN/issuer/serial, mismatching variables, an error).
      type: raw
      sample: {subject_cn: CP-0001, issuer_cn: Charger Issuing CA, serial: 3a9f01}
ansible_facts:
  description:
    - Set when this task was the first of the run to read the station's message limits (see M(evcs.provisioning.device_model));
      a task that finds them in the host fact reads them no more.
  returned: when this task read the limits
  type: dict
  contains:
    evcs_device_data_limits:
      description: The station's C(DeviceDataCtrlr) limits per message type.
      type: dict
'''
