"""Orders' rows: an order, its items and its history as plain dataclasses, read and written with
statements built once (`repository.py`, `queries.py`): under load, building statements and ORM
objects cost orders more CPU than PostgreSQL spent running them. The anonymisation keeps the ORM.

A row's fields are its table's columns, read by name (`tests/unit/test_rows.py` checks them).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from atelier_orders.promotions import rules as promotion_rules


@dataclass
class OrderItemRow:
    id: uuid.UUID
    order_id: uuid.UUID
    position: int
    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    sku: str
    name: str
    variant_name: str | None
    kind: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    discount_amount: Decimal
    tax_rate: Decimal
    tax_amount: Decimal
    tax_inclusive: bool
    attributes: dict[str, Any]
    book_id: uuid.UUID | None
    content_type: str | None
    content_id: uuid.UUID | None
    gift_recipient_email: str | None = None
    gift_message: str | None = None
    gift_send_at: datetime | None = None
    # Where its units ship from (`OrderItem.ships_from`); None until catalog reserved them.
    ships_from: list[dict[str, Any]] | None = None


@dataclass
class StatusEntry:
    id: int
    order_id: uuid.UUID
    from_status: str | None
    to_status: str
    note: str
    actor: str
    actor_id: uuid.UUID | None
    created_at: datetime


@dataclass
class OrderDetails:
    """An order with its items and history, as the API shows it (`schemas.OrderRead`)."""

    id: uuid.UUID
    order_number: str
    owner_id: uuid.UUID
    user_id: uuid.UUID | None
    storefront: str
    email: str | None
    status: str
    currency: str
    subtotal: Decimal
    tax_amount: Decimal
    shipping_cost: Decimal
    discount: Decimal
    total_amount: Decimal
    shipping_address: dict[str, Any] | None
    billing_address: dict[str, Any] | None
    tracking_number: str | None
    from_cart: bool
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    updated_at: datetime
    anon_reader_id: uuid.UUID | None = None
    shipping_method: str | None = None
    shipping_method_name: str | None = None
    shipping_zone: str | None = None
    shipping_method_id: uuid.UUID | None = None
    tax_rate: Decimal | None = None
    tax_included: Decimal = Decimal("0.00")
    shipping_discount: Decimal = Decimal("0.00")
    shipping_tax: Decimal = Decimal("0.00")
    shipping_tax_inclusive: bool = False
    claimed_at: datetime | None = None
    imported_from: str | None = None
    replaces_order_id: uuid.UUID | None = None
    exchange_credit: Decimal = Decimal("0.00")
    discounts: list[dict[str, Any]] = field(default_factory=list)
    buyer_tax_number: str | None = None
    register_buyer: bool = False
    locale: str | None = None
    customer_group: str | None = None
    refunded_amount: Decimal = Decimal("0.00")  # from payments' refund records, filled by the reads that show it
    items: list[OrderItemRow] = field(default_factory=list)
    status_history: list[StatusEntry] = field(default_factory=list)

    @property
    def item_count(self) -> int:
        return sum(item.quantity for item in self.items)

    @property
    def discounts_read(self) -> list[dict[str, Any]]:
        """`discounts` as every read of the order answers them: each promotion with its share of the
        lines (`lines`), read from the lines' own discounts (`promotions.rules.order_discounts`)."""
        return promotion_rules.order_discounts(self.discounts, self.items)

    @property
    def shipping_charged(self) -> Decimal:
        """What its shipping was charged: the cost, plus the tax added on it."""
        return self.shipping_cost + (Decimal("0") if self.shipping_tax_inclusive else self.shipping_tax)


@dataclass
class OrderSummaryRow:
    """A line of a list of orders (the customer's, staff's search): the order's columns a list shows,
    and its units counted beside it by the same statement (`queries.py`)."""

    id: uuid.UUID
    order_number: str
    storefront: str
    status: str
    currency: str
    subtotal: Decimal
    tax_amount: Decimal
    shipping_cost: Decimal
    discount: Decimal
    total_amount: Decimal
    tracking_number: str | None
    created_at: datetime
    updated_at: datetime
    email: str | None
    user_id: uuid.UUID | None
    item_count: int


@dataclass
class PaidOrderRow(OrderSummaryRow):
    """A line of the paid orders' feed: a list's line and when it was paid."""

    paid_at: datetime


@dataclass
class LockedOrder:
    """What a status change reads of the order it locked (`OrderRepository.lock`), and writes
    back (`OrderRepository.save_status`): the status columns, and what its events announce."""

    id: uuid.UUID
    order_number: str
    owner_id: uuid.UUID
    user_id: uuid.UUID | None
    storefront: str
    email: str | None
    status: str
    currency: str
    total_amount: Decimal
    tracking_number: str | None
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    # As read under the lock: the order's version (`domain.order_version`) a staff form is checked against.
    updated_at: datetime
    # Whether a line is shipped (`domain.requires_shipping` of the items' kinds).
    ships: bool
    # A claim's replacement (`returns.claims`), or an exchange's order (`returns.exchanges`): the
    # order it replaces; nothing is paid for a replacement.
    replaces_order_id: uuid.UUID | None = None
    # An exchange's order: what the lines coming back pay of its total (the rest is due).
    exchange_credit: Decimal = Decimal("0.00")
    # The buyer's language (`Order.locale`): `order.status_changed` carries it for the mail.
    locale: str | None = None

    @property
    def amount_due(self) -> Decimal:
        """What the customer pays for it: its total less an exchange's credit."""
        return max(self.total_amount - self.exchange_credit, Decimal("0.00"))
