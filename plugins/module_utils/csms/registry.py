# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CSMS backends the collection knows: ``csms_backend`` chooses one by its ``NAME``.

Adding a backend: its file ``csms/<name>.py`` (a :class:`CsmsBackend` subclass), one entry in ``BACKENDS`` below, its
doc fragment ``plugins/doc_fragments/csms_<name>.py`` (and its name in the ``csms_backend`` choices of the ``csms``
fragment, which a unit test keeps equal to this list). The imports are static so that a module shipped to a target
(AnsiballZ) carries every backend.
"""

from __future__ import annotations

from ansible_collections.evcs.provisioning.plugins.module_utils.csms.citrineos import CitrineosCsms
from ansible_collections.evcs.provisioning.plugins.module_utils.csms.reference import ReferenceCsms

#: one line per backend
BACKENDS = (
    ReferenceCsms,
    CitrineosCsms,
)

#: the backend classes by ``csms_backend`` value
BY_NAME = dict((backend.NAME, backend) for backend in BACKENDS)


def backend_names():
    """The ``csms_backend`` choices, the default first."""
    return [backend.NAME for backend in BACKENDS]


def backend_class(name):
    """The backend class named ``name``; KeyError when there is none."""
    return BY_NAME[name]
