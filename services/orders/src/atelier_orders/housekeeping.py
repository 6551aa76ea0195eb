"""Orders' housekeeping rules (`atelier_common.housekeeping` runs them, besides the outbox and inbox).

- Idempotency keys past their 24 hours (`Idempotency-Key` on `POST /orders`).
- `order_owner` rows that learned nothing (no claim, no erasure), untouched for the inbox window
  (`atelier_common.owners` says why that is safe and why the others stay).
- Kept: orders, their items, addresses and status history — a customer's records.
"""

from __future__ import annotations

from atelier_common import idempotency, owners
from atelier_common.housekeeping import Sweep
from atelier_orders.bootstrap import OrdersContext
from atelier_orders.models import OrderOwner


def sweeps(context: OrdersContext) -> list[Sweep]:
    return [idempotency.sweep(), owners.sweep(OrderOwner, context.settings.inbox_window)]
