"""Events produced by orders."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from atelier_common.contracts.identity import DEFAULT_STOREFRONT
from atelier_common.events.envelope import ContractModel, IntegrationEvent


class OrderLine(ContractModel):
    """One line of an order as other services need it."""

    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    sku: str
    kind: str
    quantity: int
    unit_price: Decimal
    attributes: dict[str, Any] = {}
    # S0 print orders and retry packs name the thing they are for.
    book_id: uuid.UUID | None = None
    content_type: str | None = None
    content_id: uuid.UUID | None = None
    # Added by orders (optional): the product name as sold.
    name: str | None = None


class OrderPlaced(IntegrationEvent):
    """A new order: catalog reserves its stock, cart clears the owner's cart."""

    type = "order.placed"
    # The storefront it happened on (`contracts.identity.Storefront`); older events: the default.
    storefront: str = DEFAULT_STOREFRONT
    order_id: uuid.UUID
    order_number: str
    owner_id: uuid.UUID
    user_id: uuid.UUID | None = None
    lines: list[OrderLine]
    from_cart: bool = False
    # Added by orders (optional): what the order costs and whom to reach about it.
    currency: str | None = None
    total_amount: Decimal | None = None
    email: str | None = None


class OrderCancelled(IntegrationEvent):
    """Release the order's stock (reserved, or committed if it was paid)."""

    type = "order.cancelled"
    # The storefront it happened on (`contracts.identity.Storefront`); older events: the default.
    storefront: str = DEFAULT_STOREFRONT
    order_id: uuid.UUID
    owner_id: uuid.UUID
    was_paid: bool = False
    reason: str | None = None


class OrderStatusChanged(IntegrationEvent):
    type = "order.status_changed"
    # The storefront it happened on (`contracts.identity.Storefront`); older events: the default.
    storefront: str = DEFAULT_STOREFRONT
    order_id: uuid.UUID
    order_number: str
    owner_id: uuid.UUID
    user_id: uuid.UUID | None = None
    email: str | None = None
    old_status: str | None = None
    new_status: str
    note: str | None = None
    # Added by orders (optional): set once staff ship the order.
    tracking_number: str | None = None
