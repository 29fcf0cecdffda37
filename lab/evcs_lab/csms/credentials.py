"""Station basic-auth passwords: stored as salted PBKDF2-SHA256 hashes, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

_ALGORITHM = 'pbkdf2_sha256'
_ITERATIONS = 60_000


def hash_password(password: str, iterations: int = _ITERATIONS) -> str:
    """``pbkdf2_sha256$<iterations>$<salt hex>$<digest hex>``."""
    salt = secrets.token_bytes(16)
    digest = _digest(password, salt, iterations)
    return '%s$%d$%s$%s' % (_ALGORITHM, iterations, salt.hex(), digest.hex())


def verify_password(password: str, stored: str) -> bool:
    try:
        algorithm, iterations, salt, digest = stored.split('$')
    except ValueError:
        return False
    if algorithm != _ALGORITHM:
        return False
    candidate = _digest(password, bytes.fromhex(salt), int(iterations))
    return hmac.compare_digest(candidate, bytes.fromhex(digest))


def verify_any(password: str, stored_hashes: list[str]) -> bool:
    """True when ``password`` matches one of the hashes (every hash is checked, to keep timing flat)."""
    results = [verify_password(password, stored) for stored in stored_hashes]
    return any(results)


def _digest(password: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac('sha256', password.encode('utf-8'), salt, iterations)
