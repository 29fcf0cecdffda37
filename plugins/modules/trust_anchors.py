#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: trust_anchors
short_description: Ensure CA certificates are installed on a charging station
version_added: 0.1.0
description:
  - Reads the installed certificates of O(certificate_type) once (GetInstalledCertificateIds), compares them by
    OCPP certificate hash data, and sends InstallCertificate only for the missing ones.
  - With O(state=exact), installed certificates of that type that are not listed are removed (DeleteCertificate).
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
  certificates:
    description:
      - CA certificates, each a PEM string or the path of a PEM file (a file may hold a chain).
      - A certificate that is not self-signed needs its issuer in the list (hash data names the issuer).
    type: list
    elements: str
    required: true
  certificate_type:
    description: OCPP certificate use they are installed as.
    type: str
    default: CSMSRootCertificate
    choices: [CSMSRootCertificate, ManufacturerRootCertificate, V2GRootCertificate, MORootCertificate]
  state:
    description: C(present) adds missing ones; C(exact) also removes unlisted ones of this type.
    type: str
    default: present
    choices: [present, exact]
'''

EXAMPLES = r'''
- name: Trust the CSMS root
  evcs.provisioning.trust_anchors:
    station_id: LAB-CP-0001
    certificates:
      - /etc/evcs/csms-root.pem
    state: exact
'''

RETURN = r'''
installed:
  description: Subjects of the certificates installed (or to be installed in check mode).
  returned: always
  type: list
  elements: str
removed:
  description: Serials of the certificates removed with O(state=exact).
  returned: always
  type: list
  elements: str
'''
