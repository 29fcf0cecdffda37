# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  vault_url:
    description:
      - Address of Vault or OpenBao, for example C(https://vault.example.net:8200).
      - Falls back to the environment variables E(VAULT_ADDR), then E(BAO_ADDR).
    type: str
  vault_namespace:
    description:
      - Vault Enterprise / OpenBao namespace the PKI mount and auth method live in.
      - Falls back to E(VAULT_NAMESPACE), then E(BAO_NAMESPACE).
    type: str
  vault_ca_path:
    description:
      - CA bundle that verifies Vault's TLS certificate. Without it the system trust store is used.
      - Falls back to E(VAULT_CACERT), then E(BAO_CACERT).
    type: path
  vault_validate_certs:
    description:
      - Verify Vault's TLS certificate. Switching this off prints a warning.
    type: bool
    default: true
  vault_timeout:
    description: Seconds to wait for one Vault request.
    type: int
    default: 30
  vault_retries:
    description:
      - How often a Vault request that failed for a transient reason (connection error, 5xx) is retried,
        with exponential backoff capped at 8 seconds between attempts.
    type: int
    default: 3
  vault_auth_method:
    description:
      - How to log in to Vault.
      - C(token) uses O(vault_token); C(approle) uses O(vault_role_id) and O(vault_secret_id);
        C(cert) uses the TLS client certificate O(vault_cert_auth_public_key)/O(vault_cert_auth_private_key).
    type: str
    default: token
    choices: [token, approle, cert]
  vault_auth_mount:
    description: Mount path of the auth method when it is not the default (C(approle), C(cert)).
    type: str
  vault_token:
    description:
      - Vault token for O(vault_auth_method=token). Never logged.
      - Falls back to E(VAULT_TOKEN), then E(BAO_TOKEN).
    type: str
  vault_role_id:
    description: AppRole role ID for O(vault_auth_method=approle).
    type: str
  vault_secret_id:
    description: AppRole secret ID for O(vault_auth_method=approle). Never logged.
    type: str
  vault_cert_auth_public_key:
    description: Path of the PEM client certificate for O(vault_auth_method=cert).
    type: path
  vault_cert_auth_private_key:
    description: Path of the PEM private key of that client certificate, for O(vault_auth_method=cert).
    type: path
  vault_cert_auth_role:
    description: Name of the cert auth role to log in against; without it Vault tries every role.
    type: str
  vault_pki_mount:
    description: Mount path of the PKI secrets engine that issues charging station certificates.
    type: str
    default: pki
  vault_pki_role:
    description: PKI role used for C(sign/<role>) and C(issue/<role>).
    type: str
    default: charging-station
notes:
  - The Vault token's policy needs C(update) on C(<mount>/sign/<role>) (and C(<mount>/issue/<role>) for factory mode,
    C(<mount>/revoke) for C(state=absent)), C(list) on C(<mount>/certs) and C(read) on C(<mount>/cert/*)
    and C(<mount>/crl/pem). A refusal names the path and the missing capability.
requirements:
  - hvac (Python library, on the controller)
'''
