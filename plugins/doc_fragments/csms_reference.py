# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    """The C(reference) CSMS backend: a CSMS that offers the collection's REST API contract.

    The contract is the OpenAPI document of the lab's CSMS (C(lab/evcs_lab/csms/openapi.json), served at
    C(/openapi.json)); docs/BACKENDS.md explains it. The backend uses the generic options C(csms_url) (required),
    C(csms_token) (required, a bearer token), C(csms_ca_path), C(csms_validate_certs), C(csms_timeout) and
    C(csms_retries); it has every capability of the interface and no settings of its own in C(csms_options).
    """

    # the keys of csms_options this backend takes (none); a unit test keeps this equal to ReferenceCsms.OPTIONS
    DOCUMENTATION = r'''
options: {}
'''
