"""What the CSMS sent with SetNetworkProfile: OCPP 2.0.1 cannot read a configuration slot back, so the CSMS is the
authority on slot contents (as CitrineOS keeps its SetNetworkProfile requests).

Secrets in the connection data (``apn.apnPassword``, ``apn.simPin``, ``vpn.password``, ``vpn.key``) are never
kept: each becomes ``{"salt": <random hex>, "sha256": sha256(salt + value)}``, so a client that knows the value can
check it and nobody can read it back.
"""

from __future__ import annotations

import copy
import hashlib
import secrets

SECRET_FIELDS = {'apn': ('apnPassword', 'simPin'), 'vpn': ('password', 'key')}


def salted_hash(value) -> dict:
    salt = secrets.token_hex(16)
    return {'salt': salt, 'sha256': hashlib.sha256((salt + str(value)).encode('utf-8')).hexdigest()}


def storable(connection_data: dict) -> dict:
    """A copy of ``connection_data`` (schema spelling) with every secret field replaced by its salted hash."""
    stored = copy.deepcopy(connection_data)
    for section, fields in SECRET_FIELDS.items():
        part = stored.get(section) or {}
        for field in fields:
            if field in part:
                part[field] = salted_hash(part[field])
    return stored
