"""Housekeeping: a service's declared sweeps delete what is past retention, in small batches.

A `Sweep` names a kind of row that may go and how to delete one batch of it. Services declare
theirs (`ServiceSpec.housekeeping`, a function of the service's context); the outbox, the inbox
and the idempotency keys bring their own (`outbox.sweep`, `inbox.sweep`, `idempotency.sweep`).
The `Housekeeper` runs every sweep batch after batch, each batch its own short transaction,
until a batch comes back short; then waits `housekeeping_interval_seconds` and starts again.

No long locks: a batch deletes at most `housekeeping_batch_size` rows picked by primary key
(`DELETE … WHERE key IN (SELECT key … LIMIT n FOR UPDATE SKIP LOCKED)` on PostgreSQL, so a row a
request or a consumer holds is skipped until the next pass and nobody waits for housekeeping);
on SQLite the one writer at a time holds the database only for that batch. Each pass logs what
every sweep removed and counts it in `atelier_housekeeping_rows_deleted{service,sweep}`.

Work that must follow the deletion outside the database (removing stored files) is returned by
the batch as `after_commit` callables, run once the batch committed: a crash in between leaves
an unreferenced file behind, never a row pointing at a missing file.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, delete, select, tuple_
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import metrics
from atelier_common.columns import table_of
from atelier_common.db import Database, on_postgres
from atelier_common.loops import BackgroundLoop

log = logging.getLogger("atelier.housekeeping")

AfterCommit = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Swept:
    """What one batch removed: how many rows, and what to do once that is committed."""

    count: int
    after_commit: Sequence[AfterCommit] = ()


# Deletes up to `limit` rows past retention at `now` in `session` (no commit).
BatchFn = Callable[[AsyncSession, datetime, int], Awaitable[Swept]]


@dataclass(frozen=True)
class Sweep:
    name: str
    batch: BatchFn


async def delete_batch(session: AsyncSession, model: type[SQLModel], where: ColumnElement[bool], limit: int, *,
                       returning: Sequence[Any] = ()) -> list[Row[Any]]:
    """Delete up to `limit` rows of `model` matching `where`, picked by primary key (skipping rows
    another transaction holds, on PostgreSQL); the deleted rows' `returning` columns (at least
    their keys, so the count is right)."""
    table = table_of(model)
    keys = list(table.primary_key.columns)
    picked = select(*keys).where(where).limit(limit)
    if on_postgres(session):
        picked = picked.with_for_update(skip_locked=True)
    target = keys[0].in_(picked) if len(keys) == 1 else tuple_(*keys).in_(picked)
    stmt = delete(table).where(target).returning(*(returning or keys))
    return list((await session.execute(stmt)).all())


def expired(name: str, model: type[SQLModel], where: Callable[[datetime], ColumnElement[bool]]) -> Sweep:
    """A sweep deleting the rows of `model` for which `where(now)` holds."""

    async def batch(session: AsyncSession, now: datetime, limit: int) -> Swept:
        return Swept(len(await delete_batch(session, model, where(now), limit)))

    return Sweep(name, batch)


@dataclass
class PassReport:
    removed: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)


class Housekeeper:
    """Runs a service's sweeps: `run_once()` for one pass, `start()`/`stop()` for the loop."""

    def __init__(self, db: Database, sweeps: Sequence[Sweep], *, service: str, batch_size: int = 500,
                 interval_seconds: float = 3600.0, start_delay_seconds: float = 60.0,
                 clock: Callable[[], datetime] | None = None) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.db = db
        self.sweeps = list(sweeps)
        self.service = service
        self.batch_size = batch_size
        self.interval_seconds = interval_seconds
        self.start_delay_seconds = start_delay_seconds
        self.clock = clock or (lambda: datetime.now(UTC))
        self.passes = 0
        # Each batch is a step: stop() waits for the batch under way.
        self._loop = BackgroundLoop(f"housekeeping of {service}")

    async def run_once(self) -> PassReport:
        """One pass over every sweep; a failing sweep is logged and the others still run."""
        report = PassReport()
        started = time.monotonic()
        for sweep in self.sweeps:
            try:
                report.removed[sweep.name] = await self._drain(sweep)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("housekeeping sweep %s of %s failed; the next pass tries again", sweep.name,
                              self.service)
                report.failed.append(sweep.name)
        self.passes += 1
        outcome = "error" if report.failed else "ok"
        metrics.HOUSEKEEPING_PASSES.labels(self.service, outcome).inc()
        if not report.failed:
            metrics.HOUSEKEEPING_LAST_SUCCESS.labels(self.service).set(time.time())
        log.info("housekeeping of %s removed %s rows in %.2fs: %s", self.service, sum(report.removed.values()),
                 time.monotonic() - started, ", ".join(f"{k}={v}" for k, v in report.removed.items()) or "no sweeps",
                 extra={"removed": report.removed, "failed": report.failed})
        return report

    async def _drain(self, sweep: Sweep) -> int:
        total = 0
        now = self.clock()  # one cut-off per pass: rows that age during it wait for the next one
        while True:
            async with self._loop.step(), self.db.transaction() as session:
                swept = await sweep.batch(session, now, self.batch_size)
            for follow_up in swept.after_commit:
                try:
                    await follow_up()
                except Exception as exc:  # an orphaned file is harmless; the rows are gone
                    log.warning("housekeeping %s: clean-up after commit failed: %s", sweep.name, exc)
            total += swept.count
            metrics.HOUSEKEEPING_ROWS.labels(self.service, sweep.name).inc(swept.count)
            if swept.count < self.batch_size:
                return total
            await asyncio.sleep(0)  # let requests and consumers in between batches

    async def start(self) -> None:
        self._loop.start(self._run())

    async def stop(self) -> None:
        await self._loop.stop()

    async def _run(self) -> None:
        await asyncio.sleep(self.start_delay_seconds)
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away: the next pass tries again
                log.warning("housekeeping of %s could not run (%s)", self.service, exc)
            await asyncio.sleep(self.interval_seconds)
