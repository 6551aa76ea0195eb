"""Cart's housekeeping rules (`atelier_common.housekeeping` runs them, besides the outbox and inbox).

- `cleared_order` (an order whose lines already left the cart: the same `order.placed` heard
  again takes nothing more out) goes once older than the inbox window: only a copy of that one
  event reads it, and no copy arrives after the window (`settings.inbox_floor`).
- `cart_owner` rows that learned nothing, untouched for the inbox window (`atelier_common.owners`).
- Kept: carts and their lines, the product read-model.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement
from sqlmodel import col

from atelier_cart.bootstrap import CartContext
from atelier_cart.models import CartOwner, ClearedOrder
from atelier_common import owners
from atelier_common.housekeeping import Sweep, expired


def _cleared_orders(window: timedelta) -> Sweep:
    def where(now: datetime) -> ColumnElement[bool]:
        return col(ClearedOrder.created_at) < now - window

    return expired("cleared_orders", ClearedOrder, where)


def sweeps(context: CartContext) -> list[Sweep]:
    window = context.settings.inbox_window
    return [_cleared_orders(window), owners.sweep(CartOwner, window)]
