"""The transactional outbox: events are rows written in the same transaction as the change.

`add(session, event)` queues a row, written with the transaction's other events in one INSERT
just before its COMMIT (`db.before_commit`). Every service process publishes a transaction's events
straight after its commit, from memory, then marks the rows sent (`OutboxRelay.committed`,
PostgreSQL): no statement stands between the commit and the broker, whichever role wrote them.
The relay role's batches take what is left, claiming unsent rows and marking them in the
transaction that publishes them: rows of a publish that failed or of a process that stopped before
marking, rows of writers without a bus (the CLI; PostgreSQL NOTIFY wakes the relay), and SQLite's
(the embedded mode publishes through the batches only). A batch leaves alone the rows younger than
`PUBLISH_GRACE_SECONDS`, which their own process is publishing: at once, or, when its broker was
not connected or was lost under the publish (a cluster's node gone), again as soon as the bus is
connected to another node. A broker outage delays events; it never loses them. A crash between a publish and its mark publishes the event again later:
consumers apply each event once (the inbox).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from opentelemetry import propagate
from sqlalchemy import ARRAY, JSON, Column, DateTime, Index, all_, bindparam, func, insert, inspect, text, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.columns import UtcDateTime, table_of
from atelier_common.db import Database, Statement, before_commit, on_postgres, one_of
from atelier_common.events.bus import EventBus
from atelier_common.events.envelope import Envelope, IntegrationEvent
from atelier_common.housekeeping import Sweep, expired
from atelier_common.loops import STOP_TIMEOUT_SECONDS, BackgroundLoop, woken_or_timed_out
from atelier_common.settings import libpq_conninfo
from atelier_common.telemetry import current_request_id

log = logging.getLogger("atelier.outbox")
NOTIFY_CHANNEL = "atelier_outbox"
# How long a relay's sweep leaves a new row to the process that wrote it: far longer than a publish
# straight from a commit takes (one broker round trip), short enough that a row whose process
# failed to publish it goes out within seconds.
PUBLISH_GRACE_SECONDS = 5.0
# The longest a relay waits between sweeps while the broker is failing: what it owes (a revocation)
# goes out at most this long after the broker is back (docs/security.md).
MAX_BACKOFF_SECONDS = 30.0
# Longer than a publish from a commit can take (two tries within the grace, each bounded by the
# bus's confirm timeout) and its mark: an id older is a hung publish, left to the batches.
IN_FLIGHT_FORGOTTEN_SECONDS = 60.0
# How often a publish waiting for the broker asks whether the bus is connected again.
RECONNECT_POLL_SECONDS = 0.05


def _now() -> datetime:
    return datetime.now(UTC)


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_unsent", "sent_at", "occurred_at"),)

    id: uuid.UUID = Field(primary_key=True)
    type: str = Field(max_length=100)
    version: int = 1
    producer: str = Field(max_length=50)
    # Aware on SQLite too: consumers compare it with aware timestamps (the embedded mode).
    occurred_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    correlation_id: str | None = Field(default=None, max_length=100)
    traceparent: str | None = Field(default=None, max_length=100)
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    attempts: int = 0



# Built once: every relay pass runs these with new parameters only.
_TABLE = table_of(OutboxMessage)
_NOTIFY = text(f"NOTIFY {NOTIFY_CHANNEL}")
_UNSENT = (select(_TABLE.c.id).where(_TABLE.c.sent_at.is_(None))
           .order_by(_TABLE.c.occurred_at).limit(bindparam("batch")))
_ENVELOPE_COLUMNS = ("id", "type", "version", "producer", "occurred_at", "correlation_id", "traceparent", "data")
# Claimed and marked in one statement; the transaction stays open while the batch is published,
# so a failed publish rolls the marks back and the rows are published again.
# On PostgreSQL, rows being published straight after their commit are left to it: this process's
# (`in_flight`), and any written after `written_before` (another process's, within the grace).
_IN_FLIGHT = bindparam("in_flight", type_=ARRAY(_TABLE.c.id.type))
_CLAIM = {
    locking: (update(_TABLE).where(_TABLE.c.id.in_((
        _UNSENT.where(_TABLE.c.id != all_(_IN_FLIGHT), _TABLE.c.occurred_at <= bindparam("written_before"))
        .with_for_update(skip_locked=True) if locking
        else _UNSENT).scalar_subquery()))
              .values(sent_at=bindparam("now"), attempts=_TABLE.c.attempts + 1)
              .returning(*(_TABLE.c[name] for name in _ENVELOPE_COLUMNS)))
    for locking in (True, False)
}
# A batch's rows that turned out to be a commit's own to publish (`flush`): unclaimed again.
_GIVE_BACK = (update(_TABLE).where(one_of(_TABLE.c.id, "ids"))
              .values(sent_at=None, attempts=_TABLE.c.attempts - 1))
# After a publish straight from a commit: one statement, on its own (no transaction to open).
_MARK_SENT = Statement(update(_TABLE).where(one_of(_TABLE.c.id, "ids"), _TABLE.c.sent_at.is_(None))
                        .values(sent_at=bindparam("now"), attempts=_TABLE.c.attempts + 1))


async def add(session: AsyncSession, event: IntegrationEvent, *, correlation_id: str | None = None) -> uuid.UUID:
    """Queue `event` in this transaction. The producer is the session's service.

    The row keeps the current trace context (the relay's publish continues the request's trace)
    and, unless given, the current request id (or the handled event's) as `correlation_id`.
    """
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    env = Envelope.wrap(event, producer=session.info.get("service", "unknown"),
                        correlation_id=correlation_id or current_request_id(),
                        traceparent=carrier.get("traceparent"))
    message: OutboxMessage | None = None
    if session.in_nested_transaction():
        # An ORM row, which a rollback of the savepoint takes back with the rest of it.
        message = OutboxMessage(id=env.id, type=env.type, version=env.version, producer=env.producer,
                                occurred_at=env.occurred_at, correlation_id=env.correlation_id,
                                traceparent=env.traceparent, data=env.data)
        session.add(message)
    else:
        # Written just before the COMMIT, with the transaction's other events in one INSERT: no ORM
        # object and no flush per event (`_write_pending`).
        pending = session.info.get(_PENDING)
        if pending is None:
            pending = session.info[_PENDING] = []
            before_commit(session, _write_pending)
        pending.append(env)
    session.info.setdefault("outbox_envelopes", []).append((env, message))  # for `OutboxRelay.committed`
    if not session.info.get("outbox_written"):
        session.info["outbox_written"] = True
        # Delivered at commit to relays listening in other processes, for a writer that does not
        # publish its own events (`OutboxRelay.committed`; the CLI).
        if not session.info.get("publishes_own_events") and on_postgres(session):
            with session.no_autoflush:  # not a flush of the row just added, alone
                await session.execute(_NOTIFY)
    return env.id


_PENDING = "atelier.outbox.pending"
# Rows per INSERT of `_write_pending`: one statement per size up to this, compiled once each.
_ROWS_PER_INSERT = 50


async def _write_pending(session: AsyncSession) -> None:
    """The `before_commit` step of a transaction that added events outside a savepoint."""
    pending: list[Envelope] = session.info.pop(_PENDING, [])
    for start in range(0, len(pending), _ROWS_PER_INSERT):
        chunk = pending[start:start + _ROWS_PER_INSERT]
        await _insert_rows(len(chunk)).execute(session, {
            f"{name}_{i}": getattr(env, name) for i, env in enumerate(chunk) for name in _ENVELOPE_COLUMNS})


@functools.cache
def _insert_rows(count: int) -> Statement:
    # `attempts` given: a column default is left to SQLAlchemy's execution, which a Statement skips.
    rows = [{"attempts": 0, **{name: bindparam(f"{name}_{i}", type_=_TABLE.c[name].type) for name in _ENVELOPE_COLUMNS}}
            for i in range(count)]
    return Statement(insert(_TABLE).values(rows))


class OutboxRelay:
    def __init__(self, db: Database, bus: EventBus, *, poll_seconds: float = 2.0, batch: int = 200,
                 grace_seconds: float = PUBLISH_GRACE_SECONDS) -> None:
        """`grace_seconds`: what the loop's sweeps leave to the processes publishing their own rows."""
        self.db = db
        self.bus = bus
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.grace_seconds = grace_seconds
        self._wake = asyncio.Event()
        # Each batch is a step (one at a time): stop() waits for the batch under way.
        self._loop = BackgroundLoop("outbox relay")
        self._listener: asyncio.Task[None] | None = None
        # Events published straight from their commit (`committed`): a task per commit's publish,
        # the ids confirmed and not yet marked sent with the one task that marks them, and the ids
        # in flight (with since when), which this relay's batches leave alone meanwhile.
        self._publishing: set[asyncio.Task[None]] = set()
        self._to_mark: list[uuid.UUID] = []
        self._marker: asyncio.Task[None] | None = None
        self._in_flight: dict[uuid.UUID, float] = {}
        self._autocommit = db.engine.execution_options(isolation_level="AUTOCOMMIT")

    def wake(self) -> None:
        self._wake.set()

    def publish_own_commits(self) -> None:
        """Every commit of this process publishes its events from memory (`committed`), first
        thing after the COMMIT; `outbox.add` then sends no NOTIFY."""
        self.db.before_session_commit(self.committing)
        self.db.on_session_commit_failed(self.commit_failed)
        self.db.on_session_commit(self.committed, first=True)
        self.db.session_info["publishes_own_events"] = True

    def committing(self, info: dict[str, Any]) -> None:
        """`Database.before_session_commit` hook: a transaction's events are in flight from before
        its COMMIT is sent. Marked after it, a batch claiming at the moment the COMMIT lands (a
        drain's, which has no grace) would find them committed, not yet in flight, and publish them
        a second time. A commit that fails gives them back (`commit_failed`)."""
        if self.db.is_sqlite:
            return
        now = time.monotonic()
        for envelope, _ in info.get("outbox_envelopes", ()):
            self._in_flight[envelope.id] = now

    def commit_failed(self, info: dict[str, Any]) -> None:
        """`Database.on_session_commit_failed` hook: no after-commit hook publishes a transaction
        whose COMMIT raised or was cancelled (a consumer's, when its broker channel closed), though
        it may have committed. Its rows are the batches' at once, not after IN_FLIGHT_FORGOTTEN_SECONDS."""
        self._forget([envelope.id for envelope, _ in info.pop("outbox_envelopes", ())])

    async def committed(self, info: dict[str, Any]) -> None:
        """`Database.on_session_commit` hook of every service process, whatever its roles: the
        events the transaction wrote are published now, from memory, then their rows marked sent.
        A relay taking the rows back first (a transaction: BEGIN, the claim, COMMIT; in another
        process, after a NOTIFY) put three round trips or more between each commit and the broker,
        on every hop of a checkout. SQLite (the embedded mode: no round trips, one writer at a
        time) wakes the batches instead."""
        envelopes = []
        for envelope, message in info.pop("outbox_envelopes", ()):
            if message is None or inspect(message).persistent:
                envelopes.append(envelope)
            else:  # a row a savepoint's rollback took back: SQLAlchemy expunged it
                self._in_flight.pop(envelope.id, None)
        if not envelopes:
            return
        if self.db.is_sqlite:
            self._forget([envelope.id for envelope in envelopes])
            self.wake()
            return
        # Sent now, in a context of its own (each publish continues its event's trace from the
        # envelope), without waiting for the broker's confirms of the transactions committed
        # before: a consumer gets the event as soon as the broker routes it.
        task = asyncio.create_task(self._publish_committed(envelopes), context=contextvars.Context())
        self._publishing.add(task)
        task.add_done_callback(self._publishing.discard)

    async def _publish_committed(self, envelopes: list[Envelope]) -> None:
        ids = [envelope.id for envelope in envelopes]
        try:
            await self._publish_while_in_flight(envelopes)
        except Exception as exc:  # a relay's sweep publishes them once the grace is over
            log.warning("outbox: publishing %d committed events failed (%s); the relay retries", len(ids), exc)
            self._forget(ids)
            self.wake()
            return
        # Confirmed: marked sent by one task, one UPDATE at a time of everything confirmed meanwhile.
        self._to_mark.extend(ids)
        if self._marker is None or self._marker.done():
            self._marker = asyncio.create_task(self._mark_sent(), context=contextvars.Context())

    async def _publish_while_in_flight(self, envelopes: list[Envelope]) -> None:
        """Publish, and if the broker was not there (not connected yet, or lost under the publish:
        a cluster's node gone), publish again from memory once the bus is connected again (to
        another node). Only within the grace, while every relay's sweeps leave these rows to this
        process: past it, they are the sweeps' (a sweep would have waited out the grace first)."""
        deadline = time.monotonic() + self.grace_seconds
        for attempt in range(2):
            while not await self.bus.ready():
                if time.monotonic() >= deadline:
                    raise ConnectionError("the broker is not connected")
                await asyncio.sleep(RECONNECT_POLL_SECONDS)
            try:
                await self.bus.publish(envelopes)
                return
            except Exception as exc:
                if attempt or time.monotonic() >= deadline:
                    raise
                log.info("outbox: a publish failed (%s); again once the broker is connected", exc)

    async def _mark_sent(self) -> None:
        while self._to_mark:
            ids, self._to_mark = self._to_mark, []
            try:
                async with self._autocommit.connect() as conn:
                    await _MARK_SENT.execute_on(conn, {"ids": ids, "now": _now()})
            except Exception as exc:  # published: a later batch publishes them again, consumers apply them once
                log.warning("outbox: marking %d published events sent failed (%s)", len(ids), exc)
            finally:
                self._forget(ids)

    def _forget(self, ids: list[uuid.UUID]) -> None:
        for id_ in ids:
            self._in_flight.pop(id_, None)

    async def settle(self) -> int:
        """Wait until what was committed has been published from memory and marked sent; return
        how many events were still waiting or on their way."""
        waiting = len(self._in_flight)
        while pending := self._pending():  # a publish that ends may start the marker
            await asyncio.gather(*pending, return_exceptions=True)
        return waiting

    def _pending(self) -> list[asyncio.Task[None]]:
        marking = [self._marker] if self._marker is not None and not self._marker.done() else []
        return [*self._publishing, *marking]

    async def flush_all(self) -> int:
        """The bus's drain (tests, CLI): what is being published from commits, then one batch of
        what is left; how many events either published."""
        return await self.settle() + await self.flush()

    async def start(self, *, listen: bool = False) -> None:
        self._loop.start(self._run())
        if listen and not self.db.is_sqlite:
            self._listener = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        # Publishes from commits finish (bounded): cut short, they would only be published again.
        try:
            async with asyncio.timeout(STOP_TIMEOUT_SECONDS):
                await self.settle()
        except TimeoutError:  # what is left is published again by the next relay's sweep
            for task in self._pending():
                task.cancel()
            await asyncio.gather(*self._pending(), return_exceptions=True)
        await self._loop.stop()
        if self._listener is not None:
            # Cancelled anywhere: it holds no transaction, only a LISTEN connection.
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
            self._listener = None

    async def _run(self) -> None:
        failures = 0
        while True:
            await woken_or_timed_out(self._wake, min(self.poll_seconds * (2 ** min(failures, 4)),
                                                     max(self.poll_seconds, MAX_BACKOFF_SECONDS)))
            try:
                while await self.flush(grace_seconds=self.grace_seconds) == self.batch:
                    pass
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                log.warning("outbox relay could not publish (%s); will retry", exc)

    async def _listen(self) -> None:
        import psycopg

        dsn = libpq_conninfo(self.db.url)
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self.wake()  # whatever was written while we were not listening
                    async for _ in conn.notifies():
                        self.wake()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox LISTEN connection lost (%s); reconnecting", exc)
                await asyncio.sleep(1)

    async def flush(self, *, grace_seconds: float = 0.0) -> int:
        """Publish one batch of unsent rows, but those this process is publishing from their commit
        and (PostgreSQL) those written less than `grace_seconds` ago; return how many were sent."""
        async with self._loop.step(), self.db.transaction() as session:
            claim, now = _CLAIM[not self.db.is_sqlite], _now()
            params: dict[str, Any] = {"batch": self.batch, "now": now}
            if not self.db.is_sqlite:
                # A publish takes one broker round trip and a commit that failed forgets its ids
                # (`commit_failed`): anything older is a hung publish, whose event the inbox would
                # apply once.
                stale = time.monotonic() - IN_FLIGHT_FORGOTTEN_SECONDS
                for id_ in [id_ for id_, since in self._in_flight.items() if since < stale]:
                    del self._in_flight[id_]
                params["in_flight"] = list(self._in_flight)
                params["written_before"] = now - timedelta(seconds=grace_seconds)
            rows = (await session.execute(claim, params)).all()
            if raced := [row.id for row in rows if row.id in self._in_flight]:
                # A commit that marked its rows in flight after `in_flight` was read here and landed
                # before the claim's snapshot: its own publish sends them (a drain has no grace).
                await session.execute(_GIVE_BACK, {"ids": raced})
                rows = [row for row in rows if row.id not in raced]
            if not rows:
                return 0
            # RETURNING keeps no order: publish oldest first, as they were written.
            await self.bus.publish([Envelope(**row._mapping) for row in sorted(rows, key=lambda row: row.occurred_at)])
            return len(rows)

    async def backlog(self) -> tuple[int, float]:
        """How many rows wait to be published, and the age in seconds of the oldest."""
        async with self.db.transaction() as session:
            stmt = select(func.count(), func.min(col(OutboxMessage.occurred_at))).where(
                col(OutboxMessage.sent_at).is_(None))
            count, oldest = (await session.execute(stmt)).one()
        if oldest is not None and oldest.tzinfo is None:  # SQLite hands back naive UTC
            oldest = oldest.replace(tzinfo=UTC)
        return int(count), (_now() - oldest).total_seconds() if oldest is not None else 0.0


def sweep(retention: timedelta) -> Sweep:
    """Housekeeping: rows published more than `retention` ago go. An unpublished row never does,
    however old: it is an event still owed to the other services. `sent_at < cut-off` is a range
    at the head of `ix_outbox_unsent` (its NULLs, the unsent rows, fall outside it), so a pass reads
    only what it deletes."""
    return expired("outbox_sent", OutboxMessage, lambda now: col(OutboxMessage.sent_at) < now - retention)
