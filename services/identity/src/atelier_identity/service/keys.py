"""Signing key rotation (`atelier keys`): rotate, retire, list.

Rules:
- The newest key not superseded signs; a rotation marks the previous ones `retire_after` = now +
  the longest access token lifetime (+ a minute for clocks), and they stay published until then,
  so every token signed before the rotation verifies until it expires: nobody is signed out.
- A key past its `retire_after` is no longer published (retirement is automatic); `retire`
  records it and erases its private half. Retiring a key early (`force`) is for a leaked key: the
  tokens it signed stop verifying, which is the point then, in every process, even those it had
  verified before: each retirement announces `identity.key_retired` (through the outbox, in the
  same transaction), which every verifier hears (`atelier_common.denylist`). The active key
  cannot be retired: rotate first.
- The key configured in settings (or the file the dev modes create) seeds an empty table; a
  configured key the table has never seen is rotated in, so changing the PEM setting is a
  rotation too, with the same overlap.

Entry points, not use cases: each opens its own transaction (the CLI and identity's start).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import outbox
from atelier_common.contracts.identity import KeyRetired, Storefront
from atelier_common.db import Database
from atelier_common.keys import SigningKey
from atelier_identity.errors import ActiveKeyNotRetirable, KeyNotFound, KeyStillPublished
from atelier_identity.models import SigningKeyRecord
from atelier_identity.repository import SigningKeyRepository, StorefrontRepository
from atelier_identity.service._clock import now

CLOCK_SKEW = timedelta(minutes=1)


@dataclass(frozen=True)
class KeyState:
    kid: str
    state: str  # active, published (until retire_after), retired
    created_at: datetime
    activated_at: datetime
    retire_after: datetime | None
    retired_at: datetime | None

    def as_json(self) -> dict[str, str | None]:
        return {"kid": self.kid, "state": self.state, "created_at": self.created_at.isoformat(),
                "activated_at": self.activated_at.isoformat(),
                "retire_after": self.retire_after.isoformat() if self.retire_after else None,
                "retired_at": self.retired_at.isoformat() if self.retired_at else None}


async def longest_stored_access_ttl(session: AsyncSession, install: timedelta) -> timedelta:
    """The longest access token lifetime in force: the install's (`install`) or a stored
    storefront's `access_token_minutes` (what the CLI, without the storefronts' copy, reads)."""
    rows = await StorefrontRepository(session).list_all()
    minutes = [Storefront.model_validate(row.data).policies.access_token_minutes for row in rows]
    return max([install, *(timedelta(minutes=value) for value in minutes if value is not None)])


async def adopt_configured_key(db: Database, key: SigningKey, *, access_ttl: timedelta) -> None:
    """Store the configured key: the first key of an empty table, or rotated in when it is new."""
    async with db.read_only() as session:
        if await session.get(SigningKeyRecord, key.kid) is not None:
            return
    # Another identity process starting at the same moment may store it first.
    with contextlib.suppress(IntegrityError):
        await rotate(db, access_ttl=access_ttl, key=key)


async def rotate(db: Database, *, access_ttl: timedelta, key: SigningKey | None = None) -> KeyState:
    """A new active key (`key`, else a generated one); the others stay published for the longest
    access token lifetime (`access_ttl`, the install's, or a storefront's) plus clock skew, and
    the ones past that are retired."""
    key = key or SigningKey.generate()
    at = now()
    async with db.transaction() as session:
        overlap = await longest_stored_access_ttl(session, access_ttl) + CLOCK_SKEW
        for record in await SigningKeyRepository(session).published(at):
            if record.retire_after is None:
                record.retire_after = at + overlap
                session.add(record)
        await _retire_due(session, await _all(session), at)
        record = SigningKeyRecord(kid=key.kid, private_pem=key.pem().decode(), created_at=at, activated_at=at)
        session.add(record)
        await session.flush()
    return _state(record, at)


async def retire(db: Database, kid: str | None = None, *, force: bool = False) -> list[KeyState]:
    """Record every key past its overlap as retired (or `kid` only; early only with `force`)."""
    at = now()
    async with db.transaction() as session:
        records = await _all(session)
        if kid is None:
            done = await _retire_due(session, records, at)
        else:
            record = next((r for r in records if r.kid == kid), None)
            if record is None:
                raise KeyNotFound(details={"kid": kid})
            if record.retired_at is None:
                if record.retire_after is None:
                    raise ActiveKeyNotRetirable(details={"kid": kid})
                if record.retire_after > at and not force:
                    raise KeyStillPublished(details={"kid": kid, "retire_after": record.retire_after.isoformat()})
                await _retire(session, record, at)
            done = [record]
        return [_state(r, at) for r in done]


async def list_keys(db: Database) -> list[KeyState]:
    at = now()
    async with db.read_only() as session:
        records = await _all(session)
    return [_state(r, at) for r in sorted(records, key=lambda r: r.activated_at, reverse=True)]


async def _all(session: AsyncSession) -> list[SigningKeyRecord]:
    return await SigningKeyRepository(session).all()


async def _retire_due(session: AsyncSession, records: list[SigningKeyRecord],
                      at: datetime) -> list[SigningKeyRecord]:
    due = [r for r in records if r.retired_at is None and r.retire_after is not None and r.retire_after <= at]
    for record in due:
        await _retire(session, record, at)
    return due


async def _retire(session: AsyncSession, record: SigningKeyRecord, at: datetime) -> None:
    record.retired_at = at
    record.retire_after = min(record.retire_after or at, at)
    record.private_pem = ""  # nothing is signed with it again: keep no copy of its secret half
    session.add(record)
    # Verifiers remember tokens they verified: told, they refuse this key's at once (a key past its
    # overlap signed none still valid; the event costs nothing then).
    await outbox.add(session, KeyRetired(kid=record.kid))


def _state(record: SigningKeyRecord, at: datetime) -> KeyState:
    if record.retired_at is not None or (record.retire_after is not None and record.retire_after <= at):
        state = "retired"
    elif record.retire_after is None:
        state = "active"
    else:
        state = "published"
    return KeyState(kid=record.kid, state=state, created_at=record.created_at, activated_at=record.activated_at,
                    retire_after=record.retire_after, retired_at=record.retired_at)
