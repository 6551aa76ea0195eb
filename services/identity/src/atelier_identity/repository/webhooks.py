"""Queries of the outbound webhooks: endpoints, deliveries and their attempts."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, literal, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.auth import ROLE_ADMIN
from atelier_common.columns import table_of, utcnow
from atelier_common.db import dialect_insert, held_for_write
from atelier_identity.models import ApiKey, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from atelier_identity.repository.staff import StaffAccountRepository

PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"


@dataclass(frozen=True)
class ClaimedDelivery:
    """A due attempt the claimer alone may send until its lease ends."""

    id: uuid.UUID
    attempts: int
    message_id: str
    payload: str
    endpoint_id: uuid.UUID
    url: str
    secret: str
    # The claim's end: its attempt is over before it (the deadline), and recorded only while it holds.
    lease_until: datetime


class WebhookEndpointRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, endpoint: WebhookEndpoint) -> None:
        self.session.add(endpoint)

    async def get(self, endpoint_id: uuid.UUID) -> WebhookEndpoint | None:
        return await self.session.get(WebhookEndpoint, endpoint_id)

    async def page(self, *, limit: int, offset: int,
                   owner_key_id: uuid.UUID | None = None) -> tuple[int, Sequence[WebhookEndpoint]]:
        """Newest first; every endpoint, or `owner_key_id`'s only."""
        owned = [] if owner_key_id is None else [col(WebhookEndpoint.owner_key_id) == owner_key_id]
        count = (await self.session.exec(select(func.count()).select_from(WebhookEndpoint).where(*owned))).one()
        rows = await self.session.exec(select(WebhookEndpoint).where(*owned)
                                       .order_by(col(WebhookEndpoint.created_at).desc(), col(WebhookEndpoint.id))
                                       .limit(limit).offset(offset))
        return count, rows.all()

    async def listening(self, now: datetime) -> Sequence[WebhookEndpoint]:
        """Every enabled endpoint (few: an install has a handful) but those of an API key revoked or
        expired at `now`; the caller matches type and storefront."""
        live_key = and_(col(ApiKey.revoked_at).is_(None),
                        or_(col(ApiKey.expires_at).is_(None), col(ApiKey.expires_at) > now))
        stmt = (select(WebhookEndpoint).outerjoin(ApiKey, col(ApiKey.id) == col(WebhookEndpoint.owner_key_id))
                .where(col(WebhookEndpoint.enabled).is_(True),
                       or_(col(WebhookEndpoint.owner_key_id).is_(None), live_key)))
        return (await self.session.exec(stmt)).all()

    async def wanted_types(self) -> set[str]:
        """The event types some enabled endpoint subscribes to."""
        return {event for endpoint in await self.listening(utcnow()) for event in endpoint.events}

    async def delete(self, endpoint_id: uuid.UUID) -> None:
        """The endpoint and its log (explicitly: SQLite enforces no ON DELETE CASCADE without its pragma)."""
        deliveries = select(WebhookDelivery.id).where(col(WebhookDelivery.endpoint_id) == endpoint_id)
        await self.session.execute(delete(WebhookAttempt).where(col(WebhookAttempt.delivery_id).in_(deliveries)))
        await self.session.execute(delete(WebhookDelivery).where(col(WebhookDelivery.endpoint_id) == endpoint_id))
        await self.session.execute(delete(WebhookEndpoint).where(col(WebhookEndpoint.id) == endpoint_id))

    async def disable(self, endpoint_id: uuid.UUID, reason: str, at: datetime) -> WebhookEndpoint | None:
        """Disable the endpoint unless it already is (guarded: the mail to admins goes once);
        the endpoint when this call disabled it."""
        result = await self.session.execute(
            update(WebhookEndpoint).where(col(WebhookEndpoint.id) == endpoint_id,
                                          col(WebhookEndpoint.enabled).is_(True))
            .values(enabled=False, disabled_reason=reason[:500], updated_at=at)
            .execution_options(synchronize_session=False))
        if getattr(result, "rowcount", 0) != 1:
            return None
        return await self.session.get(WebhookEndpoint, endpoint_id, populate_existing=True)

    async def admin_emails(self) -> list[str]:
        """The addresses of the active admins (staff accounts are few: filtered here, not in JSON SQL)."""
        return await StaffAccountRepository(self.session).emails_with_roles((ROLE_ADMIN,))


class WebhookDeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_once(self, values: list[dict[str, Any]]) -> int:
        """Insert deliveries; one that exists (same event and endpoint: a redelivered event) is left
        as it was. Returns how many were new."""
        if not values:
            return 0
        insert = dialect_insert(self.session)
        result = await self.session.execute(
            insert(table_of(WebhookDelivery)).values(values)
            .on_conflict_do_nothing(index_elements=["event_id", "endpoint_id"])
            .returning(table_of(WebhookDelivery).c.id))
        return len(result.all())

    async def get(self, delivery_id: uuid.UUID) -> WebhookDelivery | None:
        return await self.session.get(WebhookDelivery, delivery_id)

    async def page_for(self, endpoint_id: uuid.UUID, *, limit: int,
                       offset: int) -> tuple[int, Sequence[WebhookDelivery]]:
        where = col(WebhookDelivery.endpoint_id) == endpoint_id
        count = (await self.session.exec(select(func.count()).select_from(WebhookDelivery).where(where))).one()
        rows = await self.session.exec(select(WebhookDelivery).where(where)
                                       .order_by(col(WebhookDelivery.created_at).desc(), col(WebhookDelivery.id))
                                       .limit(limit).offset(offset))
        return count, rows.all()

    async def attempts_of(self, delivery_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[WebhookAttempt]]:
        if not delivery_ids:
            return {}
        rows = await self.session.exec(select(WebhookAttempt).where(col(WebhookAttempt.delivery_id).in_(delivery_ids))
                                       .order_by(col(WebhookAttempt.at)))
        out: dict[uuid.UUID, list[WebhookAttempt]] = {}
        for row in rows.all():
            out.setdefault(row.delivery_id, []).append(row)
        return out

    async def due(self, now: datetime, *, per_endpoint: int, in_flight: Mapping[uuid.UUID, int],
                  scan: int = 1000) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """The due attempts of enabled endpoints as `(delivery id, endpoint id)`, oldest first: of each
        endpoint at most what it has room for (`per_endpoint` less what the caller has `in_flight` to
        it), so that one endpoint's backlog never fills a claim. Only the `scan` oldest due attempts
        of endpoints with room are looked at (a backlog costs no more); a full endpoint's are skipped
        before that. On PostgreSQL they stay locked (SKIP LOCKED: a concurrent claimer takes others)
        until the transaction ends."""
        d, e = table_of(WebhookDelivery).c, table_of(WebhookEndpoint).c
        oldest = (sa_select(d.id, d.endpoint_id, d.next_attempt_at)
                  .join_from(table_of(WebhookDelivery), table_of(WebhookEndpoint), e.id == d.endpoint_id)
                  .where(d.status == PENDING, d.next_attempt_at <= now, e.enabled.is_(True)))
        full = [endpoint for endpoint, count in in_flight.items() if count >= per_endpoint]
        if full:
            oldest = oldest.where(d.endpoint_id.not_in(full))
        oldest_q = oldest.order_by(d.next_attempt_at).limit(scan).subquery()
        places = sa_select(oldest_q.c.id, oldest_q.c.endpoint_id, func.row_number().over(
            partition_by=oldest_q.c.endpoint_id, order_by=(oldest_q.c.next_attempt_at, oldest_q.c.id)).label("place")
        ).subquery()
        partly = [(places.c.endpoint_id == endpoint, per_endpoint - count)
                  for endpoint, count in in_flight.items() if 0 < count < per_endpoint]
        room = case(*partly, else_=per_endpoint) if partly else literal(per_endpoint)
        stmt = (sa_select(d.id, d.endpoint_id)
                .where(d.id.in_(sa_select(places.c.id).where(places.c.place <= room)))
                .order_by(d.next_attempt_at, d.id))
        stmt = held_for_write(stmt, self.session, skip_locked=True)
        return [(row[0], row[1]) for row in (await self.session.execute(stmt)).all()]

    async def lease(self, ids: Sequence[uuid.UUID], now: datetime, lease_until: datetime) -> list[ClaimedDelivery]:
        """Lease these due attempts: their next attempt moves to `lease_until`, so no other worker
        takes them meanwhile. A worker that dies holding a lease leaves the attempt due again when
        it ends (at least once)."""
        if not ids:
            return []
        # Guarded as well as locked: on SQLite (no row locks) a concurrent claim that read the same
        # rows finds them leased already and takes none of them.
        leased = await self.session.execute(
            update(WebhookDelivery)
            .where(col(WebhookDelivery.id).in_(ids), col(WebhookDelivery.status) == PENDING,
                   col(WebhookDelivery.next_attempt_at) <= now)
            .values(next_attempt_at=lease_until).returning(col(WebhookDelivery.id))
            .execution_options(synchronize_session=False))
        ids = [row[0] for row in leased.all()]
        if not ids:
            return []
        d, e = table_of(WebhookDelivery).c, table_of(WebhookEndpoint).c
        rows = await self.session.execute(
            sa_select(d.id, d.attempts, d.message_id, d.payload, d.endpoint_id, e.url, e.secret)
            .join_from(table_of(WebhookDelivery), table_of(WebhookEndpoint), e.id == d.endpoint_id)
            .where(d.id.in_(ids)))
        return [ClaimedDelivery(id=row.id, attempts=row.attempts, message_id=row.message_id, payload=row.payload,
                                endpoint_id=row.endpoint_id, url=row.url, secret=row.secret, lease_until=lease_until)
                for row in rows.all()]

    async def record(self, claimed: ClaimedDelivery, *, at: datetime, status: str, next_attempt_at: datetime | None,
                     status_code: int | None, error: str | None, duration_ms: int) -> bool:
        """Record an attempt's outcome, guarded: only while the claim is still the claimer's (nobody
        replayed the delivery, and no other worker claimed it after the lease ran out). Returns
        whether it was recorded; the attempt is logged either way (it was sent) while the delivery exists."""
        result = await self.session.execute(
            update(WebhookDelivery)
            .where(col(WebhookDelivery.id) == claimed.id, col(WebhookDelivery.status) == PENDING,
                   col(WebhookDelivery.attempts) == claimed.attempts,
                   col(WebhookDelivery.next_attempt_at) == claimed.lease_until)
            .values(attempts=claimed.attempts + 1, status=status, next_attempt_at=next_attempt_at,
                    last_attempt_at=at, last_status_code=status_code, last_error=error)
            .execution_options(synchronize_session=False))
        recorded = getattr(result, "rowcount", 0) == 1
        # Not recorded: the delivery may be gone with its endpoint (deleted meanwhile), and its log too.
        if recorded or await self.session.get(WebhookDelivery, claimed.id) is not None:
            self.session.add(WebhookAttempt(delivery_id=claimed.id, at=at, status_code=status_code, error=error,
                                            duration_ms=duration_ms))
        return recorded

    async def delete_finished(self, before: datetime, limit: int) -> int:
        """Up to `limit` deliveries that ended (succeeded or failed) before `before`, with their attempts."""
        ids = list((await self.session.exec(
            select(WebhookDelivery.id).where(col(WebhookDelivery.status).in_((SUCCEEDED, FAILED)),
                                             col(WebhookDelivery.created_at) < before).limit(limit))).all())
        if ids:
            await self.session.execute(delete(WebhookAttempt).where(col(WebhookAttempt.delivery_id).in_(ids)))
            await self.session.execute(delete(WebhookDelivery).where(col(WebhookDelivery.id).in_(ids)))
        return len(ids)

    async def replay(self, delivery: WebhookDelivery, at: datetime) -> None:
        """Send again now, with a fresh retry schedule; the attempts so far stay in the log."""
        delivery.status, delivery.attempts, delivery.next_attempt_at = PENDING, 0, at
        self.session.add(delivery)
