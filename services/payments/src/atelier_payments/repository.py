"""Locks and writes of payments, and the reads the use cases decide on: no rules, no commits.

The money paths (starting, settling and refunding a payment) hold rows (`rows.py`), read and
changed by the statements below; reads that only answer the API are in `queries.py`.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common.columns import table_of
from atelier_common.db import Statement, dialect_insert, held_for_write, on_postgres, one_of
from atelier_payments.domain import OPEN_STATUSES, PaymentKind, PaymentStatus, RefundStatus
from atelier_payments.models import (
    CheckoutSession,
    EarlyRefund,
    GiftCard,
    GiftCardTransaction,
    LedgerEntry,
    Payment,
    ProcessedWebhook,
    Refund,
    Subscription,
    SubscriptionInvoice,
    utcnow,
)
from atelier_payments.rows import CheckoutRow, EarlyRow, PaymentRow, Settled

# The statements of the busiest paths (settling a payment, starting a checkout, a claim), built
# once with bound parameters: building a statement and its cache key, then ORM objects from the
# rows, cost more CPU than PostgreSQL spent running them.
_PAYMENT = table_of(Payment)
_LEDGER = table_of(LedgerEntry)
_CHECKOUT = table_of(CheckoutSession)
_EARLY = table_of(EarlyRefund)


def _lock_order_of(column: Any) -> Any:
    """Every payment of the order of the payment whose `column` is `:value`, locked in id order.

    The order id is found by a subquery (it never changes), and the rows the lock returns are
    the payment rows themselves, so a row changed by a transaction we waited for is read as
    committed (no joined row of an older snapshot). SQLite ignores FOR UPDATE (its writers are
    serial). LIMIT 1: a charge id is not unique, the first payment found decides (as before).
    """
    order_of = (sa_select(_PAYMENT.c.order_id)
                .where(_PAYMENT.c.provider == bindparam("provider"), column == bindparam("value"))
                .limit(1).scalar_subquery())
    return sa_select(_PAYMENT).where(_PAYMENT.c.order_id == order_of).order_by(_PAYMENT.c.id).with_for_update()


_LOCK_ORDER_BY = {name: Statement(_lock_order_of(_PAYMENT.c[name]))
                  for name in ("provider_session_id", "provider_intent_id", "provider_charge_id")}
_LOCK_ORDER = Statement(sa_select(_PAYMENT).where(_PAYMENT.c.order_id == bindparam("order"))
                        .order_by(_PAYMENT.c.id).with_for_update())


def _settle(allowed: Any) -> Any:
    """Success in one guarded UPDATE: status, the provider's ids and whether it pays the order;
    `allowed`: the test of the statuses it moves from (bound as `allowed`)."""
    return (update(_PAYMENT).where(_PAYMENT.c.id == bindparam("payment"), allowed)
            .values(status=bindparam("new_status"), updated_at=bindparam("now"),
                    provider_charge_id=bindparam("charge_id"), provider_intent_id=bindparam("intent_id"),
                    pays_order=bindparam("pays"))
            .returning(*_PAYMENT.c))


# SQLite's, the first of three statements.
_SETTLE = _settle(one_of(_PAYMENT.c.status, "allowed", postgres=False))
# PostgreSQL: the success, its local checkout session completed and its ledger entry in one
# statement; the WITH parts read the UPDATE's RETURNING, so they write only if the payment moved.
# The count of refunds kept for the payment runs after the lock too (they are kept under it).
_SETTLED = _settle(one_of(_PAYMENT.c.status, "allowed")).cte("settled")
_COMPLETE_CHECKOUT = (update(_CHECKOUT)
                      .where(_CHECKOUT.c.id == _SETTLED.c.provider_session_id, _CHECKOUT.c.status == "open")
                      .values(status="complete").cte("completed_checkout"))
_RECORD_ENTRY = (insert(_LEDGER)
                 .from_select([c.name for c in _LEDGER.c],
                              sa_select(*[bindparam(f"entry_{c.name}", type_=c.type) for c in _LEDGER.c])
                              .select_from(_SETTLED))
                 .cte("recorded_entry"))
_KEPT_REFUNDS = (sa_select(func.count()).select_from(_EARLY).where(_EARLY.c.payment_id == bindparam("payment"))
                 .scalar_subquery())
_SETTLE_ALL = Statement(sa_select(_SETTLED, _KEPT_REFUNDS.label("kept_refunds"))
                        .add_cte(_COMPLETE_CHECKOUT).add_cte(_RECORD_ENTRY))
_ALREADY_PAID = Statement(sa_select(_PAYMENT.c.id)
                          .where(_PAYMENT.c.order_id == bindparam("order"),
                                 _PAYMENT.c.pays_order | (_PAYMENT.c.status == PaymentStatus.SUCCEEDED.value))
                          .limit(1))
_INSERT_PAYMENT = insert(_PAYMENT)
# PostgreSQL: a new payment and its local checkout session in one statement.
_INSERT_PAYMENT_AND_CHECKOUT = Statement(
    insert(_CHECKOUT).values({c.name: bindparam(f"checkout_{c.name}", type_=c.type) for c in _CHECKOUT.c})
    .add_cte(insert(_PAYMENT).values({c.name: bindparam(f"payment_{c.name}", type_=c.type) for c in _PAYMENT.c})
             .cte("inserted_payment")))
_INSERT_LEDGER = insert(_LEDGER)
_INSERT_CHECKOUT = insert(_CHECKOUT)
_PAYMENT_BY_ID = sa_select(_PAYMENT).where(_PAYMENT.c.id == bindparam("payment"))
_CHECKOUT_BY_ID = Statement(sa_select(_CHECKOUT).where(_CHECKOUT.c.id == bindparam("checkout")))
_CLOSE_CHECKOUT = (update(_CHECKOUT).where(_CHECKOUT.c.id == bindparam("checkout"), _CHECKOUT.c.status == "open")
                   .values(status=bindparam("new_status")))
_TAKE_EARLY = (delete(_EARLY).where(_EARLY.c.payment_id == bindparam("payment"))
               .returning(*_EARLY.c))
_REASSIGN_PAYMENTS = (update(_PAYMENT).where(_PAYMENT.c.owner_id == bindparam("anon"))
                      .values(owner_id=bindparam("user"), user_id=bindparam("user"), updated_at=bindparam("now")))
_REASSIGN_LEDGER = (update(_LEDGER).where(_LEDGER.c.owner_id == bindparam("anon"))
                    .values(owner_id=bindparam("user"), user_id=bindparam("user")))
# PostgreSQL runs both as one statement (a data-modifying WITH always runs to completion).
_REASSIGN_BOTH = Statement(_REASSIGN_LEDGER.add_cte(_REASSIGN_PAYMENTS.cte("reassigned_payment")))


async def reassign_owner(session: AsyncSession, anon_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """The payments and ledger entries of an anonymous owner become the user's."""
    params = {"anon": anon_id, "user": user_id, "now": utcnow()}
    if on_postgres(session):
        await _REASSIGN_BOTH.execute(session, params)
    else:
        await session.execute(_REASSIGN_PAYMENTS, params)
        await session.execute(_REASSIGN_LEDGER, params)


class PaymentRepository:
    """Locks and writes of payments, as rows (`rows.PaymentRow`): each change is one statement
    that returns the row as it is after it. Reads that only answer the API are in `queries.py`."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _one(self, statement: Any, params: Mapping[str, Any] | None = None) -> PaymentRow | None:
        row = (await self.session.execute(statement, params)).mappings().first()
        return PaymentRow(**row) if row is not None else None

    async def get(self, payment_id: uuid.UUID) -> PaymentRow | None:
        return await self._one(_PAYMENT_BY_ID, {"payment": payment_id})

    async def get_owned_by_intent(self, owner_ids: Collection[uuid.UUID], order_id: uuid.UUID,
                                  intent_id: str) -> PaymentRow | None:
        """The caller's payment (its user id or the anonymous id it still carries) of `intent_id`:
        another owner's payment is simply not found."""
        return await self._one(sa_select(_PAYMENT).where(_PAYMENT.c.owner_id.in_(list(owner_ids)),
                                                         _PAYMENT.c.order_id == order_id,
                                                         _PAYMENT.c.provider_intent_id == intent_id))

    async def get_open_intent(self, order_id: uuid.UUID, provider: str) -> PaymentRow | None:
        return await self._one(sa_select(_PAYMENT).where(
            _PAYMENT.c.order_id == order_id, _PAYMENT.c.provider == provider,
            _PAYMENT.c.kind == PaymentKind.INTENT.value,
            _PAYMENT.c.status.in_([s.value for s in OPEN_STATUSES])).limit(1))

    async def insert_if_no_open_intent(self, payment: PaymentRow) -> bool:
        """Insert `payment` (an intent) unless the order already has an open one; say which.

        The partial unique index decides, so two concurrent requests cannot both insert.
        """
        stmt = (dialect_insert(self.session)(_PAYMENT).values(**vars(payment)).on_conflict_do_nothing()
                .returning(_PAYMENT.c.id))
        inserted = (await self.session.execute(stmt)).scalar_one_or_none()
        return inserted is not None

    async def find_for_event(self, provider: str, *, intent_id: str | None = None, session_id: str | None = None,
                             charge_id: str | None = None, transaction_id: str | None = None) -> PaymentRow | None:
        """The payment a provider event is about, by the provider's ids (most specific first)."""
        for name, value in (("provider_session_id", session_id or transaction_id),
                            ("provider_intent_id", intent_id or transaction_id),
                            ("provider_charge_id", charge_id)):
            if value:
                stmt = sa_select(_PAYMENT).where(_PAYMENT.c.provider == provider, _PAYMENT.c[name] == value).limit(1)
                if found := await self._one(stmt):
                    return found
        return None

    async def lock_for_event(self, provider: str, *, intent_id: str | None = None, session_id: str | None = None,
                             charge_id: str | None = None,
                             transaction_id: str | None = None) -> tuple[PaymentRow, list[PaymentRow]] | None:
        """`find_for_event` and `lock_for_order` in one statement: the payment, and every
        payment of its order locked (the payment among them)."""
        for name, value in (("provider_session_id", session_id or transaction_id),
                            ("provider_intent_id", intent_id or transaction_id),
                            ("provider_charge_id", charge_id)):
            if value:
                lock = _LOCK_ORDER_BY[name]
                rows = [PaymentRow(**dict(zip(lock.keys, row, strict=True)))
                        for row in await lock.rows(self.session, {"provider": provider, "value": value})]
                found = next((r for r in rows if r.provider == provider and getattr(r, name) == value), None)
                if found is not None:
                    return found, rows
        return None

    async def lock_for_order(self, order_id: uuid.UUID) -> list[PaymentRow]:
        """Every payment of an order, locked (PostgreSQL) in id order: settling one order is serial.
        Read after the lock, so a status changed by a transaction we waited for is seen."""
        return [PaymentRow(**dict(zip(_LOCK_ORDER.keys, row, strict=True)))
                for row in await _LOCK_ORDER.rows(self.session, {"order": order_id})]

    async def relock(self, payment: PaymentRow) -> PaymentRow:
        """`payment` as it is now, its order's payments locked."""
        return next(p for p in await self.lock_for_order(payment.order_id) if p.id == payment.id)

    async def settle(self, payment: PaymentRow, allowed_from: Iterable[PaymentStatus], *, now: datetime,
                     charge_id: str | None, intent_id: str | None, pays_order: bool,
                     entry: Mapping[str, Any]) -> Settled | None:
        """Guarded UPDATE to `succeeded` with the provider's ids and, if it moved, its local checkout
        session completed and the ledger `entry` (`LedgerEntry`'s columns) written. None: it did not move.

        The caller holds the order's payments locked. One statement on PostgreSQL, three on SQLite.
        """
        params = {"payment": payment.id, "allowed": [s.value for s in allowed_from],
                  "new_status": PaymentStatus.SUCCEEDED.value, "now": now, "charge_id": charge_id,
                  "intent_id": intent_id, "pays": pays_order}
        if on_postgres(self.session):
            params.update({f"entry_{name}": value for name, value in entry.items()})
            rows = await _SETTLE_ALL.rows(self.session, params)
            if not rows:
                return None
            values = dict(zip(_SETTLE_ALL.keys, rows[0], strict=True))
            kept = values.pop("kept_refunds") > 0
            return Settled(PaymentRow(**values), kept_refunds=kept)
        settled = await self._one(_SETTLE, params)
        if settled is None:
            return None
        if settled.provider_session_id:
            await self.session.execute(_CLOSE_CHECKOUT, {"checkout": settled.provider_session_id,
                                                         "new_status": "complete"})
        await self.session.execute(_INSERT_LEDGER, dict(entry))
        return Settled(settled, kept_refunds=True)  # not counted: look

    async def already_paid(self, order_id: uuid.UUID) -> bool:
        """Whether a payment of the order succeeded or paid it."""
        return bool(await _ALREADY_PAID.rows(self.session, {"order": order_id}))

    async def insert(self, payment: PaymentRow, checkout: CheckoutRow | None = None) -> None:
        """Write a new payment, and its local `checkout` session if any: one statement on PostgreSQL."""
        values = vars(payment)
        if checkout is None:
            await self.session.execute(_INSERT_PAYMENT, values)
        elif on_postgres(self.session):
            await _INSERT_PAYMENT_AND_CHECKOUT.execute(self.session, {
                **{f"payment_{name}": value for name, value in values.items()},
                **{f"checkout_{name}": value for name, value in vars(checkout).items()}})
        else:
            await self.session.execute(_INSERT_PAYMENT, values)
            await self.session.execute(_INSERT_CHECKOUT, vars(checkout))

    async def lock_order_notifications(self, order_id: uuid.UUID) -> None:
        """Serialise, until the transaction ends, the provider notifications of one order that
        name no payment of ours (they may have none to lock yet). SQLite's writers are serial."""
        if on_postgres(self.session):
            await self.session.execute(sa_select(func.pg_advisory_xact_lock(
                func.hashtextextended(bindparam("key"), 0))), {"key": f"payments.order:{order_id}"})

    async def settled_of(self, order_id: uuid.UUID, provider: str) -> PaymentRow | None:
        """The order's payment at `provider` that took the money (refunded since or not): the one
        that paid the order, else the first (an edit's supplementary payment is never it)."""
        return await self._one(
            sa_select(_PAYMENT)
            .where(_PAYMENT.c.order_id == order_id, _PAYMENT.c.provider == provider, _PAYMENT.c.edit_id.is_(None),
                   _PAYMENT.c.status.in_([PaymentStatus.SUCCEEDED.value, PaymentStatus.REFUNDED.value]))
            .order_by(_PAYMENT.c.pays_order.desc(), _PAYMENT.c.created_at, _PAYMENT.c.id).limit(1))

    async def newest_open(self, order_id: uuid.UUID, provider: str) -> PaymentRow | None:
        """The order's own payment still open at `provider` (a provider that names only the order
        pays the order, not one of its edits' supplementary payments)."""
        return await self._one(
            sa_select(_PAYMENT)
            .where(_PAYMENT.c.order_id == order_id, _PAYMENT.c.provider == provider, _PAYMENT.c.edit_id.is_(None),
                   _PAYMENT.c.status.in_([s.value for s in OPEN_STATUSES]))
            .order_by(_PAYMENT.c.created_at.desc()).limit(1))

    async def transition(self, payment: PaymentRow, target: PaymentStatus, allowed_from: Iterable[PaymentStatus],
                         **values: Any) -> PaymentRow | None:
        """Guarded UPDATE: move to `target` only from `allowed_from`. The row after it, or None: it did not move."""
        return await self._one(
            update(_PAYMENT)
            .where(_PAYMENT.c.id == payment.id, _PAYMENT.c.status.in_([s.value for s in allowed_from]))
            .values(status=target.value, updated_at=utcnow(), **values)
            .returning(*_PAYMENT.c))

    async def update_ids(self, payment: PaymentRow, **values: Any) -> PaymentRow:
        """Set the provider's ids (and such) of `payment`; the row after it."""
        changed = await self._one(update(_PAYMENT).where(_PAYMENT.c.id == payment.id)
                                  .values(updated_at=utcnow(), **values).returning(*_PAYMENT.c))
        assert changed is not None  # the caller holds the payment
        return changed

    async def list_for_user(self, user_id: uuid.UUID) -> Sequence[Payment]:
        """A user's payments as ORM objects: erasure rewrites them (a cold path)."""
        stmt = select(Payment).where((col(Payment.user_id) == user_id) | (col(Payment.owner_id) == user_id))
        return (await self.session.exec(stmt)).all()


def _claim_webhook(insert_of: Any) -> Any:
    return (insert_of(ProcessedWebhook).values(provider=bindparam("provider"), event_id=bindparam("event_id"),
                                               event_type=bindparam("event_type"),
                                               processed_at=bindparam("processed_at"))
            .on_conflict_do_nothing().returning(col(ProcessedWebhook.event_id)))


# `WebhookRepository.claim`: the provider event's id recorded once.
_CLAIM_WEBHOOK = Statement(_claim_webhook(pg_insert), sqlite=_claim_webhook(sqlite_insert))


class WebhookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, provider: str, event_id: str, event_type: str) -> bool:
        """Record the event id; False when it was already processed.

        On PostgreSQL a concurrent delivery of the same id waits on the unique key until the
        first commits, then finds the row: one effect, however many deliveries.
        """
        return bool(await _CLAIM_WEBHOOK.rows(self.session, {
            "provider": provider, "event_id": event_id, "event_type": event_type[:100], "processed_at": utcnow()}))


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, entry: LedgerEntry) -> None:
        self.session.add(entry)

    async def insert(self, entries: Sequence[Mapping[str, Any]]) -> None:
        """Write entries given as column values (`LedgerEntry`'s), in one statement."""
        await self.session.execute(_INSERT_LEDGER, list(entries))

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

    async def list_for_order(self, order_id: uuid.UUID) -> Sequence[Refund]:
        stmt = select(Refund).where(col(Refund.order_id) == order_id).order_by(col(Refund.created_at))
        return (await self.session.exec(stmt)).all()

    async def by_provider_id(self, provider: str, provider_refund_id: str) -> Refund | None:
        stmt = select(Refund).where(col(Refund.provider) == provider,
                                    col(Refund.provider_refund_id) == provider_refund_id)
        return (await self.session.exec(stmt.execution_options(populate_existing=True))).first()

    async def total(self, payment_id: uuid.UUID, statuses: Collection[RefundStatus]) -> Decimal:
        stmt = (select(func.coalesce(func.sum(Refund.amount), 0))
                .where(col(Refund.payment_id) == payment_id, col(Refund.status).in_([s.value for s in statuses])))
        return Decimal(str((await self.session.exec(stmt)).one()))

    async def provider_total(self, payment_id: uuid.UUID, statuses: Collection[RefundStatus]) -> Decimal:
        """What the refunds in `statuses` asked of the provider (their amount less their gift card part)."""
        stmt = (select(func.coalesce(func.sum(col(Refund.amount) - col(Refund.gift_card_amount)), 0))
                .where(col(Refund.payment_id) == payment_id, col(Refund.status).in_([s.value for s in statuses])))
        return Decimal(str((await self.session.exec(stmt)).one()))

    async def keep_early(self, payment_id: uuid.UUID, provider_refund_id: str | None,
                         amount: Decimal | None) -> None:
        """Keep a refund reported before its payment succeeded (once per provider refund id)."""
        stmt = (dialect_insert(self.session)(EarlyRefund)
                .values(id=uuid.uuid4(), payment_id=payment_id, provider_refund_id=provider_refund_id,
                        amount=amount, created_at=utcnow())
                .on_conflict_do_nothing())
        await self.session.execute(stmt)

    async def take_early(self, payment_id: uuid.UUID) -> list[EarlyRow]:
        """The refunds kept for a payment, oldest first, removed as they are read (one DELETE)."""
        result = await self.session.execute(_TAKE_EARLY, {"payment": payment_id})
        return sorted((EarlyRow(**row) for row in result.mappings()), key=lambda r: (r.created_at, r.id))

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

    async def get_row(self, session_id: str) -> CheckoutRow | None:
        rows = await _CHECKOUT_BY_ID.rows(self.session, {"checkout": session_id})
        return CheckoutRow(**dict(zip(_CHECKOUT_BY_ID.keys, rows[0], strict=True))) if rows else None

    async def close(self, session_id: str, status: str) -> None:
        await self.session.execute(_CLOSE_CHECKOUT, {"checkout": session_id, "new_status": status})


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

    async def lock_by_id(self, subscription_id: uuid.UUID) -> Subscription | None:
        """A plan by its own id (staff's writes), locked and re-read like `lock`."""
        stmt = select(Subscription).where(col(Subscription.id) == subscription_id).with_for_update()
        return (await self.session.exec(stmt.execution_options(populate_existing=True))).first()

    async def lock_or_create(self, subscription: Subscription) -> Subscription:
        """The row of `subscription.user_id`, locked; `subscription` is inserted first when the user
        has none. Concurrent callers for one user insert once (the unique user id decides) and
        then queue on the lock."""
        values = {c.name: getattr(subscription, c.name) for c in table_of(Subscription).columns}
        await self.session.execute(dialect_insert(self.session)(Subscription).values(**values).on_conflict_do_nothing())
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
        values = {c.name: getattr(invoice, c.name) for c in table_of(SubscriptionInvoice).columns}
        stmt = (dialect_insert(self.session)(SubscriptionInvoice).values(**values).on_conflict_do_nothing()
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


class GiftCardRepository:
    """Gift cards and their balance movements. A card whose balance changes is read with `lock`
    or `lock_by_digests` (held for write, re-read): its changes are serial."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, card: GiftCard) -> None:
        self.session.add(card)

    def add_transaction(self, transaction: GiftCardTransaction) -> None:
        self.session.add(transaction)

    async def get(self, card_id: uuid.UUID) -> GiftCard | None:
        return await self.session.get(GiftCard, card_id)

    async def get_many(self, card_ids: Sequence[uuid.UUID]) -> Sequence[GiftCard]:
        if not card_ids:
            return []
        return (await self.session.exec(select(GiftCard).where(col(GiftCard.id).in_(card_ids)))).all()

    async def lock_sold(self, order_id: uuid.UUID) -> list[GiftCard]:
        """The cards `order_id` bought, held for write in id order."""
        stmt = select(GiftCard).where(col(GiftCard.order_id) == order_id).order_by(col(GiftCard.id))
        return list((await self.session.exec(held_for_write(stmt, self.session)
                                             .execution_options(populate_existing=True))).all())

    async def issued_units(self, order_id: uuid.UUID) -> set[str]:
        """The order units (`domain.gift_card_units`) `order_id` already issued a card for."""
        stmt = select(col(GiftCard.order_unit)).where(col(GiftCard.order_id) == order_id)
        return {unit for unit in (await self.session.exec(stmt)).all() if unit is not None}

    async def by_digest(self, digest: str) -> GiftCard | None:
        return (await self.session.exec(select(GiftCard).where(col(GiftCard.code_digest) == digest))).first()

    async def lock(self, card_ids: Sequence[uuid.UUID]) -> list[GiftCard]:
        """The cards, held for write in id order (two checkouts naming the same cards in another
        order queue instead of deadlocking), read as committed after the wait."""
        stmt = select(GiftCard).where(col(GiftCard.id).in_(card_ids)).order_by(col(GiftCard.id))
        return list((await self.session.exec(held_for_write(stmt, self.session)
                                             .execution_options(populate_existing=True))).all())

    async def lock_by_digests(self, digests: Sequence[str]) -> list[GiftCard]:
        stmt = select(GiftCard).where(col(GiftCard.code_digest).in_(digests)).order_by(col(GiftCard.id))
        return list((await self.session.exec(held_for_write(stmt, self.session)
                                             .execution_options(populate_existing=True))).all())

    async def page(self, *, storefront: str | None, last4: str | None, active: bool | None, limit: int,
                   offset: int, storefronts: frozenset[str] | None = None) -> tuple[int, Sequence[GiftCard]]:
        stmt = select(GiftCard)
        if storefront is not None:
            stmt = stmt.where(col(GiftCard.storefront) == storefront)
        if storefronts is not None:
            stmt = stmt.where(col(GiftCard.storefront).in_(sorted(storefronts)))
        if last4:
            stmt = stmt.where(col(GiftCard.last4) == last4.upper())
        if active is not None:
            stmt = stmt.where(col(GiftCard.is_active) == active)
        count = (await self.session.exec(select(func.count()).select_from(stmt.subquery()))).one()
        rows = (await self.session.exec(stmt.order_by(col(GiftCard.created_at).desc(), col(GiftCard.id).desc())
                                        .limit(limit).offset(offset))).all()
        return int(count), rows

    async def transactions(self, card_id: uuid.UUID) -> Sequence[GiftCardTransaction]:
        stmt = (select(GiftCardTransaction).where(col(GiftCardTransaction.gift_card_id) == card_id)
                .order_by(col(GiftCardTransaction.created_at), col(GiftCardTransaction.id)))
        return (await self.session.exec(stmt)).all()

    async def transactions_of_payment(self, payment_id: uuid.UUID) -> Sequence[GiftCardTransaction]:
        """A payment's movements in the order they were written (`created_at`, then the order the
        checkout used the cards in, which its rows share the time of)."""
        stmt = (select(GiftCardTransaction).where(col(GiftCardTransaction.payment_id) == payment_id)
                .order_by(col(GiftCardTransaction.created_at)))
        return (await self.session.exec(stmt)).all()
