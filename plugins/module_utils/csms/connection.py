# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One argspec builder and one factory for the CSMS connection options every station/backend module shares."""

from __future__ import annotations

import os

from ansible.module_utils.common.parameters import env_fallback

from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure
from ansible_collections.evcs.provisioning.plugins.module_utils.identifiers import checked_station_id
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CsmsError

_ENV = {
    'csms_url': ('EVCS_CSMS_URL',),
    'csms_token': ('EVCS_CSMS_TOKEN',),
    'csms_ca_path': ('EVCS_CSMS_CA_PATH',),
}


def csms_argument_spec():
    """The CSMS connection options (documented in the ``evcs.provisioning.csms`` doc fragment)."""
    return dict(
        csms_backend=dict(type='str', default='reference', choices=['reference']),
        csms_url=dict(type='str'),
        csms_token=dict(type='str', no_log=True),
        csms_ca_path=dict(type='path'),
        csms_validate_certs=dict(type='bool', default=True),
        csms_timeout=dict(type='int', default=30, fallback=(env_fallback, ['EVCS_CSMS_TIMEOUT'])),
        csms_retries=dict(type='int', default=3, fallback=(env_fallback, ['EVCS_CSMS_RETRIES'])),
    )


def station_argument_spec(**extra):
    """CSMS options plus the station identity; ``extra`` adds the module's own options."""
    spec = csms_argument_spec()
    spec['station_id'] = dict(type='str', required=True)
    spec.update(extra)
    return spec


def _from_env(params, name):
    value = params.get(name)
    if value:
        return value
    for var in _ENV.get(name, ()):
        if os.environ.get(var):
            return os.environ[var]
    return None


def csms_backend(params, warn=None):
    """Build the backend the options name. ``warn`` is called once when TLS verification is switched off."""
    from ansible_collections.evcs.provisioning.plugins.module_utils.csms.reference import ReferenceCsms

    url = _from_env(params, 'csms_url')
    token = _from_env(params, 'csms_token')
    if not url:
        raise CsmsError('csms_url is not set: give the CSMS REST endpoint (module option csms_url, inventory variable '
                        'evcs_csms_url or environment variable EVCS_CSMS_URL)', kind='config')
    if not token:
        raise CsmsError('csms_token is not set: give the CSMS API token (module option csms_token, inventory variable '
                        'evcs_csms_token or environment variable EVCS_CSMS_TOKEN)', kind='config')
    if not params.get('csms_validate_certs', True) and warn is not None:
        warn('csms_validate_certs=false: the CSMS certificate at %s is not verified; anyone on the path can read the '
             'API token and impersonate the CSMS: give csms_ca_path (inventory: evcs_csms.ca_path) instead' % url)
    if not url.lower().startswith('https://') and warn is not None:
        warn('csms_url %s is not https: the API token and every station setting cross the network in clear' % url)
    return ReferenceCsms(url, token, ca_path=_from_env(params, 'csms_ca_path'),
                         validate_certs=params.get('csms_validate_certs', True),
                         timeout=params.get('csms_timeout') or 30, retries=params.get('csms_retries', 3))


def task_backend(params, context):
    """The backend for a module run: ``csms_backend`` with a configuration error turned into the task's failure."""
    if params.get('station_id') is not None:
        checked_station_id(params['station_id'])
    try:
        return csms_backend(params, warn=context.warn)
    except CsmsError as exc:
        raise ModuleFailure(str(exc), error=exc.kind)
