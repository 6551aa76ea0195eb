"""What the order use cases share: loading by id, and recording a status change."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import outbox
from atelier_common.contracts.identity import Storefront
from atelier_common.contracts.orders import OrderLine, OrderStatusChanged
from atelier_common.money import quantize
from atelier_common.storefronts import UnknownStorefront
from atelier_common.telemetry import log_when_committed
from atelier_orders import domain
from atelier_orders.bootstrap import OrdersContext
from atelier_orders.domain import Actor, OrderStatus
from atelier_orders.errors import InvalidStatusTransition, OrderNotFound, OrderNumberExhausted
from atelier_orders.models import utcnow
from atelier_orders.promotions.repository import PromotionRepository
from atelier_orders.queries import OrderQueries
from atelier_orders.repository import OrderRepository
from atelier_orders.rows import LockedOrder, OrderDetails

log = logging.getLogger("atelier.orders.status")
# One INFO line per order placed, paid and refunded, with its number and storefront (docs/operations.md).
business_log = logging.getLogger("atelier.orders")


def order_id_of(ref: str | uuid.UUID) -> uuid.UUID:
    """The order id in a path; a malformed one names no order (404, like an unknown one)."""
    order_id = ref if isinstance(ref, uuid.UUID) else domain.parse_uuid(ref)
    if order_id is None:
        raise OrderNotFound()
    return order_id


async def reload(session: AsyncSession, order_id: uuid.UUID) -> OrderDetails:
    """The order with its items and history as they are now in this transaction (status changes
    write with statements of their own: nothing waits in the session to be flushed first)."""
    order = await OrderQueries(session).get(order_id)
    if order is None:  # pragma: no cover - the caller just wrote it
        raise OrderNotFound()
    return order


async def record_status(session: AsyncSession, order: LockedOrder, previous: OrderStatus | None, *, note: str,
                        actor: Actor, actor_id: uuid.UUID | None = None) -> None:
    """Write `order`'s status columns and the history entry of its current status, and announce
    it, in this transaction.

    `previous` equal to the current status records a note that changed nothing (no event then).
    """
    now = utcnow()
    await OrderRepository(session).save_status(order, history_entry(
        order.id, previous, order.status, note=note, actor=actor, actor_id=actor_id, now=now))
    if previous == order.status:
        return
    # Cancelled or rejected before payment: the order's discount codes get their uses back.
    if previous in domain.PAYABLE and order.status in (OrderStatus.CANCELLED, OrderStatus.REJECTED):
        await PromotionRepository(session).release_order(order.id, now)
    await announce_status(session, order, previous, note=note)


def log_order(session: AsyncSession, order: LockedOrder | OrderDetails, what: str, amount: Decimal,
              currency: str) -> None:
    """`order ORD-… paid on storefront default: 32.24 USD`, written once the transaction commits."""
    money = quantize(amount)
    log_when_committed(session, business_log, "order %s %s on storefront %s: %s %s", order.order_number, what,
                       order.storefront, money, currency, order_number=order.order_number, order_id=str(order.id),
                       storefront=order.storefront, amount=str(money), currency=currency, order_event=what)


def history_entry(order_id: uuid.UUID, previous: OrderStatus | None, status: str, *, note: str, actor: Actor,
                  actor_id: uuid.UUID | None, now: datetime) -> dict[str, Any]:
    """The columns of an `order_status_history` row."""
    return {"order_id": order_id, "from_status": None if previous is None else str(previous),
            "to_status": str(status), "note": note, "actor": str(actor), "actor_id": actor_id, "created_at": now}


async def insert_numbered(session: AsyncSession, fields: dict[str, Any], first_entry: dict[str, Any], *,
                          attempts: int) -> OrderDetails:
    """A new order (`fields`: every column but its number) with its first history entry, under
    the first free order number of today's (at most `attempts` tried)."""
    orders = OrderRepository(session)
    today = utcnow().date()
    for _ in range(attempts):
        order = await orders.insert_if_number_free({**fields, "order_number": domain.new_order_number(today)},
                                                   first_entry)
        if order is not None:
            return order
    raise OrderNumberExhausted()


def contract_line(item: dict[str, Any]) -> OrderLine:
    """An `order_item` row's columns as `order.placed` carries the line."""
    return OrderLine(product_id=item["product_id"], variant_id=item["variant_id"], sku=item["sku"], kind=item["kind"],
                     quantity=item["quantity"], unit_price=item["unit_price"], attributes=item["attributes"],
                     book_id=item["book_id"], content_type=item["content_type"], content_id=item["content_id"],
                     name=item["name"], gift_recipient_email=item.get("gift_recipient_email"),
                     gift_message=item.get("gift_message"), gift_send_at=item.get("gift_send_at"))


async def announce_status(session: AsyncSession, order: LockedOrder | OrderDetails, previous: OrderStatus | None, *,
                          note: str) -> None:
    await outbox.add(session, OrderStatusChanged(
        order_id=order.id, order_number=order.order_number, owner_id=order.owner_id, user_id=order.user_id,
        storefront=order.storefront, email=order.email, old_status=None if previous is None else str(previous),
        new_status=str(order.status), note=note, tracking_number=order.tracking_number,
        locale=order.locale))


# Who asks for a move by a request (an illegal one is refused with 409); any other actor asks by
# an event, which cannot be refused: its illegal move is logged and noted, never applied.
_REQUESTERS = frozenset({Actor.CUSTOMER, Actor.STAFF})


async def transition(session: AsyncSession, order: LockedOrder, target: OrderStatus, *, note: str, actor: Actor,
                     actor_id: uuid.UUID | None = None) -> bool:
    """The one way an order's status changes, whoever asks: checked against `domain.TRANSITIONS`
    (and the kind rules of `domain.transition_problem`), then applied with its timestamps, history
    entry and `order.status_changed`. Whether it was applied.

    An illegal move asked by a customer or staff raises `InvalidStatusTransition`; one asked by an
    event (catalog, payments, the system) is logged and written to the history as a note with the
    status unchanged: the order never moves where the rules forbid.
    """
    current = OrderStatus(order.status)
    digital_only = not order.ships
    by_staff = actor is Actor.STAFF
    problem = domain.transition_problem(current, target, digital_only=digital_only, by_staff=by_staff)
    if problem is not None:
        if actor in _REQUESTERS:
            raise InvalidStatusTransition(problem, details={
                "from": current.value, "to": target.value,
                "allowed": domain.allowed_targets(current, digital_only=digital_only, by_staff=by_staff)})
        log.warning("order %s: %s asked for %s -> %s, not applied: %s", order.id, actor, current, target, problem)
        await record_status(session, order, current, actor=actor, actor_id=actor_id,
                            note=f"Not applied: {note} ({problem})")
        return False
    await _apply(session, order, target, note=note, actor=actor, actor_id=actor_id)
    return True


async def _apply(session: AsyncSession, order: LockedOrder, target: OrderStatus, *, note: str, actor: Actor,
                 actor_id: uuid.UUID | None) -> None:
    previous = OrderStatus(order.status)
    now = utcnow()
    order.status = target
    if target == OrderStatus.PAID and order.paid_at is None:
        order.paid_at = now
    elif target == OrderStatus.SHIPPED:
        order.shipped_at = now
    elif target == OrderStatus.DELIVERED:
        order.delivered_at = now
    await record_status(session, order, previous, note=note, actor=actor, actor_id=actor_id)


async def ships_with_tracking(context: OrdersContext, slug: str) -> bool:
    """Whether the storefront `slug` ships its orders only with a tracking number (a storefront
    deleted since has no rule left)."""
    try:
        storefront: Storefront | None = await context.storefronts.get(slug)
    except UnknownStorefront:
        storefront = None
    return domain.ships_with_tracking(storefront)
