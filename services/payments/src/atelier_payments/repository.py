"""Queries of payments, and nothing else: no rules, no commits.

Ownership lives in one method (`PaymentRepository.owned_statement`, `LedgerRepository.owned`):
another owner's payment or entry is simply not found.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from atelier_payments.domain import OPEN_STATUSES, PaymentKind, PaymentStatus, RefundStatus
from atelier_payments.models import (
    CheckoutSession,
    EarlyRefund,
    LedgerEntry,
    Payment,
    ProcessedWebhook,
    Refund,
    Subscription,
    SubscriptionInvoice,
    utcnow,
)


def _insert(session: AsyncSession) -> Any:
    bind = session.bind
    return pg_insert if bind is not None and bind.dialect.name == "postgresql" else sqlite_insert


def _is_postgres(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


class PaymentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def owned_statement(self, owner_ids: Collection[uuid.UUID]) -> SelectOfScalar[Payment]:
        """The payments of a caller: its user id and the anonymous id it still carries."""
        return select(Payment).where(col(Payment.owner_id).in_(list(owner_ids)))

    async def get(self, payment_id: uuid.UUID) -> Payment | None:
        return await self.session.get(Payment, payment_id)

    async def get_owned_by_intent(self, owner_ids: Collection[uuid.UUID], order_id: uuid.UUID,
                                  intent_id: str) -> Payment | None:
        stmt = self.owned_statement(owner_ids).where(col(Payment.order_id) == order_id,
                                                     col(Payment.provider_intent_id) == intent_id)
        return (await self.session.exec(stmt)).first()

    async def get_open_intent(self, order_id: uuid.UUID, provider: str) -> Payment | None:
        stmt = select(Payment).where(col(Payment.order_id) == order_id, col(Payment.provider) == provider,
                                     col(Payment.kind) == PaymentKind.INTENT,
                                     col(Payment.status).in_([s.value for s in OPEN_STATUSES]))
        return (await self.session.exec(stmt)).first()

    async def insert_if_no_open_intent(self, payment: Payment) -> bool:
        """Insert `payment` (an intent) unless the order already has an open one; say which.

        The partial unique index decides, so two concurrent requests cannot both insert.
        """
        values = {c.name: getattr(payment, c.name) for c in Payment.__table__.columns}  # type: ignore[attr-defined]
        stmt = _insert(self.session)(Payment).values(**values).on_conflict_do_nothing().returning(col(Payment.id))
        inserted = (await self.session.execute(stmt)).scalar_one_or_none()
        return inserted is not None

    async def find_for_event(self, provider: str, *, intent_id: str | None = None, session_id: str | None = None,
                             charge_id: str | None = None, transaction_id: str | None = None) -> Payment | None:
        """The payment a provider event is about, by the provider's ids (most specific first)."""
        for column, value in ((Payment.provider_session_id, session_id or transaction_id),
                              (Payment.provider_intent_id, intent_id or transaction_id),
                              (Payment.provider_charge_id, charge_id)):
            if value:
                stmt = select(Payment).where(col(Payment.provider) == provider, col(column) == value)
                if found := (await self.session.exec(stmt)).first():
                    return found
        return None

    async def newest_open(self, order_id: uuid.UUID, provider: str) -> Payment | None:
        stmt = (select(Payment)
                .where(col(Payment.order_id) == order_id, col(Payment.provider) == provider,
                       col(Payment.status).in_([s.value for s in OPEN_STATUSES]))
                .order_by(col(Payment.created_at).desc()))
        return (await self.session.exec(stmt)).first()

    async def lock_for_order(self, order_id: uuid.UUID) -> Sequence[Payment]:
        """Every payment of an order, locked (PostgreSQL) in id order: settling one order is serial.

        The rows are refreshed, so a status changed by a transaction we waited for is seen.
        """
        stmt = select(Payment).where(col(Payment.order_id) == order_id).order_by(col(Payment.id))
        if _is_postgres(self.session):
            stmt = stmt.with_for_update()
        return (await self.session.exec(stmt.execution_options(populate_existing=True))).all()

    async def list_for_order(self, order_id: uuid.UUID) -> Sequence[Payment]:
        stmt = select(Payment).where(col(Payment.order_id) == order_id).order_by(col(Payment.created_at))
        return (await self.session.exec(stmt)).all()

    async def transition(self, payment: Payment, target: PaymentStatus, allowed_from: Iterable[PaymentStatus],
                         **values: Any) -> bool:
        """Guarded UPDATE: move to `target` only from `allowed_from`; say whether it moved."""
        stmt = (update(Payment)
                .where(col(Payment.id) == payment.id, col(Payment.status).in_([s.value for s in allowed_from]))
                .values(status=target.value, updated_at=utcnow(), **values)
                .returning(col(Payment.id)))
        moved = (await self.session.execute(stmt)).scalar_one_or_none() is not None
        await self.session.refresh(payment)
        return moved

    async def update_ids(self, payment: Payment, **values: Any) -> None:
        for name, value in values.items():
            setattr(payment, name, value)
        payment.updated_at = utcnow()
        await self.session.flush()

    async def reassign_owner(self, anon_id: uuid.UUID, user_id: uuid.UUID) -> None:
        await self.session.execute(update(Payment).where(col(Payment.owner_id) == anon_id)
                                   .values(owner_id=user_id, user_id=user_id, updated_at=utcnow()))

    async def list_for_user(self, user_id: uuid.UUID) -> Sequence[Payment]:
        stmt = select(Payment).where((col(Payment.user_id) == user_id) | (col(Payment.owner_id) == user_id))
        return (await self.session.exec(stmt)).all()


class WebhookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, provider: str, event_id: str, event_type: str) -> bool:
        """Record the event id; False when it was already processed.

        On PostgreSQL a concurrent delivery of the same id waits on the unique key until the
        first commits, then finds the row: one effect, however many deliveries.
        """
        stmt = (_insert(self.session)(ProcessedWebhook)
                .values(provider=provider, event_id=event_id, event_type=event_type[:100], processed_at=utcnow())
                .on_conflict_do_nothing().returning(col(ProcessedWebhook.event_id)))
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def owned(self, owner_id: uuid.UUID) -> SelectOfScalar[LedgerEntry]:
        return select(LedgerEntry).where(col(LedgerEntry.owner_id) == owner_id)

    async def page_for_owner(self, owner_id: uuid.UUID, *, limit: int,
                             offset: int) -> tuple[int, Sequence[LedgerEntry]]:
        count_stmt = select(func.count()).select_from(LedgerEntry).where(col(LedgerEntry.owner_id) == owner_id)
        count = (await self.session.exec(count_stmt)).one()
        stmt = (self.owned(owner_id).order_by(col(LedgerEntry.created_at).desc(), col(LedgerEntry.id).desc())
                .limit(limit).offset(offset))
        return count, (await self.session.exec(stmt)).all()

    def add(self, entry: LedgerEntry) -> None:
        self.session.add(entry)

    async def reassign_owner(self, anon_id: uuid.UUID, user_id: uuid.UUID) -> None:
        await self.session.execute(update(LedgerEntry).where(col(LedgerEntry.owner_id) == anon_id)
                                   .values(owner_id=user_id, user_id=user_id))

    async def anonymise(self, user_id: uuid.UUID, tombstone: uuid.UUID) -> None:
        await self.session.execute(update(LedgerEntry)
                                   .where((col(LedgerEntry.owner_id) == user_id)
                                          | (col(LedgerEntry.user_id) == user_id))
                                   .values(owner_id=tombstone, user_id=None))


class RefundRepository:
    """Refunds of payments. Callers hold the order's payments locked (`lock_for_order`), so the
    sums below cannot change under them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, refund: Refund) -> None:
        self.session.add(refund)

    async def get(self, refund_id: uuid.UUID) -> Refund | None:
        return await self.session.get(Refund, refund_id, populate_existing=True)

    async def by_provider_id(self, provider: str, provider_refund_id: str) -> Refund | None:
        stmt = select(Refund).where(col(Refund.provider) == provider,
                                    col(Refund.provider_refund_id) == provider_refund_id)
        return (await self.session.exec(stmt.execution_options(populate_existing=True))).first()

    async def total(self, payment_id: uuid.UUID, statuses: Collection[RefundStatus]) -> Decimal:
        stmt = (select(func.coalesce(func.sum(Refund.amount), 0))
                .where(col(Refund.payment_id) == payment_id, col(Refund.status).in_([s.value for s in statuses])))
        return Decimal(str((await self.session.exec(stmt)).one()))

    async def keep_early(self, payment_id: uuid.UUID, provider_refund_id: str | None,
                         amount: Decimal | None) -> None:
        """Keep a refund reported before its payment succeeded (once per provider refund id)."""
        stmt = (_insert(self.session)(EarlyRefund)
                .values(id=uuid.uuid4(), payment_id=payment_id, provider_refund_id=provider_refund_id,
                        amount=amount, created_at=utcnow())
                .on_conflict_do_nothing())
        await self.session.execute(stmt)

    async def take_early(self, payment_id: uuid.UUID) -> Sequence[EarlyRefund]:
        """The refunds kept for a payment, oldest first, removed as they are read."""
        stmt = select(EarlyRefund).where(col(EarlyRefund.payment_id) == payment_id).order_by(
            col(EarlyRefund.created_at), col(EarlyRefund.id))
        rows = (await self.session.exec(stmt)).all()
        for row in rows:
            await self.session.delete(row)
        await self.session.flush()
        return rows

    async def pending_of(self, payment_id: uuid.UUID) -> Sequence[Refund]:
        stmt = (select(Refund).where(col(Refund.payment_id) == payment_id, col(Refund.status) == RefundStatus.PENDING)
                .order_by(col(Refund.created_at)))
        return (await self.session.exec(stmt.execution_options(populate_existing=True))).all()

    async def transition(self, refund: Refund, target: RefundStatus, allowed_from: Iterable[RefundStatus],
                         **values: Any) -> bool:
        """Guarded UPDATE, like payments': a replayed or late event changes nothing."""
        stmt = (update(Refund)
                .where(col(Refund.id) == refund.id, col(Refund.status).in_([s.value for s in allowed_from]))
                .values(status=target.value, updated_at=utcnow(), **values)
                .returning(col(Refund.id)))
        moved = (await self.session.execute(stmt)).scalar_one_or_none() is not None
        await self.session.refresh(refund)
        return moved


class CheckoutSessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, session_id: str) -> CheckoutSession | None:
        return await self.session.get(CheckoutSession, session_id)

    def add(self, checkout: CheckoutSession) -> None:
        self.session.add(checkout)

    async def close(self, session_id: str, status: str) -> None:
        await self.session.execute(update(CheckoutSession)
                                   .where(col(CheckoutSession.id) == session_id,
                                          col(CheckoutSession.status) == "open")
                                   .values(status=status))


class SubscriptionRepository:
    """A user's plan (one row per user) and its invoices."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: uuid.UUID) -> Subscription | None:
        stmt = select(Subscription).where(col(Subscription.user_id) == user_id)
        return (await self.session.exec(stmt)).first()

    async def lock(self, user_id: uuid.UUID) -> Subscription | None:
        """The user's row, locked (PostgreSQL) and re-read: changes of one user's plan are serial."""
        stmt = select(Subscription).where(col(Subscription.user_id) == user_id).with_for_update()
        return (await self.session.exec(stmt.execution_options(populate_existing=True))).first()

    async def lock_or_create(self, subscription: Subscription) -> Subscription:
        """The row of `subscription.user_id`, locked; `subscription` is inserted first when the user
        has none. Concurrent callers for one user insert once (the unique user id decides) and
        then queue on the lock."""
        values = {c.name: getattr(subscription, c.name) for c in Subscription.__table__.columns}  # type: ignore[attr-defined]
        await self.session.execute(_insert(self.session)(Subscription).values(**values).on_conflict_do_nothing())
        locked = await self.lock(subscription.user_id)
        assert locked is not None  # inserted now or by a transaction we waited for
        return locked

    async def user_of(self, provider: str, *, subscription_id: str | None,
                      customer_id: str | None) -> uuid.UUID | None:
        """Whose provider subscription or customer this is, by the ids the rows keep."""
        for column, value in ((Subscription.provider_subscription_id, subscription_id),
                              (Subscription.provider_customer_id, customer_id)):
            if value:
                stmt = select(Subscription.user_id).where(col(Subscription.provider) == provider, col(column) == value)
                if found := (await self.session.exec(stmt)).first():
                    return found
        return None

    async def add_invoice_once(self, invoice: SubscriptionInvoice) -> bool:
        """Insert the invoice unless its provider id is known; say whether it was inserted."""
        values = {c.name: getattr(invoice, c.name) for c in SubscriptionInvoice.__table__.columns}  # type: ignore[attr-defined]
        stmt = (_insert(self.session)(SubscriptionInvoice).values(**values).on_conflict_do_nothing()
                .returning(col(SubscriptionInvoice.id)))
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def mark_invoice_paid(self, provider: str, provider_invoice_id: str) -> bool:
        """Guarded UPDATE: a failed invoice paid on a retry becomes paid, once; a paid one never changes."""
        stmt = (update(SubscriptionInvoice)
                .where(col(SubscriptionInvoice.provider) == provider,
                       col(SubscriptionInvoice.provider_invoice_id) == provider_invoice_id,
                       col(SubscriptionInvoice.status) == "failed")
                .values(status="paid").returning(col(SubscriptionInvoice.id)))
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None
