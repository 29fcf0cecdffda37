# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""No secret over plain ws:// without consent.

A station on security profile 1 talks to the CSMS over unencrypted ws://: a BasicAuthPassword, APN password, SIM PIN or
VPN secret sent to it can be read by anyone on the path. Sending one warns, and is refused unless the inventory says
``evcs_allow_plaintext_secrets: true`` (module option ``allow_plaintext_secrets``); the consent is then recorded in the
task's diff, so the audit trail keeps it.
"""

from __future__ import annotations

from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure

#: what the diff records when secrets went over ws:// with consent
CONSENT = 'sent over ws:// (security profile 1) with evcs_allow_plaintext_secrets=true'


def plaintext_argument_spec():
    return dict(allow_plaintext_secrets=dict(type='bool', default=False))


def guard_plaintext(params, context, security_profile, secrets):
    """Before sending ``secrets`` (names) to a station on ``security_profile``: None when the connection is encrypted
    or nothing secret is sent; the consent note (for the diff) when profile 1 and the inventory opted in; otherwise
    ModuleFailure, before anything is sent."""
    if not secrets or security_profile is None or int(security_profile) != 1:
        return None
    names = ', '.join(secrets)
    if not params.get('allow_plaintext_secrets'):
        raise ModuleFailure(
            'station %s runs security profile 1 (plain ws://): sending %s would expose it to anyone on the network path; '
            'nothing was sent. Move the station to security profile 2 or 3 first, or opt in for this inventory with '
            'evcs_allow_plaintext_secrets: true (audited)' % (params.get('station_id'), names),
            kind='plaintext_secret_refused')
    context.warn('station %s runs security profile 1 (plain ws://): %s sent unencrypted because the inventory sets '
                 'evcs_allow_plaintext_secrets=true' % (params.get('station_id'), names))
    return CONSENT
