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
      - Falls back to E(VAULT_TOKEN), then E(BAO_TOKEN), only with O(vault_token_from_env=true).
      - The collection warns when this token expires within 15 minutes (it reads C(auth/token/lookup-self)).
    type: str
  vault_token_from_env:
    description:
      - Use E(VAULT_TOKEN) (then E(BAO_TOKEN)) when O(vault_token) is not given. Off by default, so that a token left
        in the operator's shell is never used by accident; inventory C(evcs_vault.token_from_env).
    type: bool
    default: false
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
    description:
      - PKI role used for C(sign/<role>) and C(issue/<role>).
      - A role fixes the subject O of what it issues, so each operator organization needs a role of its own (the
        inventory maps them in C(evcs_vault.station_roles)).
    type: str
    default: charging-station
notes:
  - The Vault token's policy needs C(update) on C(<mount>/sign/<role>) (and C(<mount>/issue/<role>) for factory mode,
    C(<mount>/revoke) to revoke a retired or replaced certificate), C(read) on C(<mount>/cert/*), and C(list) on C(<mount>/certs) where a
    module scans the mount. A refusal names the path and the missing capability.
  - With the C(evcs.provisioning.vault_tokens) callback enabled (the repository's C(ansible.cfg) does), a run logs in
    once (one AppRole or cert login) and every task of the run uses that token; the token is revoked when the run ends.
    Without it, a task logs in once per station, whatever number of requests follows.
  - Run as the collection's action plugin (the normal case), an option the task leaves out is taken from the host's
    inventory variable C(evcs_vault) - O(vault_url) from its C(url), O(vault_namespace) from C(namespace),
    O(vault_ca_path) from C(ca_path), O(vault_validate_certs) from C(validate_certs), O(vault_auth_method) from
    C(auth_method), O(vault_auth_mount) from C(approle_mount) (for AppRole), O(vault_token), O(vault_role_id) and
    O(vault_secret_id) from C(token), C(role_id) and C(secret_id), O(vault_token_from_env) from C(token_from_env), O(vault_pki_mount) from C(pki_mount),
    O(vault_pki_role) from C(station_role) - before the environment variables and the defaults.
requirements:
  - hvac (Python library, on the controller)
'''

    # Where a station's certificate is recorded (KV v2), so it is found by its serial instead of a scan of the mount.
    KV = r'''
options:
  environment:
    description:
      - The inventory's environment (C(evcs_environment)), part of the KV v2 path
        C(<vault_kv_mount>/data/evcs/<environment>/stations/<station_id>) where the station's certificate is recorded
        (keys C(certificate_serial), C(certificate_not_after), C(certificate_issuer),
        C(certificate_fingerprint_sha256); every other key of that secret, such as C(basic_auth_password), is kept).
      - With it, the certificate this PKI last signed for the station is read by its recorded serial (one read). A
        station without a record counts with the certificate it presents on its CSMS connection (a station enrolled
        before records were kept, and not on security profile 3, is enrolled once more); the record is written as soon
        as the station holds a valid certificate.
      - Without it, the PKI mount is scanned (C(list) on C(<mount>/certs) and one read per certificate it stores),
        so the cost grows with the number of certificates.
    type: str
  vault_kv_mount:
    description:
      - Mount path of the KV version 2 secrets engine of those records.
      - Run as the collection's action plugin, a task that leaves it out takes C(evcs_vault.kv_mount), and one that
        leaves out O(environment) takes C(evcs_environment).
    type: str
    default: secret
notes:
  - The policy needs C(read) on C(<vault_kv_mount>/data/evcs/<environment>/stations/*) and C(create), C(update) there
    to record a certificate (writes use check-and-set, so a concurrent change of the secret is merged, not lost).
'''
