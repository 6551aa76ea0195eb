"""Per-owner rows that let identity's events commute with a service's own events of one owner.

`identity.anonymous_claimed`, `identity.user_deleted` and a service's own events of the same owner
(a guest's order, a payment) may arrive in any order or at once. A service that must get that
right keeps a table with these columns (`class CartOwner(OwnerRow, table=True)`, its own name in
its own database) and, inside its inbox transaction, locks the rows an event concerns with
`lock_owner` — an anonymous id before its user — recording the claim or the erasure as it goes.
Then a purchase heard after the claim is the user's, and nothing heard after the erasure is kept.

Housekeeping (`sweep`): a row with neither a claim nor an erasure carries nothing — `lock_owner`
would upsert exactly the same row — so it goes once untouched for the inbox window (no churn for
owners still active). A claim or an erasure is kept: the claim must turn a purchase of the
anonymous id into the user's however late it is paid, the erasure must drop whatever is heard
of the user later; there is one such row per claim or erasure, not per request.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Index, bindparam, func, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.columns import UtcDateTime, table_of, utcnow
from atelier_common.db import Statement
from atelier_common.housekeeping import Sweep, expired

# A row that learned nothing: the only kind the sweep deletes.
PLAIN = "claimed_by IS NULL AND erased_at IS NULL"


def owner_indexes(table: str) -> tuple[Index, ...]:
    """An owner table's `__table_args__`: the sweep's range, over plain rows only (claims and
    erasures stay for good; a pass need not read them again)."""
    plain = text(PLAIN)
    return (Index(f"ix_{table}_plain_updated_at", "updated_at", postgresql_where=plain, sqlite_where=plain),)


class OwnerRow(SQLModel):
    """The columns of an owner table (a base: each service declares its own table from it)."""

    owner_id: uuid.UUID = Field(primary_key=True)
    # The user who claimed this anonymous id (the first claim stays).
    claimed_by: uuid.UUID | None = None
    erased_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


@dataclass(frozen=True)
class OwnerState:
    claimed_by: uuid.UUID | None
    erased_at: datetime | None

    @property
    def erased(self) -> bool:
        return self.erased_at is not None


async def lock_owner(session: AsyncSession, table: type[OwnerRow], owner_id: uuid.UUID, *,
                     claimed_by: uuid.UUID | None = None, erased: bool = False,
                     now: datetime | None = None) -> OwnerState:
    """Upsert the owner's row and hold its lock until commit (a concurrent holder is waited for);
    record `claimed_by` (the first claim stays) and `erased`. The row after the change."""
    now = now or utcnow()
    [row] = await _upsert(table, claimed_by is not None, erased).rows(session, {
        "owner_id": owner_id, "claimed_by": claimed_by, "erased_at": now if erased else None,
        "created": now, "updated": now})
    return OwnerState(claimed_by=row[0], erased_at=row[1])


@functools.cache
def _upsert(table: type[OwnerRow], claims: bool, erases: bool) -> Statement:
    """The upsert of `lock_owner`, built once per table and kind of change (events only bind values)."""
    return Statement(_upsert_for(pg_insert, table, claims, erases),
                     sqlite=_upsert_for(sqlite_insert, table, claims, erases))


def _upsert_for(insert: Any, table: type[OwnerRow], claims: bool, erases: bool) -> Any:
    columns = table_of(table).c
    stmt = insert(table).values(
        owner_id=bindparam("owner_id"), claimed_by=bindparam("claimed_by"), erased_at=bindparam("erased_at"),
        created_at=bindparam("created"), updated_at=bindparam("updated"))
    changes: dict[str, Any] = {"updated_at": stmt.excluded.updated_at}
    if claims:
        changes["claimed_by"] = func.coalesce(columns.claimed_by, stmt.excluded.claimed_by)
    if erases:
        changes["erased_at"] = func.coalesce(columns.erased_at, stmt.excluded.erased_at)
    return (stmt.on_conflict_do_update(index_elements=["owner_id"], set_=changes)
            .returning(col(table.claimed_by), col(table.erased_at)))


async def buyer_of(session: AsyncSession, table: type[OwnerRow], owner_id: uuid.UUID, *,
                   now: datetime | None = None) -> uuid.UUID | None:
    """Whose purchase a payment of `owner_id` is: the user who claimed that anonymous id, if one
    did; None once that owner was erased. Both rows stay locked."""
    owner = await lock_owner(session, table, owner_id, now=now)
    if owner.claimed_by is not None and not owner.erased:
        owner_id, owner = owner.claimed_by, await lock_owner(session, table, owner.claimed_by, now=now)
    return None if owner.erased else owner_id


def sweep(table: type[OwnerRow], retention: timedelta) -> Sweep:
    """Housekeeping: the rows of `table` that learned nothing (no claim, no erasure), untouched
    for `retention` (the inbox window)."""
    return expired(f"{table.__tablename__}_plain", table,
                   lambda now: col(table.claimed_by).is_(None) & col(table.erased_at).is_(None)
                   & (col(table.updated_at) < now - retention))
