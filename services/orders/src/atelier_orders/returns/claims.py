"""A claim's replacement: the claimed units sent again as an order of their own, at no charge.

Saleor's "replace" on a return and Medusa's claims make the same move: the replacement is a new
order (its own number, history and shipment), so fulfilment ships it like any other and the
original keeps what was charged for it. Nothing is paid for it: its lines and totals are 0.00,
`order.placed` says `settled` (catalog takes the stock for good, no reservation to expire), and
catalog's `stock.reserved` makes it `paid` (ready to ship) without an invoice: the goods were
invoiced with the order it replaces. Out of stock, catalog refuses it like any order (`rejected`),
and staff may settle the claim by a refund instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import outbox
from atelier_common.auth import Principal
from atelier_common.contracts.orders import OrderPlaced, ReturnRejected
from atelier_common.money import quantize
from atelier_orders.domain import Actor, OrderStatus, ship_country
from atelier_orders.models import OrderReturn, OrderReturnLine, utcnow
from atelier_orders.repository import OrderRepository, ReturnRepository
from atelier_orders.returns.rules import ReturnKind, ReturnStatus
from atelier_orders.rows import LockedOrder, OrderDetails
from atelier_orders.service._shared import (
    announce_status,
    contract_line,
    history_entry,
    insert_numbered,
    record_status,
)

ZERO = quantize(0)


async def place_replacement(session: AsyncSession, original: OrderDetails, lines: Sequence[OrderReturnLine],
                            claim: OrderReturn, staff: Principal, *, attempts: int) -> OrderDetails:
    """The replacement of `lines` of `original` for `claim`, written with its first history entry,
    its items and `order.placed` (settled) in this transaction."""
    orders = OrderRepository(session)
    items = {item.id: item for item in original.items}
    now = utcnow()
    order_id = uuid.uuid4()
    note = f"Replacement for order {original.order_number} (claim {claim.number}), at no charge"
    fields: dict[str, Any] = dict(
        id=order_id, owner_id=original.owner_id, user_id=original.user_id, storefront=original.storefront,
        email=original.email, status=OrderStatus.PENDING.value, currency=original.currency, subtotal=ZERO,
        tax_amount=ZERO, shipping_cost=ZERO, discount=ZERO, total_amount=ZERO, tax_included=ZERO,
        shipping_discount=ZERO, shipping_tax=ZERO, shipping_tax_inclusive=False,
        shipping_address=original.shipping_address, billing_address=original.billing_address,
        buyer_tax_number=original.buyer_tax_number, register_buyer=False, tracking_number=None, from_cart=False,
        paid_at=None, shipped_at=None, delivered_at=None, created_at=now, updated_at=now,
        shipping_method=original.shipping_method, shipping_method_name=original.shipping_method_name,
        shipping_method_id=original.shipping_method_id, shipping_zone=original.shipping_zone,
        tax_rate=original.tax_rate, discounts=[], replaces_order_id=original.id, anon_reader_id=None,
        claimed_at=None, imported_from=None, exchange_credit=ZERO, locale=original.locale)
    entry = history_entry(order_id, None, OrderStatus.PENDING, note=note, actor=Actor.STAFF, actor_id=staff.user_id,
                          now=now)
    order = await insert_numbered(session, fields, entry, attempts=attempts)
    rows = []
    for position, line in enumerate(lines, start=1):
        item = items[line.item_id]
        rows.append(dict(
            id=uuid.uuid4(), order_id=order.id, position=position, product_id=item.product_id,
            variant_id=item.variant_id, sku=item.sku, name=item.name, variant_name=item.variant_name, kind=item.kind,
            quantity=line.quantity, unit_price=ZERO, line_total=ZERO, discount_amount=ZERO, tax_rate=item.tax_rate,
            tax_amount=ZERO, tax_inclusive=item.tax_inclusive, attributes=item.attributes, book_id=None,
            content_type=None, content_id=None))
    await orders.insert_items(order, rows)
    await outbox.add(session, OrderPlaced(
        order_id=order.id, order_number=order.order_number, owner_id=order.owner_id, user_id=order.user_id,
        storefront=order.storefront, lines=[contract_line(item) for item in rows], currency=order.currency,
        total_amount=ZERO, email=order.email, shipping_method=order.shipping_method, settled=True,
        ship_country=ship_country(order.shipping_address)))
    await announce_status(session, order, None, note=note)
    return order


async def replacement_refused(session: AsyncSession, replacement: LockedOrder, reason: str) -> None:
    """Catalog refused the replacement's stock: its claim gives its units back (`rejected`), so that
    staff may settle them again (by a refund), and the original order's history says so. Under the
    original's lock, as every change of its returns and claims."""
    claims = ReturnRepository(session)
    claim = await claims.by_replacement(replacement.id)
    if claim is None or replacement.replaces_order_id is None:
        return
    await claims.hold(replacement.replaces_order_id)
    original = await OrderRepository(session).lock(replacement.replaces_order_id)
    exchange = claim.kind == ReturnKind.EXCHANGE
    note = f"{'exchange order' if exchange else 'replacement'} {replacement.order_number} refused: {reason}"
    # An exchange's order is placed when it is approved; a claim's replacement settles it.
    was = (ReturnStatus.APPROVED,) if exchange else (ReturnStatus.REPLACED,)
    if original is None or not await claims.move(claim.id, was, {
            "status": ReturnStatus.REJECTED, "note": note[:500], "updated_at": utcnow()}):
        return
    await outbox.add(session, ReturnRejected(
        storefront=original.storefront, return_id=claim.id, number=claim.number, order_id=original.id,
        order_number=original.order_number, owner_id=original.owner_id, user_id=original.user_id, reason=note))
    await record_status(session, original, OrderStatus(original.status), actor=Actor.CATALOG,
                        note=f"{'Exchange' if exchange else 'Claim'} {claim.number}: {note}; its units may be "
                             "settled again"[:1000])



async def exchange_order_cancelled(session: AsyncSession, order: LockedOrder, reason: str) -> None:
    """An exchange's order cancelled (by staff or the customer, or refused after payment) while
    the exchange waits for its lines: the exchange is rejected, its units free again, as when
    catalog refuses its stock. One whose lines came back already stays as it is (staff settle it).
    A claim's replacement cancelled leaves its claim as it is."""
    found = await ReturnRepository(session).by_replacement(order.id)
    if found is not None and found.kind == ReturnKind.EXCHANGE:
        await replacement_refused(session, order, f"cancelled ({reason})")
