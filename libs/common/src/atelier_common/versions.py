"""Optimistic concurrency for staff writes: a stale console form is refused, not applied.

A resource a staffer edits carries a `version` (an opaque string, also its `ETag`); a write may
send the version its form was built from, in the body (`expected_version`) or as `If-Match`. When
the resource changed meanwhile the write answers 409 `STALE_VERSION` with the current state in
`details.current`, so the console shows it instead of overwriting it. Without a version the write
applies as before (the CLI and scripts have no form to be stale).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Header

from atelier_common.errors import AtelierError


class StaleVersion(AtelierError):
    code, status, default_message = ("STALE_VERSION", 409,
                                     "The resource changed since it was read; here is its current state")


def version_of(*parts: object) -> str:
    """A short opaque version of the values a resource's state is read from (e.g. its `updated_at`)."""
    text = "|".join(p.isoformat() if isinstance(p, datetime) else str(p) for p in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _if_match(if_match: Annotated[str | None, Header(max_length=100, description="a version (ETag) read before")]
              = None) -> str | None:
    if if_match is None:
        return None
    value = if_match.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"') or None


IfMatchDep = Annotated[str | None, Depends(_if_match)]


def check_version(expected: str | None, current: str, current_state: dict[str, Any]) -> None:
    """Raise `StaleVersion` (with `current_state`) when `expected` is given and is not `current`."""
    if expected is not None and expected != current:
        raise StaleVersion(details={"current": current_state, "version": current})
