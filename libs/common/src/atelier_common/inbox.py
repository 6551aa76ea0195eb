"""The inbox: a consumer applies each event once, whatever the bus redelivers.

`handle_once` records `(event id, consumer)` in the same transaction as the effect; a
redelivered event finds its row and is acknowledged without a second effect. An exception
rolls both back, so the bus retries it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import Column, DateTime, Index, bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import metrics
from atelier_common.columns import table_of
from atelier_common.db import Database, Statement
from atelier_common.events.bus import EventBus
from atelier_common.events.envelope import Envelope, IntegrationEvent
from atelier_common.housekeeping import Sweep, expired
from atelier_common.transient import retry_transient

C = TypeVar("C")


class InboxMessage(SQLModel, table=True):
    __tablename__ = "inbox"
    # The sweep's range (`processed_at < cut-off`); the key alone made each pass read every row.
    __table_args__ = (Index("ix_inbox_processed_at", "processed_at"),)

    event_id: uuid.UUID = Field(primary_key=True)
    consumer: str = Field(primary_key=True, max_length=100)
    event_type: str = Field(max_length=100)
    processed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


@dataclass
class EventContext(Generic[C]):
    """What a handler gets besides its event: the transaction and the service's typed context."""

    session: AsyncSession
    context: C
    envelope: Envelope


# Built once: every delivery only binds its values. A `Statement`, run on the transaction's
# connection: the claim skips SQLAlchemy's work per statement.
_INBOX = table_of(InboxMessage)


def _claim(insert: Any) -> Any:
    return insert(_INBOX).values(
        event_id=bindparam("event_id"), consumer=bindparam("consumer"), event_type=bindparam("event_type"),
        processed_at=bindparam("processed_at"),
    ).on_conflict_do_nothing().returning(_INBOX.c.event_id)


_CLAIM = Statement(_claim(pg_insert), sqlite=_claim(sqlite_insert))


EventHandler = Callable[[Any, EventContext[Any]], Awaitable[None]]


@dataclass(frozen=True)
class Filtered:
    """A handler that acts on some events of its type only. `wants(event, context)` is the service's
    own rule (pure: the same answer for every delivery of an event); an event it does not want is
    acknowledged without a transaction or an inbox row, so the deliveries a consumer would only
    record cost it no database work (identity hears every status change, mails about a few)."""

    handler: EventHandler
    wants: Callable[[Any, Any], bool]

    async def __call__(self, event: Any, ctx: EventContext[Any]) -> None:
        await self.handler(event, ctx)


Subscriptions = Mapping[type[IntegrationEvent], EventHandler]


async def handle_once(db: Database, consumer: str, envelope: Envelope, event: IntegrationEvent,
                      handler: EventHandler, context: Any) -> bool:
    """Apply `handler` unless this consumer already did; return whether it ran."""
    async with db.transaction() as session:
        session.info["service"] = consumer
        claimed = await _CLAIM.rows(session, {"event_id": envelope.id, "consumer": consumer,
                                              "event_type": envelope.type, "processed_at": datetime.now(UTC)})
        if not claimed:
            return False
        await handler(event, EventContext(session=session, context=context, envelope=envelope))
        return True


async def apply_once(db: Database, consumer: str, envelope: Envelope, event: IntegrationEvent,
                     handler: EventHandler, context: Any) -> bool:
    """What a consumer does with one delivery: `handle_once`, a transient failure (a lost connection,
    a deadlock, a serialization failure) retried with back-off; anything else raised for the bus to
    redeliver. Return whether the handler ran."""
    return await retry_transient(lambda: handle_once(db, consumer, envelope, event, handler, context))


async def handle_unrecorded(db: Database, envelope: Envelope, event: IntegrationEvent, handler: EventHandler,
                            context: Any) -> None:
    """Apply `handler` with no inbox row: for work whose own state makes it idempotent (a job's
    guarded claim) and that outlives a transaction. Its session holds no connection until used,
    so a long handler opens short transactions of its own and none is held across the work."""
    async with db.transaction() as session:
        await handler(event, EventContext(session=session, context=context, envelope=envelope))


def subscribe_all(bus: EventBus, db: Database, consumer: str, subscriptions: Subscriptions, context: Any, *,
                  recorded: bool = True, bound: Collection[str] | None = None) -> None:
    """Bind a service's SUBSCRIPTIONS table to its queue, each event through `handle_once` (or
    `handle_unrecorded`), transient failures retried with back-off before the bus redelivers.
    `bound`: the types to route to the queue now, when the service binds the rest on demand
    (`events.bus.Routes`); None routes every type of the table."""
    by_type: dict[str, dict[int, tuple[type[IntegrationEvent], EventHandler]]] = {}
    for cls, handler in subscriptions.items():
        by_type.setdefault(cls.type, {})[cls.version] = (cls, handler)
    if not by_type:
        return

    async def dispatch(envelope: Envelope) -> None:
        versions = by_type.get(envelope.type, {})
        entry = versions.get(envelope.version)
        if entry is None:
            raise LookupError(f"{consumer} cannot read {envelope.type} v{envelope.version}")
        cls, handler = entry
        event = envelope.parse(cls)
        if isinstance(handler, Filtered) and not handler.wants(event, context):
            metrics.EVENTS_IGNORED.labels(consumer, envelope.type).inc()
            return
        if recorded:
            if not await apply_once(db, consumer, envelope, event, handler, context):
                metrics.EVENTS_DUPLICATE.labels(consumer, envelope.type).inc()
        else:
            await handle_unrecorded(db, envelope, event, handler, context)

    bus.subscribe(consumer, by_type.keys() if bound is None else set(bound) & by_type.keys(), dispatch)


def sweep(retention: timedelta) -> Sweep:
    """Housekeeping: inbox rows applied longer than `retention` ago go. The window must outlast
    every redelivery of an event (settings.inbox_floor says why and refuses a shorter one): a
    copy arriving after its row is gone would be applied a second time."""
    return expired("inbox", InboxMessage, lambda now: col(InboxMessage.processed_at) < now - retention)
