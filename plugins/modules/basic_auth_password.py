#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: basic_auth_password
short_description: Rotate a charging station's BasicAuthPassword from Vault without locking it out
version_added: 0.1.0
description:
  - For security profiles 1 and 2. The password lives in Vault KV v2 at O(kv_mount)/data/O(kv_path), key O(kv_key); it is
    generated with Python's C(secrets) when absent (or when O(rotate=true)).
  - The CSMS learns the new password first, so the old and the new one are both accepted; then the station gets it
    (SetVariables SecurityCtrlr.BasicAuthPassword, write-only) and is reset; once the CSMS has seen it reconnect, the old
    password is retired (the CSMS keeps only the new one).
  - A CSMS backend that keeps one password per station (no C(password_rotation), docs/BACKENDS.md) gets the new one
    right after the station accepted it, with a warning; one that cannot check a password (no C(password_check))
    reports a station online with no rotation pending as not verifiable (RV(unverifiable)).
  - While a rotation runs, the old password is kept in Vault as C(<kv_key>_previous); a run that was interrupted is
    finished by the next one.
  - The password never appears in the result, the diff (shown as C((rotated))) or the logs.
  - An OCPP 1.6 station with the Security Extension (its CSMS connection's version, else O(ocpp_version)) gets the
    password as its C(AuthorizationKey) - the hexadecimal representation of a 16 to 20 byte password (32 to 40 hex
    digits) by ChangeConfiguration - after the CSMS learnt it through the same credential calls; the station reconnects
    with it by itself (A01), a Reset (Hard) follows only when it does not. A password in Vault that does not fit is
    refused before anything is written (its length is named, never its value).
author: evcs.provisioning contributors (@evcs)
extends_documentation_fragment:
  - evcs.provisioning.csms
  - evcs.provisioning.csms.STATION
  - evcs.provisioning.csms.ATTRIBUTES
  - evcs.provisioning.vault
attributes:
  check_mode:
    support: full
    details: Reads Vault and the CSMS; writes nothing to Vault, the CSMS or the station.
  diff_mode:
    support: full
    details: The diff shows that the password changes, never the password.
  idempotent:
    support: full
    details: No change when the CSMS accepts the Vault password, no retired one, and the station is connected (unless O(rotate=true)).
options:
  environment:
    description: The inventory's environment (C(evcs_environment)); part of the default O(kv_path).
    type: str
    required: true
  kv_mount:
    description: Mount of the KV v2 secrets engine.
    type: str
    default: secret
  kv_path:
    description: Path of the station's secrets in the mount; default C(evcs/<environment>/stations/<station_id>).
    type: str
  kv_key:
    description: Key of the password in the secret.
    type: str
    default: basic_auth_password
  rotate:
    description: Make a new password even when Vault holds one that works.
    type: bool
    default: false
  length:
    description:
      - Length of a generated password. OCPP 2.0.1 allows 16 to 40 characters (default 32); an OCPP 1.6
        AuthorizationKey is a password of 16 to 20 bytes (default 20, A00.FR.205). A length outside that range is refused
        before anything is read or written.
    type: int
  current_password:
    description:
      - The password the station uses now when the CSMS stores none for it yet (the factory or staging password), so
        the CSMS keeps accepting it until the station has reconnected with the new one.
    type: str
  retire:
    description:
      - For a station on security profile 3 (mTLS), which uses no password - make the CSMS admit no password anyone
        knows. When the CSMS still admits O(current_password) (the staging password) or the station's Vault password,
        it gets a random password that nobody keeps; it is never sent to the station nor stored. Once the CSMS refuses
        them, nothing changes.
      - Needs a backend that can check a password (capability C(password_check)); with another it is reported as not
        verifiable.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for the station to reconnect after the Reset.
    type: int
    default: 120
  poll_interval:
    description: Seconds between two looks at the station's connection.
    type: float
    default: 1.0
  allow_plaintext_secrets:
    description:
      - Send the BasicAuthPassword to a station that runs security profile 1 (plain ws://), where
        anyone on the network path can read it.
      - Without it such a send is refused before anything is sent; with it the task warns and records the consent in
        its diff (so in the audit trail). Inventory variable C(evcs_allow_plaintext_secrets).
    type: bool
    default: false
seealso:
  - module: evcs.provisioning.security_profile
'''

EXAMPLES = r'''
- name: Give the charger its own BasicAuthPassword from Vault
  evcs.provisioning.basic_auth_password:
    station_id: LAB-CP-0001
    environment: lab
    current_password: "{{ evcs_csms.staging_password }}"
    vault_url: "{{ evcs_vault.url }}"
    kv_mount: secret

- name: Scheduled rotation
  evcs.provisioning.basic_auth_password:
    station_id: LAB-CP-0001
    environment: lab
    rotate: true
'''

RETURN = r'''
station_id:
  description: The station.
  returned: always
  type: str
kv_path:
  description: Where the password lives in the KV mount.
  returned: always
  type: str
action:
  description: C(none), C(created) (first password from Vault) or C(rotated).
  returned: always
  type: str
connected_at:
  description: When the station reconnected with the new password, as the CSMS saw it.
  returned: when the password was changed
  type: str
security_profile:
  description: The profile the station reconnected with.
  returned: when the password was changed
  type: int
unverifiable:
  description:
    - "What the CSMS backend in use could not do or check (it lacks a capability, docs/BACKENDS.md), one line each,
      C(not verifiable with backend <name>: <what>: backend <name> cannot <capability>). Neither drift nor a failure;
      each line is also a warning, and C(verify.yml) lists them per station."
  returned: when the backend lacks a capability the task needed
  type: list
  elements: str
'''
