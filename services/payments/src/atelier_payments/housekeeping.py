"""Payments' housekeeping rules (`atelier_common.housekeeping` runs them, besides the outbox and inbox).

- Idempotency keys past their 24 hours (`Idempotency-Key` on every paying POST).
- The `local` provider's checkout pages (`checkout_session`, served by the dev endpoints only) a
  week after they expired: no longer payable, and nothing else reads them (the payment keeps the
  session id; closing a session that is gone changes nothing). The page then answers 404.
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
from sqlmodel import col

from atelier_common import idempotency
from atelier_common.housekeeping import Sweep, expired
from atelier_payments.bootstrap import PaymentsContext
from atelier_payments.models import CheckoutSession

CHECKOUT_PAGE_RETENTION = timedelta(days=7)


def _expired_checkout_pages(retention: timedelta) -> Sweep:
    def where(now: datetime) -> ColumnElement[bool]:
        return col(CheckoutSession.expires_at) < now - retention

    return expired("checkout_pages", CheckoutSession, where)


def sweeps(context: PaymentsContext) -> list[Sweep]:
    return [idempotency.sweep(), _expired_checkout_pages(CHECKOUT_PAGE_RETENTION)]
