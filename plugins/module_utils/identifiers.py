# -*- coding: utf-8 -*-
# Copyright: evcs.provisioning contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Identifiers that end up in URLs and Vault paths: the one station id check, and one path segment per identifier.

Every module checks ``station_id`` itself (not only the validate role: decommission, renewal, direct module calls and
the CSMS inventory plugin do not pass through it), and every identifier that goes into a CSMS REST path or a Vault KV
path is quoted as exactly one path segment, so that ``../tariffs/x`` can never reach another record.
"""

from __future__ import annotations

import re

from urllib.parse import quote

from ansible_collections.evcs.provisioning.plugins.module_utils.context import ModuleFailure

#: OCPP: the station identity is at most 48 characters (CiString48) and appears in the CSMS URL, so it is limited to
#: URL-unreserved characters (RFC 3986); a dot only inside the id, never two in a row
_STATION_ID = re.compile(r'^[A-Za-z0-9_~-](?:[A-Za-z0-9._~-]{0,47})$')
STATION_ID_MAX = 48


def station_id_problem(value):
    """Why ``value`` is not a usable station id (a sentence), or None when it is."""
    if not isinstance(value, str) or not value:
        return 'it must be a non-empty string'
    if len(value) > STATION_ID_MAX:
        return 'it is %d characters long; OCPP allows at most %d' % (len(value), STATION_ID_MAX)
    if value.startswith('.'):
        return 'it starts with a dot'
    if '..' in value:
        return 'it contains ".."'
    if not _STATION_ID.match(value):
        return 'it may contain only letters, digits and - _ . ~ (OCPP identity in the CSMS URL)'
    return None


def checked_station_id(value, field='station_id'):
    """``value`` when it is a usable station id, else ModuleFailure naming the field, the value and the fix."""
    problem = station_id_problem(value)
    if problem:
        raise ModuleFailure('%s %r is not a valid station id: %s; use the station\'s OCPP identity (letters, digits and '
                            '- _ . ~, at most %d characters, no leading dot, no "..")'
                            % (field, value, problem, STATION_ID_MAX), kind='invalid_station_id')
    return value


def path_segment(value):
    """``value`` quoted as exactly one URL/Vault path segment (``/`` and every reserved character escaped)."""
    return quote(str(value), safe='')
