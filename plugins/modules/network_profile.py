#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: network_profile
short_description: Set an OCPP 2.0.1 network connection profile slot and the slot priority of a charging station
version_added: 0.1.0
description:
  - Sends C(SetNetworkProfile) for one configuration slot (CSMS URL, security profile, interface, OCPP version and
    transport, message timeout, APN, VPN), and sets C(OCPPCommCtrlr.NetworkConfigurationPriority) when O(priority) is given.
  - Refuses before sending anything when the profile would cut the station off - a security profile lower than the
    station's C(SecurityCtrlr.SecurityProfile), a URL scheme that does not fit the profile (C(ws) for 1, C(wss) for 2
    and 3), a URL host outside O(allowed_hosts), no C(CSMSRootCertificate) installed for profiles 2 and 3, or no
    ChargingStationCertificate request seen by the CSMS for profile 3.
  - OCPP 2.0.1 cannot read a slot back, so the CSMS is the authority on what it sent - it keeps the connection data of
    every C(SetNetworkProfile) the station accepted, per slot, secrets replaced by salted SHA-256 hashes - and the
    module compares the desired profile with that (secrets by recomputing the hash). No station record is needed.
    A profile sent to the station by other means than this CSMS is not seen.
  - A CSMS backend that does not remember the profiles (no C(network_profile_memory), docs/BACKENDS.md) leaves a slot
    the station already lists in its priority alone and reports it as not verifiable (RV(unverifiable)); another slot
    is sent once. A backend that cannot send C(SetNetworkProfile) reports the slot as not verifiable and sends
    nothing.
  - The station uses a new profile after a reboot. RV(reboot_required) is true when the slot in use changed or a
    different slot comes first in the priority.
author: evcs.provisioning contributors (@evcs)
extends_documentation_fragment:
  - evcs.provisioning.csms
  - evcs.provisioning.csms.STATION
  - evcs.provisioning.csms.ATTRIBUTES
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
options:
  slot:
    description: The configuration slot (C(configurationSlot)).
    type: int
    required: true
  ocpp_csms_url:
    description: The CSMS OCPP endpoint without the station id, for example C(wss://csms.example.net/ocpp).
    type: str
    required: true
  security_profile:
    description: The OCPP security profile of the slot.
    type: int
    required: true
    choices: [1, 2, 3]
  interface:
    description: The network interface the station uses for this slot.
    type: str
    default: Wired0
    choices: [Wired0, Wired1, Wired2, Wired3, Wireless0, Wireless1, Wireless2, Wireless3]
  ocpp_version:
    description: The OCPP version of the slot.
    type: str
    default: OCPP20
    choices: [OCPP20]
  ocpp_transport:
    description: The OCPP transport of the slot.
    type: str
    default: JSON
    choices: [JSON]
  message_timeout:
    description: Seconds the station waits for a CSMS answer.
    type: int
    default: 30
  apn:
    description: Cellular access point of the slot.
    type: dict
    suboptions:
      apn:
        description: The access point name.
        type: str
        required: true
      apn_user_name:
        description: APN user name.
        type: str
      apn_password:
        description: APN password. Never logged; kept by the CSMS only as a salted hash.
        type: str
      sim_pin:
        description: The SIM's PIN. Never logged; kept by the CSMS only as a salted hash.
        type: int
      preferred_network:
        description: Preferred network as MCC and MNC, for example C(20404).
        type: str
      use_only_preferred_network:
        description: Dial in only on O(apn.preferred_network).
        type: bool
      apn_authentication:
        description: APN authentication method.
        type: str
        default: AUTO
        choices: [CHAP, NONE, PAP, AUTO]
  vpn:
    description: VPN of the slot.
    type: dict
    suboptions:
      server:
        description: VPN server.
        type: str
        required: true
      user:
        description: VPN user.
        type: str
        required: true
      group:
        description: VPN group.
        type: str
      password:
        description: VPN password. Never logged; kept by the CSMS only as a salted hash.
        type: str
        required: true
      key:
        description: VPN shared key. Never logged; kept by the CSMS only as a salted hash.
        type: str
        required: true
      type:
        description: VPN type.
        type: str
        required: true
        choices: [IKEv2, IPSec, L2TP, PPTP]
  priority:
    description: The desired C(NetworkConfigurationPriority), slots in order of preference; must contain O(slot).
    type: list
    elements: int
  allowed_hosts:
    description:
      - Hosts the CSMS URL may point at (the environment's CSMS hosts). A URL elsewhere is refused before sending.
      - Omit to skip the check.
    type: list
    elements: str
  allow_plaintext_secrets:
    description:
      - Send an APN password, SIM PIN or VPN password/key to a station that runs security profile 1 (plain ws://), where
        anyone on the network path can read it.
      - Without it such a send is refused before anything is sent; with it the task warns and records the consent in
        its diff (so in the audit trail). Inventory variable C(evcs_allow_plaintext_secrets).
    type: bool
    default: false
seealso:
  - module: evcs.provisioning.station_reset
'''

EXAMPLES = r'''
- name: CSMS slot for security profile 2, first in priority
  evcs.provisioning.network_profile:
    station_id: LAB-CP-0001
    slot: 1
    ocpp_csms_url: wss://csms.example.net/ocpp
    security_profile: 2
    interface: Wired0
    priority: [1, 0]
    allowed_hosts: [csms.example.net]
  register: profile

- name: Cellular slot
  evcs.provisioning.network_profile:
    station_id: LAB-CP-0002
    slot: 2
    ocpp_csms_url: wss://csms.example.net/ocpp
    security_profile: 2
    interface: Wireless0
    apn: {apn: iot.example, apn_user_name: evcs, apn_password: "{{ apn_password }}"}
'''

RETURN = r'''
slot:
  description: The configuration slot managed.
  returned: always
  type: int
profile_changed:
  description: Whether the slot's content was (or would be) sent.
  returned: always
  type: bool
priority_changed:
  description: Whether NetworkConfigurationPriority was (or would be) set.
  returned: always
  type: bool
reboot_required:
  description: Whether the station must reboot to use the new profile or priority.
  returned: always
  type: bool
requests:
  description: OCPP calls sent, per action.
  returned: always
  type: dict
ansible_facts:
  description: Set the first time a run reads the station's message limits (see M(evcs.provisioning.device_model)).
  returned: when this task read the limits
  type: dict
  contains:
    evcs_device_data_limits:
      description: The station's C(DeviceDataCtrlr) limits per message type.
      type: dict
unverifiable:
  description:
    - "What the CSMS backend in use could not do or check (it lacks a capability, docs/BACKENDS.md), one line each,
      C(not verifiable with backend <name>: <what>: backend <name> cannot <capability>). Neither drift nor a failure;
      each line is also a warning, and C(verify.yml) lists them per station."
  returned: when the backend lacks a capability the task needed
  type: list
  elements: str
'''
