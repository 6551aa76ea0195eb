"""Orders' housekeeping rules (`atelier_common.housekeeping` runs them, besides the outbox and inbox).

- Idempotency keys past their 24 hours (`Idempotency-Key` on `POST /orders`).
- `order_owner` rows that learned nothing (no claim, no erasure), untouched for the inbox window
  (`atelier_common.owners` says why that is safe and why the others stay).
- A claimed order's anonymous reader (`anon_reader_id`, `claimed_at`), cleared
  `anonymous_retention_days` after the claim: by then the anonymous token that may still read the
  order (4 weeks) has expired. The order stays (the user's).
- Edits of paid orders whose payment did not come by `expires_at` (`edit_payment_hours`): refused,
  their units given back (`OrderEdits.expire_waiting`; not a deletion).
- Kept: orders, their items, addresses and status history, invoices and credit notes (and their
  numbering) — a customer's records and the accounts'.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import idempotency, owners
from atelier_common.housekeeping import Sweep, Swept
from atelier_orders.bootstrap import OrdersContext
from atelier_orders.edits.service import OrderEdits
from atelier_orders.models import OrderOwner
from atelier_orders.repository import OrderRepository


def _claimed_order_readers(retention: timedelta) -> Sweep:
    async def batch(session: AsyncSession, now: datetime, limit: int) -> Swept:
        return Swept(await OrderRepository(session).forget_readers(now - retention, limit), [])

    return Sweep("claimed_order_readers", batch)


def _unpaid_edits(context: OrdersContext) -> Sweep:
    async def batch(session: AsyncSession, now: datetime, limit: int) -> Swept:
        return Swept(await OrderEdits(session, context).expire_waiting(now, limit), [])

    return Sweep("unpaid_order_edits", batch)


def sweeps(context: OrdersContext) -> list[Sweep]:
    return [idempotency.sweep(), owners.sweep(OrderOwner, context.settings.inbox_window),
            _claimed_order_readers(timedelta(days=context.settings.anonymous_retention_days)),
            _unpaid_edits(context)]
