# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Vault/OpenBao connection options, one authenticated client factory, and the PKI calls the collection makes.

The options follow community.hashi_vault's spelling where one exists; each falls back to the usual
environment variables (``VAULT_*``, then OpenBao's ``BAO_*``). Every call is retried with a bounded
exponential backoff on connection errors and 5xx answers; a 403 names the path and the capability the
policy is missing.
"""

from __future__ import annotations

import os
import time

try:
    import hvac
    import hvac.exceptions
    import requests
    HAS_HVAC = True
except ImportError:  # pragma: no cover - reported by vault_client()
    HAS_HVAC = False

_ENV = {
    'vault_url': ('VAULT_ADDR', 'BAO_ADDR'),
    'vault_token': ('VAULT_TOKEN', 'BAO_TOKEN'),
    'vault_ca_path': ('VAULT_CACERT', 'BAO_CACERT'),
    'vault_namespace': ('VAULT_NAMESPACE', 'BAO_NAMESPACE'),
}

#: the longest single wait between two attempts, in seconds
_MAX_BACKOFF = 8.0


class VaultError(Exception):
    """A Vault call failed; the message says what to fix."""


def vault_argument_spec():
    """The Vault connection options (documented in the ``evcs.provisioning.vault`` doc fragment)."""
    return dict(
        vault_url=dict(type='str'),
        vault_namespace=dict(type='str'),
        vault_ca_path=dict(type='path'),
        vault_validate_certs=dict(type='bool', default=True),
        vault_timeout=dict(type='int', default=30),
        vault_retries=dict(type='int', default=3),
        vault_auth_method=dict(type='str', default='token', choices=['token', 'approle', 'cert']),
        vault_auth_mount=dict(type='str'),
        vault_token=dict(type='str', no_log=True),
        vault_role_id=dict(type='str'),
        vault_secret_id=dict(type='str', no_log=True),
        vault_cert_auth_public_key=dict(type='path'),
        vault_cert_auth_private_key=dict(type='path', no_log=False),
        vault_cert_auth_role=dict(type='str'),
        vault_pki_mount=dict(type='str', default='pki'),
        vault_pki_role=dict(type='str', default='charging-station'),
    )


def vault_setting(params, name):
    """The option ``name`` from ``params``, else from its environment variables, else None."""
    value = params.get(name)
    if value:
        return value
    for variable in _ENV.get(name, ()):
        if os.environ.get(variable):
            return os.environ[variable]
    return None


def _verify(params, warn):
    if not params.get('vault_validate_certs', True):
        if warn is not None:
            warn('vault_validate_certs=false: the Vault server certificate is not verified; anyone on the path can '
                 'read the Vault token and the certificates it signs')
        return False
    return vault_setting(params, 'vault_ca_path') or True


def _login(client, params):
    method = params.get('vault_auth_method') or 'token'
    mount = params.get('vault_auth_mount')
    if method == 'token':
        token = vault_setting(params, 'vault_token')
        if not token:
            raise VaultError('vault_auth_method=token needs vault_token (or the environment variable VAULT_TOKEN/BAO_TOKEN)')
        client.token = token
    elif method == 'approle':
        if not params.get('vault_role_id') or not params.get('vault_secret_id'):
            raise VaultError('vault_auth_method=approle needs vault_role_id and vault_secret_id')
        client.auth.approle.login(role_id=params['vault_role_id'], secret_id=params['vault_secret_id'],
                                  mount_point=mount or 'approle')
    else:
        if not params.get('vault_cert_auth_public_key') or not params.get('vault_cert_auth_private_key'):
            raise VaultError('vault_auth_method=cert needs vault_cert_auth_public_key and vault_cert_auth_private_key')
        client.auth.cert.login(name=params.get('vault_cert_auth_role') or '', mount_point=mount or 'cert',
                               cert_pem=params['vault_cert_auth_public_key'],
                               key_pem=params['vault_cert_auth_private_key'])


class VaultPki(object):
    """The PKI calls of one mount, through one authenticated hvac client with bounded retries."""

    def __init__(self, client, mount, retries=3, backoff=0.5):
        self.client = client
        self.mount = mount.strip('/')
        self.retries = retries
        self.backoff = backoff
        #: how many write calls (sign/issue/revoke) this client made: tests and reports count them
        self.writes = 0

    def _call(self, capability, path, function, *args, **kwargs):
        attempt = 0
        while True:
            attempt += 1
            try:
                return function(*args, **kwargs)
            except hvac.exceptions.Forbidden:
                raise VaultError('Vault refused %s on %s (403): the token\'s policy needs the "%s" capability on path '
                                 '"%s"' % (capability, path, capability, path))
            except hvac.exceptions.InvalidPath:
                return None
            except hvac.exceptions.InvalidRequest as exc:
                raise VaultError('Vault rejected %s on %s: %s' % (capability, path, _errors(exc)))
            except (hvac.exceptions.InternalServerError, hvac.exceptions.VaultDown, hvac.exceptions.BadGateway,
                    hvac.exceptions.UnexpectedError, requests.exceptions.ConnectionError,
                    requests.exceptions.Timeout) as exc:
                if isinstance(exc, requests.exceptions.SSLError):
                    raise VaultError('TLS verification of Vault failed (%s): set vault_ca_path to the CA that issued '
                                     'its certificate' % exc)
                if attempt > self.retries:
                    raise VaultError('Vault %s on %s failed after %d attempts (%s): check vault_url and that Vault is '
                                     'unsealed and reachable' % (capability, path, attempt, exc.__class__.__name__))
                time.sleep(min(self.backoff * (2 ** (attempt - 1)), _MAX_BACKOFF))

    def _path(self, suffix):
        return '%s/%s' % (self.mount, suffix)

    def _read(self, suffix):
        path = self._path(suffix)
        return self._call('read', path, self.client.read, path)

    def _write(self, suffix, data):
        path = self._path(suffix)
        self.writes += 1
        answer = self._call('update', path, self.client.write_data, path, data=data)
        return (answer or {}).get('data') or {}

    def sign(self, role, csr_pem, common_name, ttl=None):
        """``<mount>/sign/<role>``: sign the station's CSR; returns certificate, issuing_ca, ca_chain, serial_number."""
        data = dict(csr=csr_pem, common_name=common_name)
        if ttl:
            data['ttl'] = ttl
        return self._write('sign/%s' % role, data)

    def issue(self, role, common_name, ttl=None, key_type='ec', key_bits=256):
        """``<mount>/issue/<role>``: Vault makes the key pair (factory mode); the answer holds the private key."""
        data = dict(common_name=common_name, key_type=key_type, key_bits=key_bits)
        if ttl:
            data['ttl'] = ttl
        return self._write('issue/%s' % role, data)

    def revoke(self, serial):
        """``<mount>/revoke``: revoke the certificate with this Vault serial (``aa:bb:..``)."""
        return self._write('revoke', dict(serial_number=serial))

    def list_serials(self):
        """Vault serials (``aa:bb:..``) of every certificate the mount issued and still stores."""
        path = self._path('certs')
        answer = self._call('list', path, self.client.list, path) or {}
        return [key.replace('-', ':') for key in answer.get('data', {}).get('keys', [])]

    def certificate(self, serial):
        """``<mount>/cert/<serial>``: {certificate, revocation_time, ...} or None."""
        answer = self._read('cert/%s' % serial)
        return (answer or {}).get('data')

    def issuing_ca(self):
        """The PEM of the mount's current (default) issuer."""
        answer = self._read('cert/ca') or {}
        return (answer.get('data') or {}).get('certificate')

    def crl_pem(self):
        """The mount's current CRL as PEM (empty string when the mount has none)."""
        path = self._path('crl/pem')
        return self._call('read', path, self.client.secrets.pki.read_crl, mount_point=self.mount) or ''


def _errors(exc):
    return '; '.join(getattr(exc, 'errors', None) or [str(exc)])


def vault_client(params, warn=None):
    """An authenticated hvac client for the options in ``params`` (login errors are retried like any call)."""
    if not HAS_HVAC:
        raise VaultError('the Python library hvac is required on the controller for Vault (pip install hvac)')
    url = vault_setting(params, 'vault_url')
    if not url:
        raise VaultError('vault_url is not set: give the Vault address (module option vault_url, inventory variable '
                         'evcs_vault.url or environment variable VAULT_ADDR/BAO_ADDR)')
    client = hvac.Client(url=url, verify=_verify(params, warn), timeout=params.get('vault_timeout') or 30,
                         namespace=vault_setting(params, 'vault_namespace'))
    pki = VaultPki(client, params.get('vault_pki_mount') or 'pki', retries=params.get('vault_retries', 3))
    login_path = 'auth/%s/login' % (params.get('vault_auth_mount') or params.get('vault_auth_method') or 'token')
    pki._call('update', login_path, _login, client, params)  # pylint: disable=protected-access
    return client


def vault_pki(params, warn=None):
    """The PKI client of ``vault_pki_mount``."""
    return VaultPki(vault_client(params, warn), params.get('vault_pki_mount') or 'pki',
                    retries=params.get('vault_retries', 3))
