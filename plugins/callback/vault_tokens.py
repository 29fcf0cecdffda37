# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One Vault login per run, and the run's tokens revoked at its end."""

from __future__ import annotations

DOCUMENTATION = r'''
name: vault_tokens
type: aggregate
short_description: Log in to Vault once per run and revoke the run's token at the end
version_added: 0.1.0
description:
  - Without this plugin every task that talks to Vault (certificates, passwords, commissioning) logs in on its own
    (AppRole or cert auth) and leaves a token behind that stays valid until its TTL runs out.
  - With it, the run gets a private directory (mode 0700) whose path the collection's Vault client finds in
    E(EVCS_VAULT_RUN_DIR). The first task that needs Vault logs in and keeps the token there (mode 0600); every later
    task of the run, on every host, uses that token. A token that nears the end of its TTL is replaced by a new login.
  - When the run ends (also when it fails or is interrupted), every token of the run is revoked
    (C(auth/token/revoke-self)) and the directory is removed. Nothing is printed unless a revocation fails.
  - A token the operator gives (vault_auth_method=token) belongs to the operator; it is used as it is and never
    revoked.
  - Enable it with C(callbacks_enabled = evcs.provisioning.vault_tokens) in C(ansible.cfg) or
    E(ANSIBLE_CALLBACKS_ENABLED).
requirements:
  - requests (comes with hvac)
'''

import atexit
import glob
import json
import os
import shutil
import tempfile

try:
    import requests
    HAS_REQUESTS = True
except ImportError:  # pragma: no cover - the Vault tasks report the missing library
    HAS_REQUESTS = False

from ansible.plugins.callback import CallbackBase

from ansible_collections.evcs.provisioning.plugins.module_utils.vault import RUN_DIR_ENV


def revoke_run_tokens(directory, warn=None):
    """Revoke every token kept in ``directory`` and remove it; the number of tokens revoked."""
    revoked = 0
    for path in sorted(glob.glob(os.path.join(directory, '*.json'))):
        try:
            with open(path) as handle:
                entry = json.load(handle)
        except (IOError, OSError, ValueError):
            continue
        for token in [entry.get('token')] + list(entry.get('retired') or []):
            if token and _revoke(entry, token, warn):
                revoked += 1
    shutil.rmtree(directory, ignore_errors=True)
    return revoked


def _revoke(entry, token, warn):
    headers = {'X-Vault-Token': token}
    if entry.get('namespace'):
        headers['X-Vault-Namespace'] = entry['namespace']
    url = '%s/v1/auth/token/revoke-self' % entry['url'].rstrip('/')
    try:
        response = requests.post(url, headers=headers, verify=entry.get('verify', True), timeout=10)
    except requests.RequestException as exc:
        if warn:
            warn('the run\'s Vault token could not be revoked at %s (%s); it expires with its TTL' % (url, exc))
        return False
    if response.status_code not in (200, 204, 403):  # 403: already expired or revoked
        if warn:
            warn('Vault answered %d to revoking the run\'s token; it expires with its TTL' % response.status_code)
        return False
    return response.status_code != 403


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'evcs.provisioning.vault_tokens'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._directory = None

    def v2_playbook_on_start(self, playbook):
        if self._directory is not None or not HAS_REQUESTS:
            return
        self._directory = tempfile.mkdtemp(prefix='evcs-vault-run-')  # 0700
        os.environ[RUN_DIR_ENV] = self._directory
        atexit.register(self._finish)

    def v2_playbook_on_stats(self, stats):
        self._finish()

    def _finish(self):
        directory, self._directory = self._directory, None
        if directory is None:
            return
        if os.environ.get(RUN_DIR_ENV) == directory:
            del os.environ[RUN_DIR_ENV]
        revoked = revoke_run_tokens(directory, self._display.warning)
        self._display.vv('evcs.provisioning.vault_tokens: %d Vault token(s) of this run revoked' % revoked)
