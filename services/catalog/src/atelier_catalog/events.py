"""What the catalog hears: orders (stock, returns restocked, units an edit removed or adds), payments (stock, verified purchases), identity
(accounts, and the customer groups price lists may name)."""

from __future__ import annotations

from atelier_catalog.context import CatalogContext
from atelier_catalog.service import ReservationService, ReviewService
from atelier_catalog.service.price_lists import CustomerGroupCopyService
from atelier_common.contracts.identity import AnonymousClaimed, CustomerGroupChanged, CustomerGroupDeleted, UserDeleted
from atelier_common.contracts.orders import (
    OrderCancelled,
    OrderEdited,
    OrderEditRefused,
    OrderEditRequested,
    OrderPlaced,
    ReturnReceived,
)
from atelier_common.contracts.payments import OrderPaid
from atelier_common.inbox import EventContext, Subscriptions


def _reservations(ctx: EventContext[CatalogContext]) -> ReservationService:
    return ReservationService(ctx.session, ctx.context)


async def on_order_placed(event: OrderPlaced, ctx: EventContext[CatalogContext]) -> None:
    await _reservations(ctx).reserve(event.order_id, event.order_number, event.lines, settled=event.settled,
                                     storefront=event.storefront, country=event.ship_country)


async def on_order_paid(event: OrderPaid, ctx: EventContext[CatalogContext]) -> None:
    await _reservations(ctx).commit(event.order_id, owner_id=event.user_id or event.owner_id, lines=event.lines)


async def on_order_cancelled(event: OrderCancelled, ctx: EventContext[CatalogContext]) -> None:
    await _reservations(ctx).release(event.order_id)


async def on_return_received(event: ReturnReceived, ctx: EventContext[CatalogContext]) -> None:
    await _reservations(ctx).restock_return(event.number, event.items, order_id=event.order_id)


async def on_order_edited(event: OrderEdited, ctx: EventContext[CatalogContext]) -> None:
    await _reservations(ctx).release_edited(event.order_id, event.order_number, event.edit_version, event.lines)


async def on_order_edit_requested(event: OrderEditRequested, ctx: EventContext[CatalogContext]) -> None:
    await _reservations(ctx).reserve_edit(event.order_id, event.order_number, event.edit_id, event.edit_version,
                                          event.lines)


async def on_order_edit_refused(event: OrderEditRefused, ctx: EventContext[CatalogContext]) -> None:
    await _reservations(ctx).release_refused_edit(event.order_id, event.order_number, event.edit_version,
                                                  event.lines)


async def on_user_deleted(event: UserDeleted, ctx: EventContext[CatalogContext]) -> None:
    await ReviewService(ctx.session, ctx.context).forget_user(event.user_id)


async def on_anonymous_claimed(event: AnonymousClaimed, ctx: EventContext[CatalogContext]) -> None:
    await ReviewService(ctx.session, ctx.context).claim_purchases(event.anon_id, event.user_id)


async def on_customer_group_changed(event: CustomerGroupChanged, ctx: EventContext[CatalogContext]) -> None:
    await CustomerGroupCopyService(ctx.session, ctx.context).changed(event)


async def on_customer_group_deleted(event: CustomerGroupDeleted, ctx: EventContext[CatalogContext]) -> None:
    await CustomerGroupCopyService(ctx.session, ctx.context).deleted(event)


SUBSCRIPTIONS: Subscriptions = {
    OrderPlaced: on_order_placed,
    OrderPaid: on_order_paid,
    OrderCancelled: on_order_cancelled,
    ReturnReceived: on_return_received,
    OrderEdited: on_order_edited,
    OrderEditRequested: on_order_edit_requested,
    OrderEditRefused: on_order_edit_refused,
    UserDeleted: on_user_deleted,
    AnonymousClaimed: on_anonymous_claimed,
    CustomerGroupChanged: on_customer_group_changed,
    CustomerGroupDeleted: on_customer_group_deleted,
}
