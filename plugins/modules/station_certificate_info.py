#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: station_certificate_info
short_description: Read a charging station's certificates
version_added: 0.1.0
description:
  - Installed certificate hash data per type (GetInstalledCertificateIds), the client certificate the station
    presents on its CSMS connection, and the last certificate the Vault PKI mount signed for it (when O(vault_url)
    or its environment variable is set). Changes nothing.
  - On an OCPP 1.6 station the installed certificates are asked for per type (CentralSystemRootCertificate,
    ManufacturerRootCertificate) and its certificate's CN is its serial number (O(serial_number)).
author: evcs.provisioning contributors (@evcs)
options:
  serial_number:
    description:
      - The station's serial number, the CN of an OCPP 1.6 station's certificate (A00.FR.405).
    type: str
extends_documentation_fragment:
  - evcs.provisioning.csms
  - evcs.provisioning.csms.STATION
  - evcs.provisioning.csms.ATTRIBUTES
  - evcs.provisioning.vault
  - evcs.provisioning.vault.KV
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  idempotent:
    support: full
'''

EXAMPLES = r'''
- name: Read certificate facts
  evcs.provisioning.station_certificate_info:
    station_id: LAB-CP-0001
  register: station_certs
'''

RETURN = r'''
ocpp_version:
  description: The OCPP version the station speaks.
  returned: always
  type: str
installed:
  description: Hash data (hashAlgorithm, issuerNameHash, issuerKeyHash, serialNumber) per certificate type.
  returned: always
  type: dict
presented:
  description:
    - The client certificate presented on the station's connection (serial, subject, organization, issuer, not_before,
      not_after, days_left, fingerprint_sha256); None without one.
  returned: always
  type: dict
last_signed:
  description:
    - The certificate recorded for the station in Vault KV (see O(environment)), else the newest certificate of the
      PKI mount with CN = station id; same keys as RV(presented).
  returned: always
  type: dict
vault_requests:
  description: Requests this task made to Vault, by kind (login, list, read, write).
  returned: when Vault is configured
  type: dict
  sample: {login: 1, list: 0, read: 3, write: 0}
'''
