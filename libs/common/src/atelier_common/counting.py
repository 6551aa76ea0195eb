"""A list page's `count`: exact up to a limit, PostgreSQL's planner estimate past it.

Counting a million matching rows exactly on every page reads them all; a broad list (every
product, every order, the whole ledger) needs the order of magnitude, not the last digit. So
`capped_count` counts at most `exact_limit + 1` rows and, past the limit, asks the planner how
many rows the query returns (EXPLAIN: no row is read). The route says so with
`X-Count-Estimated: true` (`COUNT_ESTIMATED_HEADER`); the page shape stays
`{count, next, previous, results}`. SQLite (the embedded mode's small tables) is always counted.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from sqlalchemy import Select, func, literal_column
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier_common.db import on_postgres

# Set on a page whose `count` is the planner's estimate.
COUNT_ESTIMATED_HEADER = "X-Count-Estimated"


class CountEstimates:
    """Estimated counts of broad queries, kept for `ttl` seconds: a million-row table's count need
    not be re-estimated on every page (it is marked as an estimate anyway)."""

    def __init__(self, *, ttl: float = 60.0, size: int = 1_000) -> None:
        self.ttl, self.size = ttl, size
        self._entries: dict[Hashable, tuple[float, int]] = {}

    def get(self, key: Hashable) -> int | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key: Hashable, value: int) -> None:
        if len(self._entries) >= self.size:
            self._entries.clear()  # rare: a fresh start beats bookkeeping for an LRU
        self._entries[key] = (time.monotonic() + self.ttl, value)


async def planned_rows(session: AsyncSession, stmt: Select[Any]) -> int:
    """How many rows PostgreSQL's planner expects `stmt` to return (no rows are read)."""
    compiled = stmt.compile(dialect=session.bind.dialect, compile_kwargs={"render_postcompile": True})  # type: ignore[union-attr]  # the services' sessions are always bound to their engine
    connection = await session.connection()
    plan = (await connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params)).scalar_one()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


async def capped_count(session: AsyncSession, stmt: Select[Any], exact_limit: int, *,
                       estimates: CountEstimates | None = None, key: Hashable | None = None,
                       planned: Callable[[Select[Any]], Awaitable[int]] | None = None) -> tuple[int, bool]:
    """(count, whether it is an estimate) of the rows `stmt` selects: exact up to `exact_limit`;
    past it (PostgreSQL) the planner's estimate, never below the limit. With `estimates` and `key`,
    an estimate is kept for a while and the query is not counted again meanwhile. `planned`: the
    caller's own estimate of a statement (catalog leaves a condition out), else `planned_rows`."""
    if estimates is not None and key is not None and (known := estimates.get(key)) is not None:
        return known, True
    # The capped count reads at most exact_limit + 1 rows, whatever the table's size, and none
    # of their columns (an index alone may answer it).
    capped = stmt.with_only_columns(literal_column("1"), maintain_column_froms=True).limit(exact_limit + 1).subquery()
    count = (await session.execute(sa_select(func.count()).select_from(capped))).scalar_one()
    if count <= exact_limit:
        return count, False
    if not on_postgres(session):  # the embedded mode's tables are small: count them
        exact = sa_select(func.count()).select_from(stmt.subquery())
        return (await session.execute(exact)).scalar_one(), False
    estimate = max(await (planned or (lambda s: planned_rows(session, s)))(stmt), exact_limit + 1)
    if estimates is not None and key is not None:
        estimates.put(key, estimate)
    return estimate, True
