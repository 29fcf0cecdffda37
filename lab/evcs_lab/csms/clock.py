"""Timestamps as OCPP 2.0.1 wants them: RFC 3339, UTC, with ``Z``."""

from __future__ import annotations

from datetime import datetime, timezone


def now_rfc3339() -> str:
    """The current time from a timezone-aware UTC datetime, e.g. ``2025-01-31T12:00:00.123Z``."""
    return datetime.now(timezone.utc).isoformat(timespec='milliseconds').replace('+00:00', 'Z')
