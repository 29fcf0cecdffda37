# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One argspec builder and one factory for the CSMS connection options every station/backend module shares, and the
one way a stage reports what its backend cannot do."""

from __future__ import annotations

import os
import threading

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import env_fallback, _list_no_log_values

from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.base import CapabilityMissing, CsmsError
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.registry import backend_class, backend_names
from ansible_collections.evcs.provisioning.plugins.module_utils.identifiers import checked_station_id
from ansible_collections.evcs.provisioning.plugins.module_utils.station.protocol import OCPP_VERSIONS
from ansible_collections.evcs.provisioning.plugins.module_utils.station import snapshot

_ENV = {
    'csms_url': ('EVCS_CSMS_URL',),
    'csms_token': ('EVCS_CSMS_TOKEN',),
    'csms_ca_path': ('EVCS_CSMS_CA_PATH',),
}
_WHERE = {
    'csms_url': 'the CSMS endpoint (module option csms_url, inventory variable evcs_csms.url or environment variable '
                'EVCS_CSMS_URL)',
    'csms_token': 'the CSMS API token (module option csms_token, inventory variable evcs_csms.token or environment '
                  'variable EVCS_CSMS_TOKEN)',
}


def csms_argument_spec():
    """The CSMS connection options (documented in the ``evcs.provisioning.csms`` doc fragment)."""
    names = backend_names()
    return dict(
        csms_backend=dict(type='str', default=names[0], choices=names),
        csms_url=dict(type='str'),
        csms_token=dict(type='str', no_log=True),
        csms_ca_path=dict(type='path'),
        csms_validate_certs=dict(type='bool', default=True),
        csms_timeout=dict(type='int', default=30, fallback=(env_fallback, ['EVCS_CSMS_TIMEOUT'])),
        csms_retries=dict(type='int', default=3, fallback=(env_fallback, ['EVCS_CSMS_RETRIES'])),
        csms_options=dict(type='dict', default={}, no_log=False),
    )


def station_argument_spec(**extra):
    """CSMS options plus the station identity and the OCPP version the inventory declares for it; ``extra`` adds the
    module's own options."""
    spec = csms_argument_spec()
    spec['station_id'] = dict(type='str', required=True)
    spec['ocpp_version'] = dict(type='str', choices=sorted(OCPP_VERSIONS))
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


def backend_options(cls, options, secret=None):
    """``csms_options`` validated against the backend's own argument spec; its no_log values go to ``secret``."""
    options = dict(options or {})
    validation = ArgumentSpecValidator(cls.OPTIONS).validate(options)
    if secret is not None:
        for value in _list_no_log_values(cls.OPTIONS, options):
            secret(value)
    if validation.error_messages:
        raise CsmsError('csms_options for backend %s: %s: see the doc fragment evcs.provisioning.csms_%s and '
                        'docs/BACKENDS.md (inventory: evcs_csms.options)'
                        % (cls.NAME, '; '.join(validation.error_messages), cls.NAME), kind='config')
    return validation.validated_parameters


#: per thread, when a fleet run keeps its clients (``keep_backends``): one backend (HTTP keep-alive session) per connection
_KEPT = threading.local()


class keep_backends(object):  # pylint: disable=invalid-name  # used as a context manager, named like one
    """Within ``with keep_backends():`` the calling thread reuses one backend per CSMS connection instead of building one
    (a new HTTP session, a new TCP and TLS handshake) per stage: the fleet verify runs many stages per thread."""

    def __enter__(self):
        _KEPT.backends = {}
        return self

    def __exit__(self, *exc):
        _KEPT.backends = None
        return False


def _connection_key(params):
    return repr(sorted((key, repr(value)) for key, value in params.items() if key.startswith('csms_')))


def csms_backend(params, warn=None, secret=None):
    """Build the backend ``csms_backend`` names. ``warn`` is called once when TLS verification is switched off or the
    URL is not https; ``secret`` receives the secret values of the backend's own options (to be masked)."""
    kept = getattr(_KEPT, 'backends', None)
    if kept is None:
        return _new_backend(params, warn, secret)
    key = _connection_key(params)
    if key not in kept:
        kept[key] = _new_backend(params, warn, secret)
    elif secret is not None:
        backend_options(backend_class(params.get('csms_backend') or backend_names()[0]), params.get('csms_options'), secret)
    return kept[key]


def _new_backend(params, warn=None, secret=None):
    name = params.get('csms_backend') or backend_names()[0]
    try:
        cls = backend_class(name)
    except KeyError:
        raise CsmsError('csms_backend %r is not a known CSMS backend: choose one of %s (inventory: evcs_csms.backend)'
                        % (name, ', '.join(backend_names())), kind='config')
    resolved = dict(params, csms_url=_from_env(params, 'csms_url'), csms_token=_from_env(params, 'csms_token'),
                    csms_ca_path=_from_env(params, 'csms_ca_path'))
    for option in cls.REQUIRES:
        if not resolved.get(option):
            raise CsmsError('%s is not set: give %s' % (option, _WHERE.get(option, option)), kind='config')
    url = resolved.get('csms_url')
    if url and not resolved.get('csms_validate_certs', True) and warn is not None:
        warn('csms_validate_certs=false: the CSMS certificate at %s is not verified; anyone on the path can read the '
             'API token and impersonate the CSMS: give csms_ca_path (inventory: evcs_csms.ca_path) instead' % url)
    if url and not url.lower().startswith('https://') and warn is not None:
        warn('csms_url %s is not https: the API token and every station setting cross the network in clear' % url)
    options = backend_options(cls, params.get('csms_options'), secret)
    return cls.from_params(resolved, options, warn=warn)


def task_backend(params, context):
    """The backend for a module run: ``csms_backend`` with a configuration error turned into the task's failure."""
    if params.get('station_id') is not None:
        checked_station_id(params['station_id'])
    try:
        backend = csms_backend(params, warn=context.warn, secret=context.add_secret)
    except CsmsError as exc:
        raise ModuleFailure(str(exc), error=exc.kind)
    return with_snapshot(backend, params, context)


def with_snapshot(backend, params, context):
    """``backend`` answering the host station's reads from the run's snapshot (``station.snapshot``): only for the task's
    first backend of the host's own station (a second CSMS, as in a move, or another station is talked to directly)."""
    station_id = params.get('station_id')
    if station_id is None or station_id != getattr(context, 'station_id', None):
        return backend
    csms = (backend.NAME, params.get('csms_url'))
    first = context.snapshot_backend
    if first is None:
        # the capability fact's limits, else the station model file's, read only if a limit is needed (never for 1.6)
        limits = snapshot.capability_limits(context.task_vars, station_id) or getattr(context, 'snapshot_limits', None)
        context.snapshot_backend = snapshot.SnapshotBackend(
            backend, station_id, fact=context.task_vars.get(snapshot.SNAPSHOT_FACT), plan=context.snapshot_plan, csms=csms,
            limits=limits)
        return context.snapshot_backend
    return first.sharing(backend) if first.csms == csms else backend


def unverifiable(context, missing, what=None):
    """Report a :class:`CapabilityMissing` as a warning and in the result's ``unverifiable`` list (which the verify
    report shows); ``what`` overrides what it names. Returns the line. Never drift, never a failure."""
    line = missing.describe(what) if what is not None else str(missing)
    if line not in context.unverifiable:
        context.unverifiable.append(line)
        context.warn(line)
    return line


def lacks(backend, capability, context, what):
    """True (and reported as :func:`unverifiable`) when ``backend`` lacks ``capability``; the stage skips that part."""
    if backend.has(capability):
        return False
    unverifiable(context, CapabilityMissing(backend.NAME, capability, what))
    return True
