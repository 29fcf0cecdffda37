#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: station_certificate
short_description: Ensure a charging station holds a client certificate from the Vault PKI
version_added: 0.1.0
description:
  - Decides with one function whether the station needs a (new) certificate - it has none; it expires within
    O(renew_before) days or is past O(renew_at_fraction) of its lifetime; its subject CN/O or issuer differ; the
    issuing CA was rotated; it is revoked; or O(force=true).
  - The station's certificate is the one it presents on its security profile 3 connection, or the newer
    certificate this PKI mount last signed for its CN (before the station reconnects on profile 3). That one is found
    by the serial recorded in Vault KV (see O(environment)) - an idempotent run costs one login and three reads
    (the record, the certificate with its revocation status, the issuing CA), whatever the size of the fleet.
  - After signing or issuing, the certificate's serial, expiry, issuer and fingerprint are recorded in the station's
    KV v2 secret; the revocation status comes from Vault's C(<mount>/cert/<serial>) (its C(revocation_time)).
  - Enrollment over OCPP 2.0.1 keeps the private key on the station - TriggerMessage(SignChargingStationCertificate),
    the station's CSR is read from the CSMS and checked (CN = station id, O = O(organization), key type and size,
    signature), Vault C(<mount>/sign/<role>) signs it, and CertificateSigned installs leaf and issuing CA.
    A CSR that breaks policy is refused and nothing is signed.
  - A Vault/OpenBao PKI role fixes the subject O whatever the CSR asks for. With O(organization) set, a certificate
    Vault signed or issued with another O is revoked at once and never installed, and the task fails naming the PKI
    role and mount (give each operator organization a role that issues it, see O(vault_pki_role)); otherwise every run
    would re-enroll. SecurityCtrlr.OrganizationName is then set back to its previous value.
  - With O(organization) set, SecurityCtrlr.OrganizationName is read and set on the station first when it differs.
  - O(mode=factory) is for stations provisioned before shipment - Vault C(<mount>/issue/<role>) makes the key and
    the certificate, written into O(dest) (key 0600). The private key is never returned.
  - O(state=absent) revokes every unrevoked certificate of the station in Vault and asks the station to delete it.
  - An OCPP 1.6 station (its CSMS connection's version, else O(ocpp_version)) with the Security Extension follows the
    same steps with the 1.6 messages - the CpoName key instead of SecurityCtrlr.OrganizationName,
    ExtendedTriggerMessage(SignChargePointCertificate), CertificateSigned without a type - and its certificate's CN is
    its serial number (A00.FR.405/511), O(serial_number), which must be the serial it reports in its BootNotification.
    Its own certificate is not deleted over OCPP on O(state=absent) (M04.FR.05); the revocation is what the CSMS sees.
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
    details: Makes the decision and reads the station, triggers nothing and signs nothing.
  diff_mode:
    support: full
  idempotent:
    support: full
options:
  state:
    description: C(present) ensures a valid certificate; C(absent) revokes the station's certificates.
    type: str
    default: present
    choices: [present, absent]
  mode:
    description:
      - C(station) enrolls over OCPP with a key made on the station.
      - C(factory) issues key and certificate from Vault into O(dest) for a firmware image staging tree.
    type: str
    default: station
    choices: [station, factory]
  organization:
    description: Wanted subject O (the operator's organization); also set as SecurityCtrlr.OrganizationName.
    type: str
  ttl:
    description: Lifetime asked from Vault (for example C(8760h)); the PKI role's default when unset.
    type: str
  renew_before:
    description: Renew when the certificate expires within this many days.
    type: int
    default: 30
  renew_at_fraction:
    description: Renew once this fraction of the certificate's lifetime has passed.
    type: float
    default: 0.6667
  force:
    description: Enroll a new certificate even when the current one is fine.
    type: bool
    default: false
  revoke_previous:
    description:
      - After a successful re-enrollment, revoke in Vault the certificate(s) the new one replaced - the one the station
        presents and the one this PKI mount last signed for it (for an ownership change, the previous owner's).
      - Only certificates of O(vault_pki_mount) are revoked; another PKI's certificate is reported in a warning.
      - In check mode the serials that would be revoked are returned in RV(revoked).
    type: bool
    default: false
  key_policy:
    description: Keys a station CSR may carry.
    type: dict
    default: {}
    suboptions:
      ec_curves:
        description: Allowed EC curves.
        type: list
        elements: str
        default: [secp256r1, secp384r1]
      rsa_min_bits:
        description: Smallest allowed RSA modulus.
        type: int
        default: 2048
  csr_timeout:
    description: Seconds to wait for the station's CSR after the trigger.
    type: int
    default: 60
  issuer_common_names:
    description:
      - The common names of the issuing CAs this environment allows. When given, the task fails before anything is
        signed, revoked or installed if the issuing CA of O(vault_pki_mount) has another common name (a test inventory
        pointed at a production PKI mount).
      - Default C(evcs_environment_rules.issuer_common_names) of the inventory; empty allows any issuer.
    type: list
    elements: str
  dest:
    description:
      - Directory for O(mode=factory) - C(<station_id>.key) (0600), C(<station_id>.crt), C(<station_id>-chain.crt).
    type: path
  serial_number:
    description:
      - The station's serial number (inventory C(evcs_station.serial_number)). The CN of an OCPP 1.6 station's
        certificate (A00.FR.405); when the station reports another one in its BootNotification the task fails before
        anything changes. Unused for OCPP 2.0.1 stations, whose CN is the station id.
    type: str
seealso:
  - module: evcs.provisioning.station_certificate_info
  - module: evcs.provisioning.trust_anchors
'''

EXAMPLES = r'''
- name: Enroll or renew the station's client certificate
  evcs.provisioning.station_certificate:
    station_id: LAB-CP-0001
    organization: EVCS Lab Operator
    csms_url: https://csms.example.net:8443
    csms_token: "{{ csms_token }}"
    vault_url: https://vault.example.net:8200
    vault_auth_method: approle
    vault_role_id: "{{ vault_role_id }}"
    vault_secret_id: "{{ vault_secret_id }}"
    vault_pki_mount: pki_lab
    vault_pki_role: charging-station
    vault_kv_mount: secret
    environment: lab

- name: Stage key and certificate for a firmware image
  evcs.provisioning.station_certificate:
    station_id: LAB-CP-0002
    mode: factory
    dest: /srv/images/LAB-CP-0002/etc/ocpp/certs
    vault_pki_mount: pki_lab

- name: Re-enroll under a new operator and revoke the previous owner's certificate
  evcs.provisioning.station_certificate:
    station_id: LAB-CP-0001
    organization: EVCS Partner Operator
    vault_pki_mount: pki_lab
    vault_pki_role: charging-station-partner
    revoke_previous: true

- name: Revoke on decommission
  evcs.provisioning.station_certificate:
    station_id: LAB-CP-0001
    state: absent
'''

RETURN = r'''
action:
  description: C(enrolled), C(renewed), C(revoked) or C(none).
  returned: always
  type: str
reason:
  description: Why the decision was made.
  returned: always
  type: str
serial:
  description: Serial (lowercase hex) of the station's certificate after the run.
  returned: always
  type: str
not_after:
  description: Expiry of that certificate, RFC 3339 UTC.
  returned: always
  type: str
days_left:
  description: Whole days until it expires.
  returned: always
  type: int
issuer:
  description: Issuer DN of that certificate.
  returned: always
  type: str
fingerprint_sha256:
  description: SHA-256 fingerprint (hex) of that certificate.
  returned: always
  type: str
certificate:
  description:
    - All facts of that certificate (serial, subject, organization, issuer, not_before, not_after, days_left,
      fingerprint_sha256).
  returned: always
  type: dict
revoked:
  description:
    - Serials revoked by O(state=absent), or the replaced certificates revoked with O(revoke_previous=true).
    - In check mode, the serials that would be revoked.
  returned: when state is absent, or when revoke_previous is true and a new certificate is (or would be) enrolled
  type: list
  elements: str
  sample: [5c1e0f3a9b]
files:
  description: Paths written in factory mode.
  returned: when mode is factory
  type: dict
vault_requests:
  description:
    - Requests this task made to Vault, by kind; C(login) is the AppRole/cert login (0 with a token), C(list) the
      scans of C(<mount>/certs) (0 once the station's certificate is recorded).
  returned: always
  type: dict
  sample: {login: 1, list: 0, read: 3, write: 0}
organization_before:
  description: SecurityCtrlr.OrganizationName (the CpoName key on OCPP 1.6) before it was set.
  returned: when it was changed
  type: str
common_name:
  description: The CN the station's certificate has - its station id (OCPP 2.0.1), its serial number (OCPP 1.6).
  returned: always
  type: str
  sample: SIM-0005
ocpp_version:
  description: The OCPP version the station speaks (its CSMS connection's, else the inventory's).
  returned: always
  type: str
  sample: '1.6'
'''
