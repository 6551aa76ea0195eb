"""An exchange's new items: priced by the one pricing function at the order's storefront, currency
and tax, and sent out as an order of their own (Medusa's exchange outbound items, Saleor's
"replace" on a return), paid by the credit of the lines coming back and, for what that credit does
not cover, by the customer through a payment link (the draft order's).

The exchange's order is a claim replacement's kin (`returns.claims`): `replaces_order_id` names the
original, `order.placed` makes catalog hold its stock all or none. What differs is the money: its
lines are priced (and it is invoiced for them), its `exchange_credit` pays that much of its total.
Paid in full by the credit, `order.placed` says `settled` and catalog's `stock.reserved` makes it
paid (ready to ship, invoiced); owing the rest, it awaits its payment like any order and ships
only once paid.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import outbox
from atelier_common.contracts.orders import DraftOrderSent, ExchangeItem, OrderPlaced
from atelier_common.money import quantize
from atelier_orders.bootstrap import OrdersContext
from atelier_orders.domain import Actor, OrderStatus, ship_country
from atelier_orders.drafts.service import payment_url
from atelier_orders.errors import InvalidReturnLine
from atelier_orders.models import OrderReturn, utcnow
from atelier_orders.pricing import charges, destinations
from atelier_orders.repository import OrderRepository
from atelier_orders.returns import rules as return_rules
from atelier_orders.rows import OrderDetails
from atelier_orders.schemas.returns import ExchangeItemCreate
from atelier_orders.service._shared import announce_status, contract_line, history_entry, insert_numbered
from atelier_orders.service.placing import LineRequest, PlacementService

ZERO = quantize(0)


async def price_new_items(session: AsyncSession, context: OrdersContext, order: OrderDetails,
                          asked: Sequence[ExchangeItemCreate]) -> tuple[list[dict[str, Any]], Decimal]:
    """The new items as placing prices a line (catalog's lookup at the order's storefront, at what
    the customer group the order was priced at pays: `Order.customer_group`), taxed at the order's destination by their tax class
    through `charges.price`, with no promotion (the order's were given for its own lines) and no
    shipping (the exchange ships at the shop's cost). Goods from stock only. Answers the items (money as
    decimal strings, as `OrderReturn.outgoing` keeps them) and their total."""
    storefront = await context.storefronts.get(order.storefront)
    priced = await PlacementService(session, context).priced_lines(
        [LineRequest(quantity=a.quantity, product_id=a.product_id, variant_id=a.variant_id) for a in asked],
        storefront, order.customer_group, locale=order.locale)
    if wrong := [f"{line.sku}: a {line.product.kind} is not goods from stock" for line in priced
                 if not return_rules.is_exchangeable_kind(line.product.kind)]:
        raise InvalidReturnLine("Only goods from stock are sent in an exchange", details={"fields": {"new_items": wrong}})
    address = order.shipping_address or {}
    tax = destinations.shipping_quote(
        storefront, country=address.get("country"), region=address.get("state"),
        lines=((line.product.kind, line.unit_price * line.request.quantity, line.request.quantity, line.attributes)
               for line in priced),
        tax_inclusive_kinds=context.settings.tax_inclusive_kinds, shipping_cost=context.settings.shipping_cost).tax
    result = charges.price([charges.Line(kind=line.product.kind, unit_price=line.unit_price,
                                         quantity=line.request.quantity, tax_class=line.product.tax_class)
                            for line in priced], tax)
    items = [{"product_id": str(line.product.id), "variant_id": str(line.variant_id) if line.variant_id else None,
              "sku": line.sku, "name": line.product.name, "variant_name": line.variant_name, "kind": line.product.kind,
              "quantity": line.request.quantity, "unit_price": str(quantize(line.unit_price)),
              "line_total": str(charge.amount), "discount_amount": str(charge.discount),
              "tax_rate": str(charge.tax_rate), "tax_amount": str(charge.tax), "tax_inclusive": charge.tax_inclusive,
              "attributes": dict(line.attributes)}
             for line, charge in zip(priced, result.lines, strict=True)]
    return items, result.total


def item_charged(item: dict[str, Any]) -> Decimal:
    """What a new item is charged: its price less its discount, plus its tax when added on top."""
    charged = Decimal(item["line_total"]) - Decimal(item["discount_amount"])
    return quantize(charged if item["tax_inclusive"] else charged + Decimal(item["tax_amount"]))


def contract_items(items: Sequence[dict[str, Any]]) -> list[ExchangeItem]:
    return [ExchangeItem(product_id=item["product_id"], variant_id=item["variant_id"], sku=item["sku"],
                         quantity=item["quantity"], unit_price=Decimal(item["unit_price"]), amount=item_charged(item))
            for item in items]


async def place_exchange_order(session: AsyncSession, original: OrderDetails, exchange: OrderReturn,
                               settlement: return_rules.Settlement, *, actor_id: uuid.UUID | None,
                               attempts: int) -> OrderDetails:
    """The order that sends `exchange`'s new items (`exchange.outgoing`), written with its first
    history entry, its items and `order.placed` in this transaction: at their prices, the credit
    paying `settlement.credit_applied` of it; `settled` (catalog takes the stock for good) when
    nothing is left to pay."""
    items = list(exchange.outgoing or [])
    now = utcnow()
    order_id = uuid.uuid4()
    due = settlement.amount_due
    note = (f"Exchange order for order {original.order_number} (exchange {exchange.number}): credit "
            f"{settlement.credit_applied} {original.currency}" + (f", {due} {original.currency} due" if due else ""))
    subtotal = quantize(sum((Decimal(i["line_total"]) for i in items), ZERO))
    tax_amount = quantize(sum((Decimal(i["tax_amount"]) for i in items), ZERO))
    tax_included = quantize(sum((Decimal(i["tax_amount"]) for i in items if i["tax_inclusive"]), ZERO))
    fields: dict[str, Any] = dict(
        id=order_id, owner_id=original.owner_id, user_id=original.user_id, storefront=original.storefront,
        email=original.email, status=OrderStatus.PENDING.value, currency=original.currency, subtotal=subtotal,
        tax_amount=tax_amount, shipping_cost=ZERO, discount=ZERO, total_amount=settlement.new_items_total,
        tax_included=tax_included, shipping_discount=ZERO, shipping_tax=ZERO, shipping_tax_inclusive=False,
        shipping_address=original.shipping_address, billing_address=original.billing_address,
        buyer_tax_number=original.buyer_tax_number, register_buyer=False, tracking_number=None, from_cart=False,
        paid_at=None, shipped_at=None, delivered_at=None, created_at=now, updated_at=now,
        shipping_method=original.shipping_method, shipping_method_name=original.shipping_method_name,
        shipping_method_id=original.shipping_method_id, shipping_zone=original.shipping_zone,
        tax_rate=original.tax_rate, discounts=[], replaces_order_id=original.id, anon_reader_id=None,
        claimed_at=None, imported_from=None, exchange_credit=settlement.credit_applied, locale=original.locale,
        customer_group=original.customer_group)
    entry = history_entry(order_id, None, OrderStatus.PENDING, note=note, actor=Actor.STAFF, actor_id=actor_id,
                          now=now)
    order = await insert_numbered(session, fields, entry, attempts=attempts)
    rows = [dict(id=uuid.uuid4(), order_id=order.id, position=position, product_id=uuid.UUID(item["product_id"]),
                 variant_id=uuid.UUID(item["variant_id"]) if item["variant_id"] else None, sku=item["sku"],
                 name=item["name"], variant_name=item["variant_name"], kind=item["kind"], quantity=item["quantity"],
                 unit_price=Decimal(item["unit_price"]), line_total=Decimal(item["line_total"]),
                 discount_amount=Decimal(item["discount_amount"]), tax_rate=Decimal(item["tax_rate"]),
                 tax_amount=Decimal(item["tax_amount"]), tax_inclusive=item["tax_inclusive"],
                 attributes=item["attributes"], book_id=None, content_type=None, content_id=None)
            for position, item in enumerate(items, start=1)]
    await OrderRepository(session).insert_items(order, rows)
    await outbox.add(session, OrderPlaced(
        order_id=order.id, order_number=order.order_number, owner_id=order.owner_id, user_id=order.user_id,
        storefront=order.storefront, lines=[contract_line(item) for item in rows], currency=order.currency,
        total_amount=order.total_amount, email=order.email, shipping_method=order.shipping_method,
        settled=due == 0, ship_country=ship_country(order.shipping_address)))
    await announce_status(session, order, None, note=note)
    return order


async def send_payment_link(session: AsyncSession, context: OrdersContext, exchange: OrderReturn,
                            order: OrderDetails, due: Decimal, now: datetime) -> str:
    """The link that pays what an exchange's order leaves due: the draft order's payment link
    (`drafts.service.payment_url`), valid as long as a draft's, and mailed to the customer by
    identity as a sent draft's is (`draft_order.sent`, naming the exchange)."""
    storefront = await context.storefronts.get(order.storefront)
    expires_at = now + timedelta(hours=context.settings.draft_payment_link_hours)
    url = payment_url(context.settings.service_token, storefront, order.id, expires_at)
    await outbox.add(session, DraftOrderSent(
        storefront=order.storefront, draft_id=exchange.id, order_id=order.id, order_number=order.order_number,
        user_id=order.user_id, email=order.email, total_amount=due, currency=order.currency, payment_url=url,
        expires_at=expires_at))
    return url
