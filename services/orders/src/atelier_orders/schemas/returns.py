"""Returns: what the customer asks back, what staff receive, and the read of one."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from atelier_common.money import Money
from atelier_orders.returns import rules as return_rules
from atelier_orders.schemas._shared import MAX_LINES, Quantity, StorefrontSlug, _Input, _Read

ReturnReason = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=500)]


class ReturnLineCreate(_Input):
    order_item_id: uuid.UUID = Field(description="The order line's id (`items[].id` of the order)")
    quantity: Quantity = 1


class ReturnCreate(_Input):
    """A return of some of a delivered order's shipped units."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"items": [{"order_item_id": "c92d3d50-e2f7-42e8-81de-cba4a7d781ce", "quantity": 1}],
         "reason": "Too small"}]})

    items: list[ReturnLineCreate] = Field(min_length=1, max_length=MAX_LINES)
    reason: ReturnReason


class ClaimCreate(ReturnCreate):
    """Damaged or missing units of a shipped or delivered order, settled at once without a parcel:
    `refund` gives back their share of what was charged; `replace` sends them again as an order of
    its own at no charge (goods from stock only)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"items": [{"order_item_id": "c92d3d50-e2f7-42e8-81de-cba4a7d781ce", "quantity": 1}],
         "reason": "Arrived cracked (photo in the customer's mail)", "resolution": "replace"}]})

    resolution: return_rules.ClaimResolution


class ExchangeItemCreate(_Input):
    product_id: uuid.UUID = Field(description="A catalog product sold on the order's storefront (goods from stock)")
    variant_id: uuid.UUID | None = Field(default=None, description="One of its variants")
    quantity: Quantity = 1


class ExchangeCreate(ReturnCreate):
    """Some of a delivered order's shipped units (`items`) sent back for other goods (`new_items`),
    priced at the order's storefront, currency and tax."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"items": [{"order_item_id": "c92d3d50-e2f7-42e8-81de-cba4a7d781ce", "quantity": 1}],
         "new_items": [{"product_id": "8a1f2b3c-4d5e-4f60-8172-93a4b5c6d7e8", "quantity": 1}],
         "reason": "Wants the larger size"}]})

    new_items: list[ExchangeItemCreate] = Field(min_length=1, max_length=MAX_LINES)


class ReturnLineReceive(_Input):
    order_item_id: uuid.UUID = Field(description="The order line's id (`items[].order_item_id` of the return)")
    quantity: Quantity = Field(description="Units received: at most the units requested of that line")
    resaleable: bool = Field(default=False, description="Back in stock")


class ReturnReceive(_Input):
    """What staff found in the parcel: the units received of each line and whether they go back on
    sale, and whether the order's shipping is refunded too. A line not named, or units fewer than
    requested: the rest was not received, is not refunded, and may be returned again."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"items": [{"order_item_id": "c92d3d50-e2f7-42e8-81de-cba4a7d781ce", "quantity": 1, "resaleable": True}],
         "refund_shipping": False}]})

    items: list[ReturnLineReceive] = Field(min_length=1, max_length=MAX_LINES)
    refund_shipping: bool = False


class ReturnReject(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Worn, outside the return window"}]})

    reason: Annotated[str, StringConstraints(strict=True, strip_whitespace=True, max_length=500)] | None = None


class StaffReturnQuery(_Input):
    """The filters of GET /staff/returns; each one narrows, none means every return."""

    status: return_rules.ReturnStatus | None = None
    storefront: StorefrontSlug | None = None
    order_id: uuid.UUID | None = None
    number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)] | None = None


class ReturnLineRead(_Read):
    id: uuid.UUID
    order_item_id: uuid.UUID
    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    sku: str
    name: str
    quantity: int = Field(description="Units requested; once received, the units received")
    resaleable: bool | None = Field(description="Staff's word when received (null before)")
    amount: Money | None = Field(description="What these units give back, once received")


_RETURN_EXAMPLE: dict[str, Any] = {
    "id": "3f6e1a2b-4c5d-4e6f-8a9b-0c1d2e3f4a5b", "number": "RET-20261127-7KQ2ZD",
    "order_id": "d9a1128a-05bd-4d8e-aa4e-cd386132471e", "order_number": "ORD-20261126-NNKSU0",
    "storefront": "default", "status": "received", "kind": "return", "resolution": None,
    "replacement_order_id": None, "reason": "Too small", "opened_by": "customer",
    "refund_shipping": False, "currency": "USD", "amount": "27.24", "refund_id": None, "refunded_amount": None,
    "note": None, "created_at": "2026-11-27T09:12:03.118204Z", "received_at": "2026-11-29T14:40:51.902113Z",
    "refunded_at": None,
    "items": [{"id": "0a8c6a0e-58b3-4e57-b1a7-6e1b4a8f0c11", "order_item_id": "c92d3d50-e2f7-42e8-81de-cba4a7d781ce",
               "product_id": "770f2a5c-6a59-47bd-9b35-6b29746a5684", "variant_id": None, "sku": "SEAL-PRO-1L",
               "name": "Stone Sealer 1 L", "quantity": 1, "resaleable": True, "amount": "27.24"}]}


class ExchangeItemRead(_Read):
    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    sku: str
    name: str
    variant_name: str | None = None
    quantity: int
    unit_price: Money
    line_total: Money = Field(description="unit price × quantity")
    discount_amount: Money
    tax_rate: Decimal
    tax_amount: Money
    tax_inclusive: bool


class ExchangeLineBack(_Read):
    order_item_id: uuid.UUID
    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    sku: str
    name: str
    quantity: int
    amount: Money = Field(description="Their share of what the line was charged (discount and tax included)")


class ExchangePreview(_Read):
    """An exchange as it would be; nothing written."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "order_id": "d9a1128a-05bd-4d8e-aa4e-cd386132471e", "order_number": "ORD-20261126-NNKSU0", "currency": "USD",
        "lines_back": [{"order_item_id": "c92d3d50-e2f7-42e8-81de-cba4a7d781ce",
                        "product_id": "770f2a5c-6a59-47bd-9b35-6b29746a5684", "variant_id": None,
                        "sku": "SEAL-PRO-1L", "name": "Stone Sealer 1 L", "quantity": 1, "amount": "27.24"}],
        "new_items": [{"product_id": "8a1f2b3c-4d5e-4f60-8172-93a4b5c6d7e8", "variant_id": None, "sku": "SEAL-PRO-5L",
                       "name": "Stone Sealer 5 L", "variant_name": None, "quantity": 1, "unit_price": "45.00",
                       "line_total": "45.00", "discount_amount": "0.00", "tax_rate": "0.09", "tax_amount": "4.05",
                       "tax_inclusive": False}],
        "credit": "27.24", "new_items_total": "49.05", "difference": "21.81", "amount_due": "21.81",
        "refund": "0.00"}]})

    order_id: uuid.UUID
    order_number: str
    currency: str
    lines_back: list[ExchangeLineBack]
    new_items: list[ExchangeItemRead]
    credit: Money = Field(description="What the lines coming back are credited")
    new_items_total: Money = Field(description="What the new items cost (their tax included)")
    difference: Money = Field(description="new_items_total − credit")
    amount_due: Money = Field(description="What the customer pays (a payment link) before the new items ship")
    refund: Money = Field(description="What is refunded once the lines are received")


class ReturnRead(_Read):
    """A return: requested → approved (optional) → received (the refund is asked for) → refunded,
    or rejected. A claim: received → refunded (settled by a refund), or replaced (→ rejected when catalog
    refused the replacement's stock: its units may be settled again)."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_RETURN_EXAMPLE]})

    id: uuid.UUID
    number: str = Field(description="RET-YYYYMMDD-XXXXXX")
    order_id: uuid.UUID
    order_number: str
    storefront: str
    status: return_rules.ReturnStatus
    kind: return_rules.ReturnKind = Field(description=(
        "return: goods sent back for money; claim: damaged or missing goods staff settled without a parcel; "
        "exchange: goods sent back for other goods"))
    resolution: return_rules.ClaimResolution | None = Field(description="A claim's: refund or replace; null for a return")
    replacement_order_id: uuid.UUID | None = Field(description=(
        "A claim settled by a replacement: the order that sends the goods again, at no charge; an exchange: "
        "the order that sends the new items"))
    reason: str | None
    opened_by: str = Field(description="customer or staff")
    refund_shipping: bool
    currency: str
    amount: Money | None = Field(description="The refund asked for when received: the lines with their tax, less "
                                             "their share of the discount, plus shipping if chosen")
    refund_id: uuid.UUID | None
    refunded_amount: Money | None = Field(description="What payments refunded (payment.refunded)")
    note: str | None = Field(description="Staff's reason when rejected")
    created_at: datetime
    received_at: datetime | None
    refunded_at: datetime | None
    items: list[ReturnLineRead]
    credit_amount: Money | None = Field(default=None, description=(
        "An exchange's: what the lines coming back are credited"))
    outgoing_total: Money | None = Field(default=None, description="An exchange's: what the new items cost")
    new_items: list[ExchangeItemRead] = Field(default_factory=list, description=(
        "An exchange's new items, as priced; they go out as the order `replacement_order_id`"))
    payment_url: str | None = Field(default=None, description=(
        "An exchange whose customer owes the difference, as answered when its order is placed: the link that "
        "pays it (the exchange order's, as a draft order's)"))
