"""Catalog's housekeeping rules (`atelier_common.housekeeping` runs them, besides the outbox and inbox).

- `stock_order` (one row per order heard of: the lock serialising `order.placed`, `order.paid`
  and `order.cancelled` of one order, and a payment or cancellation heard before the placement)
  goes once untouched for the inbox window. Every handler upserts the row again when it needs the
  lock; `commit` and `release` read the reservations, not the row; only `reserve` reads what the
  row recorded, for an `order.placed` that orders published before the order could be paid or
  cancelled. That event reaches catalog within the broker's redelivery horizon — queued, retried,
  or moved back from the dead-letter queue within the inbox window, the operating rule the inbox
  already depends on (`settings.inbox_floor`) — so past the window nothing can still need the row.
- `catalog_owner` rows that learned nothing, untouched for the inbox window (`atelier_common.owners`).
- Kept: products, stock and its movements, reservations, purchases, reviews, wishlists.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement
from sqlmodel import col

from atelier_catalog.context import CatalogContext
from atelier_catalog.models import CatalogOwner, StockOrder
from atelier_common import owners
from atelier_common.housekeeping import Sweep, expired


def _stock_orders(window: timedelta) -> Sweep:
    def where(now: datetime) -> ColumnElement[bool]:
        return col(StockOrder.updated_at) < now - window

    return expired("stock_orders", StockOrder, where)


def sweeps(context: CatalogContext) -> list[Sweep]:
    window = context.settings.inbox_window
    return [_stock_orders(window), owners.sweep(CatalogOwner, window)]
