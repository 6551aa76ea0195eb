"""What every service's import entry point shares (`atelier import`, docs/moving-in.md): the
outcome of each source row (one shape, so the command line counts and reports them the same way)
and the table of which row each source primary key became (a second run finds it and skips).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeVar

from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.columns import UtcDateTime, utcnow
from atelier_common.db import Database

T = TypeVar("T")
# `IN (…)` lists of a bounded size: SQLite and PostgreSQL both cap a statement's parameters, and a
# dump holds 100,000 users.
IN_LIST = 500

Status = Literal["imported", "skipped", "refused"]


@dataclass(frozen=True)
class RowOutcome:
    model: str
    pk: str
    status: Status
    reason: str = ""


class DryRun(Exception):
    """Raised inside an import's transaction to roll back everything it validated."""


@asynccontextmanager
async def import_transaction(db: Database, *, dry_run: bool) -> AsyncIterator[AsyncSession]:
    """The one transaction of an import: committed, or with `dry_run` rolled back once every row
    was checked and written the same way."""
    try:
        async with db.transaction() as session:
            yield session
            if dry_run:
                raise DryRun()
    except DryRun:
        pass


class ImportRefRow(SQLModel):
    """The columns of a service's import-ref table (a base: each service declares its own table)."""

    # The source ("marbelle"), its model ("users.user", "order") and primary key, as the dump spells them.
    source: str = Field(primary_key=True, max_length=64)
    model: str = Field(primary_key=True, max_length=100)
    source_pk: str = Field(primary_key=True, max_length=100)
    target_id: uuid.UUID
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


def repeated(keys: Iterable[T]) -> set[T]:
    """The keys seen more than once: a source's primary key twice is two records that would become
    one (halves of each), so an import refuses every row that carries one."""
    return {key for key, times in Counter(keys).items() if times > 1}


DUPLICATE_KEY = "another row of the dump has the same primary key: none of them is imported"


def chunks(values: Sequence[T]) -> list[Sequence[T]]:
    """`values` in `IN (…)` lists of at most `IN_LIST`."""
    return [values[start:start + IN_LIST] for start in range(0, len(values), IN_LIST)]


async def known_refs(session: AsyncSession, table: type[ImportRefRow], source: str, model: str,
                     keys: Sequence[str]) -> dict[str, uuid.UUID]:
    """What each of `keys` (the source's primary keys of `model`) became, for those imported before."""
    found: dict[str, uuid.UUID] = {}
    for chunk in chunks(list(keys)):
        refs = await session.exec(select(table).where(col(table.source) == source, col(table.model) == model,
                                                      col(table.source_pk).in_(chunk)))
        found.update((ref.source_pk, ref.target_id) for ref in refs)
    return found


async def imported_ids_of(db: Database, table: type[ImportRefRow], source: str, model: str,
                          keys: Sequence[str]) -> dict[str, uuid.UUID]:
    """`known_refs` in a transaction of its own: a service's `imported_ids`, which another service's
    import asks for the rows it points at."""
    async with db.transaction() as session:
        return await known_refs(session, table, source, model, keys)
