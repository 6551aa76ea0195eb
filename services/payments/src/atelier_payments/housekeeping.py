"""Payments' housekeeping rules (`atelier_common.housekeeping` runs them, besides the outbox and inbox).

- Idempotency keys past their 24 hours (`Idempotency-Key` on every paying POST).
- Kept: `early_refund` — a refund the provider reported before the payment's success; it is
  deleted when that success arrives (`Settlement.succeed`), so what remains is a refund whose
  success has not come yet, and deleting it would lose money owed back. It empties itself.
- Kept: payments, refunds, ledger, provider objects, subscriptions and invoices (records of
  money), and `processed_webhook` (a provider may replay an event id long after: Stripe retries
  for days, and an operator can resend any event from the dashboard).
"""

from __future__ import annotations

from atelier_common import idempotency
from atelier_common.housekeeping import Sweep
from atelier_payments.bootstrap import PaymentsContext


def sweeps(context: PaymentsContext) -> list[Sweep]:
    return [idempotency.sweep()]
