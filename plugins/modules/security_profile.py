#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: security_profile
short_description: Move a charging station to OCPP security profile 1, 2 or 3 without locking it out
version_added: 0.1.0
description:
  - Plans the path from the station's current profile (SecurityCtrlr.SecurityProfile, OCPPCommCtrlr.NetworkConfigurationPriority
    and what each slot holds, as the CSMS it is managed through kept every SetNetworkProfile the station accepted -
    OCPP 2.0.1 cannot read a slot back).
  - Refuses before anything is sent unless every prerequisite holds, and names the missing one - the URL is a CSMS of
    this environment (O(allowed_hosts)) and fits the profile; for 2 and 3 the CSMS root O(csms_root_ca_path) is installed
    on the station (by hash) and the endpoint answers a TLS handshake from the controller with a certificate that
    chains to it; for 3 the station holds a client certificate from the issuing CA of O(vault_pki_mount) with CN = station
    id, not revoked and not expiring within O(renew_before) days (the newer of the certificate it presents and the one
    its Vault KV record names, read by serial as evcs.provisioning.station_certificate does - see O(environment)); the
    station is online on a slot it can fall back to.
  - Downgrades follow OCPP 2.0.1 A00.FR.005 - 3 to 2 only where the station has AllowSecurityProfileDowngrade, never to 1
    from 2 or 3 - unless O(allow_downgrade=true), which is reported in the result and as an AUDIT warning.
  - Applies SetNetworkProfile on the new slot, NetworkConfigurationPriority C(<new>,<fallback>), Reset, and waits until the
    CSMS (O(target_csms) when given) sees the station on the new endpoint with the new profile, and for profile 3 with
    the expected certificate. Only then is the fallback slot removed from the priority list (the station deletes
    lower-profile slots itself, A05.FR.06; a fallback at the same profile is removed with one more Reset).
  - When the station does not come back on the new endpoint within O(timeout), the task fails for this host with what
    the CSMS saw; a station that came back on its fallback gets the fallback first in its priority list again.
  - An OCPP 1.6 station with the Security Extension (its CSMS connection's version, else O(ocpp_version)) has no
    slots - the prerequisites are checked the same way (the root as CentralSystemRootCertificate, for 3 a certificate
    with CN = its serial number O(serial_number)), then its model's Central System URL key O(url_key) and the
    SecurityProfile key are changed. The station disconnects and reconnects with the new profile by itself
    (A05.FR.06/07); one that keeps its connection for 15 seconds (or answers RebootRequired) takes it only at a
    reboot and gets one Reset (Hard), as OCTT TC_083_CSMS sends. The station checks the prerequisites too
    and rejects the change without them (A05.FR.02-04; the URL key is then set back). A station that cannot connect
    with the new profile falls back to its previous one (A05.FR.08) and stays connected there - the task fails for
    this host saying so. A lower or equal profile is never sent (A00.FR.005, A05.FR.01) - O(allow_downgrade) does not
    apply to 1.6.
author: evcs.provisioning contributors (@evcs)
extends_documentation_fragment:
  - evcs.provisioning.csms
  - evcs.provisioning.csms.STATION
  - evcs.provisioning.csms.ATTRIBUTES
  - evcs.provisioning.vault
  - evcs.provisioning.vault.KV
attributes:
  check_mode:
    support: full
    details: Reads the station and checks the prerequisites; returns the plan in RV(plan), sends nothing.
  diff_mode:
    support: full
  idempotent:
    support: full
    details: A station already online on the target profile through an active slot that holds the desired profile is not touched.
options:
  security_profile:
    description: The profile the station must run.
    type: int
    required: true
    choices: [1, 2, 3]
  ocpp_csms_url:
    description: The CSMS websocket URL for that profile (C(ws://) for 1, C(wss://) for 2 and 3), without the station id.
    type: str
    required: true
  slot:
    description:
      - Configuration slot of the new profile; default the profile's number when the station has that slot, else
        another of O(slots) than the one the station runs on (which stays as the fallback until the new one works).
    type: int
  slots:
    description:
      - The station's configuration slots (the valuesList of C(OCPPCommCtrlr.NetworkConfigurationPriority), or what
        its station model says); default 1, 2 and 3. A slot 0 is never assumed.
    type: list
    elements: int
  csms_root_ca_path:
    description: PEM of the CSMS root the station must trust (required for profiles 2 and 3).
    type: path
  allowed_hosts:
    description: Hosts a CSMS URL of this environment may point at.
    type: list
    elements: str
  allow_downgrade:
    description: Override the downgrade rules; the override is reported (RV(downgrade_override)) and warned about.
    type: bool
    default: false
  url_key:
    description:
      - OCPP 1.6 only - the configuration key that holds the Central System URL on this station (OCPP 1.6 standardizes
        none; the station model's C(configuration_keys.central_system_url)).
    type: str
  serial_number:
    description:
      - OCPP 1.6 only - the station's serial number, the CN its profile-3 certificate must have (A00.FR.405).
    type: str
  renew_before:
    description: For profile 3, the station certificate must be valid for more than this many days.
    type: int
    default: 30
  interface:
    description: OCPP interface of the new slot.
    type: str
    default: Wired0
    choices: [Wired0, Wired1, Wired2, Wired3, Wireless0, Wireless1, Wireless2, Wireless3]
  message_timeout:
    description: messageTimeout of the new slot, in seconds.
    type: int
    default: 30
  apn:
    description:
      - Cellular access point of the new slot (the same as the slot the station leaves, so a cellular station keeps
        its data connection). Secrets are compared and shown only as salted hashes.
    type: dict
    suboptions:
      apn:
        description: Access point name.
        type: str
        required: true
      apn_user_name:
        description: APN user name.
        type: str
      apn_password:
        description: APN password.
        type: str
      sim_pin:
        description: SIM PIN.
        type: int
      preferred_network:
        description: Preferred network (MCC and MNC).
        type: str
      use_only_preferred_network:
        description: Use only the preferred network.
        type: bool
      apn_authentication:
        description: APN authentication method.
        type: str
        default: AUTO
        choices: [CHAP, NONE, PAP, AUTO]
  vpn:
    description: VPN of the new slot (SetNetworkProfile C(vpn)), the same as the slot the station leaves.
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
        description: VPN password.
        type: str
        required: true
      key:
        description: VPN shared secret.
        type: str
        required: true
      type:
        description: VPN type.
        type: str
        required: true
        choices: [IKEv2, IPSec, L2TP, PPTP]
  reset_type:
    description: Reset type used to activate the new slot.
    type: str
    default: OnIdle
    choices: [OnIdle, Immediate]
  timeout:
    description: Seconds to wait for the station on the new endpoint after the Reset.
    type: int
    default: 120
  poll_interval:
    description: Seconds between two looks at the station's connection.
    type: float
    default: 1.0
  target_csms:
    description:
      - The CSMS the station connects to after the change, when it is not the one it is managed through now (promotion
        to another environment). The reconnect is confirmed there.
      - The new slot is then sent once more through the target CSMS, into O(slot) (default the profile's number) when
        the change used another slot, and NetworkConfigurationPriority is left at that slot alone (one more Reset), so
        that the CSMS that manages the station from then on keeps the record of its slot, which the network role and
        C(verify.yml) read back.
    type: dict
    suboptions:
      url:
        description: API endpoint of the target CSMS.
        type: str
        required: true
      token:
        description: API token of the target CSMS (where its backend needs one).
        type: str
      ca_path:
        description: CA bundle that verifies the target CSMS API endpoint.
        type: path
      backend:
        description: The target CSMS's backend (as O(csms_backend)); default the backend of the current CSMS.
        type: str
      options:
        description: The target backend's own settings (as O(csms_options)); default those of the current CSMS when
          O(target_csms.backend) is not given.
        type: dict
  allow_plaintext_secrets:
    description:
      - Send the new slot's APN password, SIM PIN or VPN password/key while the station still runs security profile 1
        (plain ws://), where anyone on the network path can read it.
      - Without it such a change is refused before anything is sent; with it the task warns and records the consent in
        its diff (so in the audit trail). Inventory variable C(evcs_allow_plaintext_secrets).
    type: bool
    default: false
seealso:
  - module: evcs.provisioning.network_profile
  - module: evcs.provisioning.station_certificate
'''

EXAMPLES = r'''
- name: Move the charger to security profile 3
  evcs.provisioning.security_profile:
    station_id: LAB-CP-0001
    security_profile: 3
    ocpp_csms_url: "{{ evcs_csms.ws_urls['3'] }}"
    csms_root_ca_path: "{{ evcs_csms.root_ca_path }}"
    allowed_hosts: "{{ evcs_environment_rules.csms_hosts }}"
    vault_url: "{{ evcs_vault.url }}"
    vault_pki_mount: "{{ evcs_vault.pki_mount }}"
'''

RETURN = r'''
ocpp_version:
  description: C(1.6) for an OCPP 1.6 station (absent for 2.0.1).
  returned: when the station speaks OCPP 1.6
  type: str
reconnect:
  description: How an OCPP 1.6 station took its new profile, C(by itself) (A05.FR.07) or C(after Reset (Hard)).
  returned: when the profile of an OCPP 1.6 station was changed
  type: str
station_id:
  description: The station.
  returned: always
  type: str
from_profile:
  description: The security profile the station ran before the task.
  returned: always
  type: int
to_profile:
  description: The target security profile.
  returned: always
  type: int
direction:
  description: C(upgrade), C(downgrade) or C(move) (same profile, another slot or endpoint).
  returned: always
  type: str
plan:
  description: The steps the task takes (or took); empty when nothing is to be done.
  returned: always
  type: list
  elements: str
prerequisites:
  description: Each prerequisite checked and C(ok) or why it does not hold.
  returned: always
  type: dict
slot:
  description: The slot of the target profile.
  returned: always
  type: int
fallback_slot:
  description: The slot kept as fallback during the change.
  returned: when a change is planned
  type: int
fallback:
  description: What happened to the fallback slot after the station came back.
  returned: when the change was applied
  type: str
downgrade_override:
  description: Whether O(allow_downgrade) overrode a downgrade rule.
  returned: always
  type: bool
certificate:
  description: The client certificate the station presented on profile 3 after the change.
  returned: when the station moved to profile 3
  type: dict
connection:
  description: The station's connection as the (target) CSMS sees it after the task.
  returned: success
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
