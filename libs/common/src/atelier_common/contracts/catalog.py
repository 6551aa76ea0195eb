"""Events produced by catalog."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from atelier_common.events.envelope import ContractModel, IntegrationEvent


class ProductChanged(IntegrationEvent):
    """What carts need to know about a product (or one of its variants) after any change.

    For a variant, `sku`, `price` (what it sells at), `stock_quantity` and `attributes` (the
    product's, overridden by the variant's) are the variant's; `is_active` is false when either
    the product or the variant is inactive.
    """

    type = "catalog.product_changed"
    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    name: str
    variant_name: str | None = None
    slug: str | None = None
    sku: str
    kind: str
    price: Decimal
    compare_price: Decimal | None = None
    currency: str
    stock_quantity: int
    track_inventory: bool = True
    is_active: bool
    image_url: str | None = None
    attributes: dict[str, Any] = {}


class StockLine(ContractModel):
    """One line of a stock decision."""

    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    requested: int
    available: int


class StockReserved(IntegrationEvent):
    """Every line of the order is held for it (or needed no stock)."""

    type = "stock.reserved"
    order_id: uuid.UUID


class StockRejected(IntegrationEvent):
    """At least one line could not be held; nothing was reserved."""

    type = "stock.rejected"
    order_id: uuid.UUID
    reason: str
    lines: list[StockLine] = []
