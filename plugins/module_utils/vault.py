# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Vault/OpenBao connection options, one authenticated client factory, and the PKI calls the collection makes.

The options follow community.hashi_vault's spelling where one exists; each falls back to the usual
environment variables (``VAULT_*``, then OpenBao's ``BAO_*``). Every call is retried with a bounded
exponential backoff on connection errors and 5xx answers; a 403 names the path and the capability the
policy is missing. A write that is not idempotent (``pki/sign``, ``pki/issue``) is never retried blindly: before
another attempt its ``settled`` callback finds out whether the failed one took effect after all.
"""

from __future__ import annotations

import hashlib
import json
import os
import time

try:
    import fcntl
    HAS_FCNTL = True
except ImportError:  # pragma: no cover - not on POSIX: every task logs in on its own
    HAS_FCNTL = False

try:
    import hvac
    import hvac.exceptions
    import requests
    HAS_HVAC = True
except ImportError:  # pragma: no cover - reported by vault_client()
    HAS_HVAC = False

_ENV = {
    'vault_url': ('VAULT_ADDR', 'BAO_ADDR'),
    # read only with vault_token_from_env=true: a token lying around in the operator's shell is never used by accident
    'vault_token': ('VAULT_TOKEN', 'BAO_TOKEN'),
    'vault_ca_path': ('VAULT_CACERT', 'BAO_CACERT'),
    'vault_namespace': ('VAULT_NAMESPACE', 'BAO_NAMESPACE'),
}

#: the longest single wait between two attempts, in seconds
_MAX_BACKOFF = 8.0

#: set by the ``evcs.provisioning.vault_tokens`` callback for one run: a private directory where the run's Vault
#: token is kept, so that every task of the run uses the one login, and the callback revokes it at the end
RUN_DIR_ENV = 'EVCS_VAULT_RUN_DIR'
#: a run's token is replaced by a new login when less than this share of its TTL (and 5 minutes at least) remains
_RELOGIN_FRACTION = 1.0 / 3.0
#: warn when the given token (vault_auth_method=token) expires within this many seconds
TOKEN_EXPIRY_WARNING = 15 * 60


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
        vault_token_from_env=dict(type='bool', default=False),
        vault_role_id=dict(type='str'),
        vault_secret_id=dict(type='str', no_log=True),
        vault_cert_auth_public_key=dict(type='path'),
        vault_cert_auth_private_key=dict(type='path', no_log=False),
        vault_cert_auth_role=dict(type='str'),
        vault_pki_mount=dict(type='str', default='pki'),
        vault_pki_role=dict(type='str', default='charging-station'),
    )


def vault_kv_argument_spec():
    """Where station certificate records are kept (documented in ``evcs.provisioning.vault.KV``)."""
    return dict(
        vault_kv_mount=dict(type='str', default='secret'),
        environment=dict(type='str'),
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


def _given_token(params):
    """The token of vault_auth_method=token: vault_token, else VAULT_TOKEN/BAO_TOKEN only with vault_token_from_env."""
    if params.get('vault_token'):
        return params['vault_token']
    if params.get('vault_token_from_env'):
        return vault_setting(params, 'vault_token')
    return None


def _login(client, params):
    """Log in; returns the login's lease duration in seconds (None for a given token)."""
    method = params.get('vault_auth_method') or 'token'
    mount = params.get('vault_auth_mount')
    if method == 'token':
        token = _given_token(params)
        if not token:
            raise VaultError('vault_auth_method=token needs vault_token (the environment variable VAULT_TOKEN/BAO_TOKEN '
                             'is used only with vault_token_from_env=true, inventory evcs_vault.token_from_env)')
        client.token = token
        return None
    if method == 'approle':
        if not params.get('vault_role_id') or not params.get('vault_secret_id'):
            raise VaultError('vault_auth_method=approle needs vault_role_id and vault_secret_id')
        answer = client.auth.approle.login(role_id=params['vault_role_id'], secret_id=params['vault_secret_id'],
                                           mount_point=mount or 'approle')
    else:
        if not params.get('vault_cert_auth_public_key') or not params.get('vault_cert_auth_private_key'):
            raise VaultError('vault_auth_method=cert needs vault_cert_auth_public_key and vault_cert_auth_private_key')
        answer = client.auth.cert.login(name=params.get('vault_cert_auth_role') or '', mount_point=mount or 'cert',
                                        cert_pem=params['vault_cert_auth_public_key'],
                                        key_pem=params['vault_cert_auth_private_key'])
    return int(((answer or {}).get('auth') or {}).get('lease_duration') or 0)


class _RunTokens(object):
    """The Vault tokens of one run, one per login identity, in the run's private directory (``RUN_DIR_ENV``).

    The first task that needs Vault logs in and writes the token there (0600, under a lock, without following a
    link); every later task of the run uses it. A token nearing the end of its TTL is replaced by a new login and
    kept for revocation. The ``evcs.provisioning.vault_tokens`` callback revokes every token listed at the end of
    the run and removes the directory.
    """

    def __init__(self, directory, params):
        self.directory = directory
        identity = json.dumps([vault_setting(params, 'vault_url'), vault_setting(params, 'vault_namespace'),
                               params.get('vault_auth_method'), params.get('vault_auth_mount'),
                               params.get('vault_role_id'), params.get('vault_cert_auth_public_key'),
                               params.get('vault_cert_auth_role')])
        self.path = os.path.join(directory, hashlib.sha256(identity.encode('utf-8')).hexdigest()[:32] + '.json')

    def session(self, client, session, params):
        with open(self.path + '.lock', 'a') as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                entry = self._read()
                if entry and entry.get('token') and not _relogin_due(entry):
                    client.token = entry['token']
                    return session
                where = 'auth/%s/login' % (params.get('vault_auth_mount') or params.get('vault_auth_method'))
                lease = session.call('login', 'update', where, _login, client, params)
                retired = (entry or {}).get('retired', []) + ([entry['token']] if (entry or {}).get('token') else [])
                self._write(dict(url=client.url, namespace=vault_setting(params, 'vault_namespace'),
                                 verify=_verify(params, None), token=client.token, retired=retired,
                                 issued_at=time.time(), lease=lease or 0))
                return session
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read(self):
        try:
            with open(self.path) as handle:
                return json.load(handle)
        except (IOError, OSError, ValueError):
            return None

    def _write(self, entry):
        temporary = '%s.%d.tmp' % (self.path, os.getpid())
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_NOFOLLOW', 0), 0o600)
        with os.fdopen(fd, 'w') as handle:
            json.dump(entry, handle)
        os.rename(temporary, self.path)


def _relogin_due(entry):
    lease = entry.get('lease') or 0
    if not lease:
        return False
    remaining = entry.get('issued_at', 0) + lease - time.time()
    return remaining < max(300, lease * _RELOGIN_FRACTION)


def _run_tokens(params):
    """The run's token store, or None outside a run that has one (direct module calls, callback not enabled)."""
    directory = os.environ.get(RUN_DIR_ENV)
    if not (HAS_FCNTL and directory and os.path.isdir(directory) and not os.path.islink(directory)):
        return None
    return _RunTokens(directory, params)


def _warn_if_expiring(session, warn):
    """vault_auth_method=token: warn when the given token expires soon (one ``auth/token/lookup-self``)."""
    if warn is None:
        return
    try:
        answer = session.call('read', 'read', 'auth/token/lookup-self', session.client.auth.token.lookup_self) or {}
    except VaultError:
        return  # a policy without lookup-self: the token works or the task's first request says why not
    ttl = int((answer.get('data') or {}).get('ttl') or 0)
    if 0 < ttl < TOKEN_EXPIRY_WARNING:
        warn('the Vault token expires in %d minute(s): a long run may fail midway; renew it or use '
             'vault_auth_method=approle, which logs in once per run' % max(1, ttl // 60))


class VaultSession(object):
    """One authenticated hvac client (one login per task) and the count of requests made through it.

    Every attempt is counted by kind (``login``, ``list``, ``read``, ``write``): modules return the figures as
    ``vault_requests`` so a run shows what it cost Vault.
    """

    def __init__(self, client, retries=3, backoff=0.5):
        self.client = client
        self.retries = retries
        self.backoff = backoff
        self.requests = dict(login=0, list=0, read=0, write=0)

    def call(self, kind, capability, path, function, *args, **kwargs):
        """``function(*args, **kwargs)`` with bounded retries; a missing path is None, other failures VaultError.

        ``settled`` (keyword, for writes that are not idempotent): called after a timeout or 5xx, before the next
        attempt; when it finds that the failed attempt took effect it returns that answer, which is then returned
        instead of writing again.
        """
        settled = kwargs.pop('settled', None)
        attempt = 0
        while True:
            if attempt and settled is not None:
                found = settled()
                if found is not None:
                    return found
            attempt += 1
            self.requests[kind] += 1
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

    def read(self, path):
        return self.call('read', 'read', path, self.client.read, path)

    def write(self, path, data, settled=None):
        answer = self.call('write', 'update', path, self.client.write_data, path, data=data, settled=settled)
        return (answer or {}).get('data') or {}


class _Engine(object):
    """A secrets engine mounted at ``mount``, reached through a VaultSession."""

    def __init__(self, session, mount):
        self.session = session
        self.mount = mount.strip('/')

    def _path(self, suffix):
        return '%s/%s' % (self.mount, suffix)

    @property
    def writes(self):
        """How many write requests (sign/issue/revoke/KV writes) the session made."""
        return self.session.requests['write']


class VaultPki(_Engine):
    """The PKI calls of one mount."""

    def sign(self, role, csr_pem, common_name, ttl=None, settled=None):
        """``<mount>/sign/<role>``: sign the station's CSR; returns certificate, issuing_ca, ca_chain, serial_number.

        Not idempotent: after a timeout or 5xx, ``settled()`` looks for the certificate the failed attempt may have
        signed (``{'data': answer}`` or None) before Vault is asked again.
        """
        data = dict(csr=csr_pem, common_name=common_name, exclude_cn_from_sans=True)
        if ttl:
            data['ttl'] = ttl
        return self.session.write(self._path('sign/%s' % role), data, settled=settled or _unsettled)

    def issue(self, role, common_name, ttl=None, key_type='ec', key_bits=256, settled=None):
        """``<mount>/issue/<role>``: Vault makes the key pair (factory mode); the answer holds the private key.

        Not idempotent: after a timeout or 5xx, ``settled()`` deals with a certificate the failed attempt may have
        issued (its key is lost: revoke it) before Vault is asked again.
        """
        data = dict(common_name=common_name, key_type=key_type, key_bits=key_bits, exclude_cn_from_sans=True)
        if ttl:
            data['ttl'] = ttl
        return self.session.write(self._path('issue/%s' % role), data, settled=settled or _unsettled)

    def revoke(self, serial):
        """``<mount>/revoke``: revoke the certificate with this Vault serial (``aa:bb:..``)."""
        return self.session.write(self._path('revoke'), dict(serial_number=serial))

    def list_serials(self):
        """Vault serials (``aa:bb:..``) of every certificate the mount issued and still stores (one request per
        mount, but reading them all is O(certificates): prefer ``certificate(serial)`` with a known serial)."""
        path = self._path('certs')
        answer = self.session.call('list', 'list', path, self.session.client.list, path) or {}
        return [key.replace('-', ':') for key in answer.get('data', {}).get('keys', [])]

    def certificate(self, serial):
        """``<mount>/cert/<serial>``: {certificate, revocation_time, ...} or None."""
        answer = self.session.read(self._path('cert/%s' % serial))
        return (answer or {}).get('data')

    def issuing_ca(self):
        """The PEM of the mount's current (default) issuer."""
        answer = self.session.read(self._path('cert/ca')) or {}
        return (answer.get('data') or {}).get('certificate')

    def crl_pem(self):
        """The mount's current CRL as PEM (empty string when the mount has none)."""
        return self.session.call('read', 'read', self._path('crl/pem'), self.session.client.secrets.pki.read_crl,
                                 mount_point=self.mount) or ''


class VaultKv(_Engine):
    """One KV v2 mount: read a secret and merge keys into it without losing the keys others keep there."""

    #: how often a merge is retried when another writer changed the secret between read and write
    MERGE_ATTEMPTS = 3

    def read(self, path):
        """``(data, version)`` of the secret at ``path``: ``({}, 0)`` when it does not exist (or is deleted)."""
        answer = self.session.read(self._path('data/%s' % path)) or {}
        body = answer.get('data') or {}
        return dict(body.get('data') or {}), int((body.get('metadata') or {}).get('version') or 0)

    def merge(self, path, values, known=None):
        """Write ``values`` into the secret at ``path``, keeping its other keys (check-and-set on the version read).

        ``known`` is ``(data, version)`` from an earlier ``read`` (saves one request); when another writer changed
        the secret in between, it is read again and the merge repeated.
        """
        data, version = known if known is not None else self.read(path)
        for _attempt in range(self.MERGE_ATTEMPTS - 1):
            try:
                return self._write(path, dict(data, **values), version)
            except VaultError as exc:
                if 'check-and-set' not in str(exc):
                    raise
            data, version = self._reread(path)
        return self._write(path, dict(data, **values), version)

    def _write(self, path, data, version):
        return self.session.write(self._path('data/%s' % path), dict(data=data, options=dict(cas=version)))

    def replace(self, path, data, version):
        """Write ``data`` as the whole secret, only if its version is still ``version`` (check-and-set; 0: only if it
        does not exist). Returns the new version; VaultError when another writer changed it in between."""
        try:
            answer = self._write(path, data, version)
        except VaultError as exc:
            if 'check-and-set' in str(exc):
                raise VaultError('the secret %s/data/%s was changed by another writer since it was read (check-and-set '
                                 'on version %d failed): nothing was overwritten, run again' % (self.mount, path, version))
            raise
        return int(answer.get('version') or version + 1)

    def current(self, path):
        """``(data, version)`` for a check-and-set write: ``read``, with the version number of a secret whose newest
        version is deleted taken from its metadata."""
        return self._reread(path)

    def _reread(self, path):
        """``read`` again; a secret whose newest version is deleted has a version number all the same."""
        data, version = self.read(path)
        if not version:
            answer = self.session.read(self._path('metadata/%s' % path)) or {}
            version = int((answer.get('data') or {}).get('current_version') or 0)
        return data, version


def _unsettled():
    """The ``settled`` of a caller that cannot find out what a failed write did: refuse to write again."""
    raise VaultError('a Vault sign/issue request failed without an answer and may have been carried out; it is not '
                     'repeated blindly: run again, the station\'s certificate is then found and reused or replaced')


def _errors(exc):
    return '; '.join(getattr(exc, 'errors', None) or [str(exc)])


def vault_session(params, warn=None):
    """An authenticated VaultSession for the options in ``params`` (a login is retried like any call)."""
    if not HAS_HVAC:
        raise VaultError('the Python library hvac is required on the controller for Vault (pip install hvac)')
    url = vault_setting(params, 'vault_url')
    if not url:
        raise VaultError('vault_url is not set: give the Vault address (module option vault_url, inventory variable '
                         'evcs_vault.url or environment variable VAULT_ADDR/BAO_ADDR)')
    client = hvac.Client(url=url, verify=_verify(params, warn), timeout=params.get('vault_timeout') or 30,
                         namespace=vault_setting(params, 'vault_namespace'))
    session = VaultSession(client, retries=params.get('vault_retries', 3))
    method = params.get('vault_auth_method') or 'token'
    if method == 'token':
        _login(client, params)  # no request: the client only carries the token
        tokens = _run_tokens(params)
        if tokens is None or not os.path.exists(tokens.path + '.checked'):
            _warn_if_expiring(session, warn)
            if tokens is not None:
                open(tokens.path + '.checked', 'a').close()
        return session
    tokens = _run_tokens(params)
    if tokens is not None:
        return tokens.session(client, session, params)
    session.call('login', 'update', 'auth/%s/login' % (params.get('vault_auth_mount') or method), _login, client, params)
    return session


def vault_client(params, warn=None):
    """An authenticated hvac client for the options in ``params``."""
    return vault_session(params, warn).client


def vault_pki(params, warn=None):
    """The PKI client of ``vault_pki_mount``, on a session of its own."""
    return VaultPki(vault_session(params, warn), params.get('vault_pki_mount') or 'pki')
