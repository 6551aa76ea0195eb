"""What the cart hears: product changes (its read-model), when promotions run, logins, orders,
deleted users."""

from __future__ import annotations

from atelier_cart.bootstrap import CartContext
from atelier_cart.promotions import PromotionWindows
from atelier_cart.service import CartService, ProductReadModel
from atelier_common.contracts.catalog import ProductChanged
from atelier_common.contracts.identity import AnonymousClaimed, UserDeleted
from atelier_common.contracts.orders import OrderPlaced, PromotionChanged
from atelier_common.inbox import EventContext, Filtered, Subscriptions


def _carts(ctx: EventContext[CartContext]) -> CartService:
    return CartService(ctx.session, ctx.context)


async def on_product_changed(event: ProductChanged, ctx: EventContext[CartContext]) -> None:
    await ProductReadModel(ctx.session).apply_change(event, occurred_at=ctx.envelope.occurred_at)


async def on_promotion_changed(event: PromotionChanged, ctx: EventContext[CartContext]) -> None:
    await PromotionWindows(ctx.session).apply(event)


async def on_anonymous_claimed(event: AnonymousClaimed, ctx: EventContext[CartContext]) -> None:
    await _carts(ctx).merge_anonymous(event.anon_id, event.user_id)


async def on_order_placed(event: OrderPlaced, ctx: EventContext[CartContext]) -> None:
    await _carts(ctx).clear_after_order(event.owner_id, event.storefront, from_cart=event.from_cart,
                                        order_id=event.order_id, lines=event.lines, anonymous=event.user_id is None)


async def on_user_deleted(event: UserDeleted, ctx: EventContext[CartContext]) -> None:
    await _carts(ctx).forget_owner(event.user_id)


SUBSCRIPTIONS: Subscriptions = {
    ProductChanged: Filtered(on_product_changed, wants=ProductReadModel.needs),
    PromotionChanged: on_promotion_changed,
    AnonymousClaimed: on_anonymous_claimed,
    OrderPlaced: on_order_placed,
    UserDeleted: on_user_deleted,
}
