"""Events produced by catalog."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from atelier_common.events.envelope import IntegrationEvent


class ProductChanged(IntegrationEvent):
    """What carts need to know about a product (or one of its variants) after any change."""

    type = "catalog.product_changed"
    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    name: str
    sku: str
    kind: str
    price: Decimal
    currency: str
    stock_quantity: int
    track_inventory: bool = True
    is_active: bool
    image_url: str | None = None
    attributes: dict[str, Any] = {}
