"""What the use cases share: the long-lived tools, the clock, signed URLs for stored files."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)

