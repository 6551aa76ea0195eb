"""Cart's housekeeping rules (`atelier_common.housekeeping` runs them, besides the outbox and inbox).

- `cleared_order` (an order whose lines already left the cart: the same `order.placed` heard
  again takes nothing more out) goes once older than the inbox window: only a copy of that one
  event reads it, and no copy arrives after the window (`settings.inbox_floor`).
- `cart_owner` rows that learned nothing, untouched for the inbox window (`atelier_common.owners`).
- Anonymous visitors' carts (created by an anonymous caller, `cart.anonymous`) of which neither
  the cart nor a line changed for `anonymous_retention_days` (30: longer than the anonymous
  token's 4 weeks), with their lines. A cart handed to a user at sign-in is the user's: never.
- A shipping choice (`cart_shipping`) whose cart is gone, once unchanged for the same retention.
- Kept: users' carts and their lines, the product read-model.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_cart.bootstrap import CartContext
from atelier_cart.models import Cart, CartOwner, CartShipping, ClearedOrder
from atelier_cart.repository import CartRepository
from atelier_common import owners
from atelier_common.housekeeping import Sweep, Swept, expired


def _cleared_orders(window: timedelta) -> Sweep:
    def where(now: datetime) -> ColumnElement[bool]:
        return col(ClearedOrder.created_at) < now - window

    return expired("cleared_orders", ClearedOrder, where)


def _untouched_anonymous_carts(retention: timedelta) -> Sweep:
    async def batch(session: AsyncSession, now: datetime, limit: int) -> Swept:
        return Swept(await CartRepository(session).delete_untouched_anonymous(now - retention, limit))

    return Sweep("anonymous_carts", batch)


def _orphan_shipping_choices(retention: timedelta) -> Sweep:
    def where(now: datetime) -> ColumnElement[bool]:
        return and_(col(CartShipping.chosen_at) < now - retention, ~exists().where(
            col(Cart.owner_id) == col(CartShipping.owner_id), col(Cart.storefront) == col(CartShipping.storefront)))

    return expired("shipping_choices", CartShipping, where)


def sweeps(context: CartContext) -> list[Sweep]:
    window = context.settings.inbox_window
    return [_cleared_orders(window), owners.sweep(CartOwner, window),
            _untouched_anonymous_carts(timedelta(days=context.settings.anonymous_retention_days)),
            _orphan_shipping_choices(timedelta(days=context.settings.anonymous_retention_days))]
