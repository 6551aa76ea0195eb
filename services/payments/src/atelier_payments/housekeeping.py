"""Payments' housekeeping rules (`atelier_common.housekeeping` runs them, besides the outbox and inbox).

- Idempotency keys past their 24 hours (`Idempotency-Key` on every paying POST).
- The `local` provider's checkout pages (`checkout_session`, served by the dev endpoints only) a
  week after they expired: no longer payable, and nothing else reads them (the payment keeps the
  session id; closing a session that is gone changes nothing). The page then answers 404.
- Gift cards held by a checkout nobody paid: once every provider's page of it has closed (the
  local page's `local_checkout_ttl_minutes`, Stripe's 24 hours, and an hour more), the payment is
  cancelled through `Settlement.cancel`, which gives the cards their money back. Nothing is
  deleted; the pass counts the payments cancelled.
- Kept: `early_refund` — a refund the provider reported before the payment's success; it is
  deleted when that success arrives (`Settlement.succeed`), so what remains is a refund whose
  success has not come yet, and deleting it would lose money owed back. It empties itself.
- Kept: payments, refunds, ledger, provider objects, subscriptions and invoices (records of money).
- Kept: `processed_webhook`. A Stripe event, or the local checkout's Pay, replayed after its id
  was forgotten would change nothing: it names our provider id, status changes are guarded
  transitions, refunds are found by their provider id, invoices by theirs. But a simple
  provider's (S0) `paid` without `transaction_id` names only the order: replayed then, it would be
  taken for a second payment made at the provider (a new payment, refunded for staff to pay back).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import idempotency
from atelier_common.housekeeping import Sweep, Swept, expired
from atelier_payments.bootstrap import PaymentsContext
from atelier_payments.domain import OPEN_STATUSES
from atelier_payments.models import CheckoutSession, Payment
from atelier_payments.repository import PaymentRepository
from atelier_payments.service.settlement import Settlement

CHECKOUT_PAGE_RETENTION = timedelta(days=7)


def _expired_checkout_pages(retention: timedelta) -> Sweep:
    def where(now: datetime) -> ColumnElement[bool]:
        return col(CheckoutSession.expires_at) < now - retention

    return expired("checkout_pages", CheckoutSession, where)


def gift_card_hold(context: PaymentsContext) -> timedelta:
    """How long a checkout's gift cards stay held: past every provider's page of it."""
    return max(timedelta(minutes=context.settings.local_checkout_ttl_minutes), timedelta(hours=24)) + timedelta(hours=1)


def _abandoned_gift_card_holds(context: PaymentsContext) -> Sweep:
    hold = gift_card_hold(context)

    async def batch(session: AsyncSession, now: datetime, limit: int) -> Swept:
        stmt = (select(Payment.order_id, Payment.id)
                .where(col(Payment.gift_card_amount) > 0, col(Payment.status).in_([s.value for s in OPEN_STATUSES]),
                       col(Payment.created_at) < now - hold)
                .order_by(col(Payment.created_at)).limit(limit))
        found = (await session.exec(stmt)).all()
        settlement = Settlement(session, context.providers,
                                gift_card_validity_days=context.settings.gift_card_validity_days)
        for order_id, payment_id in found:
            for payment in await PaymentRepository(session).lock_for_order(order_id):
                if payment.id == payment_id:
                    await settlement.cancel(payment)
        return Swept(len(found))

    return Sweep("gift_card_holds", batch)


def sweeps(context: PaymentsContext) -> list[Sweep]:
    return [idempotency.sweep(), _expired_checkout_pages(CHECKOUT_PAGE_RETENTION), _abandoned_gift_card_holds(context)]
