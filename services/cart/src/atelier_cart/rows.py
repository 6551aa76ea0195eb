"""The cart's rows: a cart and its lines as plain dataclasses, read and changed with the
statements of `repository.py` built once (no ORM object on a cart's paths).

A row's fields are its table's columns, by name and in order, less the ones named beside it in
`tests/unit/test_rows.py` (which checks them): the statements read them back by position.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal


@dataclass
class CartLine:
    """A line (table `cart_item`) with its product's kind and tax class from the read-model (None
    if it lost it). No timestamps: nothing read shows them, and each one read costs a conversion per line."""

    id: uuid.UUID
    cart_id: uuid.UUID
    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    quantity: int
    unit_price: Decimal
    name: str
    sku: str
    image_url: str | None
    kind: str | None
    tax_class: str | None = None


@dataclass
class CartRow:
    """A cart (table `cart`): its id, owner, storefront and currency."""

    id: uuid.UUID
    owner_id: uuid.UUID
    storefront: str
    currency: str


@dataclass
class CartWithLines:
    """A cart's id and currency with its lines, oldest first: read whole in one statement (the
    view, orders' read) or locked (`CartRepository.lock`)."""

    id: uuid.UUID
    currency: str
    lines: list[CartLine]
