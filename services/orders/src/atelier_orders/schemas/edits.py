"""Order edits: the changes staff ask for, the order as it would be, and the versions kept."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from atelier_common.money import Money
from atelier_orders.schemas._shared import MAX_LINES, _Input, _Read

_EDIT_EXAMPLE: dict[str, Any] = {
    "id": "5b7c9d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e", "order_id": "d9a1128a-05bd-4d8e-aa4e-cd386132471e", "version": 1,
    "staff_id": "0c2e4a6b-8d1f-4a3c-9e5b-7d9f1b3d5f7a", "reason": "Customer asked by phone to keep one",
    "changes": [{"order_item_id": "c92d3d50-e2f7-42e8-81de-cba4a7d781ce", "sku": "LAMP-OAK", "name": "Oak lamp",
                 "old_quantity": 2, "new_quantity": 1}],
    "currency": "USD", "old_total": "69.35", "new_total": "37.18", "refund_amount": "32.17", "refund_id": None,
    "refunded_at": None, "status": "applied", "note": None, "created_at": "2026-12-02T10:15:00Z",
    "amount_due": "0.00", "expires_at": None, "payment_id": None, "paid_at": None, "payment_url": None}
_PREVIEW_EXAMPLE: dict[str, Any] = {
    "order_id": "d9a1128a-05bd-4d8e-aa4e-cd386132471e", "order_number": "ORD-20261126-NNKSU0", "status": "paid",
    "version": 1, "currency": "USD",
    "lines": [{"order_item_id": "c92d3d50-e2f7-42e8-81de-cba4a7d781ce",
               "product_id": "7e1f3a5c-9b2d-4f6e-8a0c-2d4f6a8c0e1b", "variant_id": None, "sku": "LAMP-OAK",
               "name": "Oak lamp", "old_quantity": 2, "new_quantity": 1, "unit_price": "30.00", "line_total": "30.00",
               "discount_amount": "0.00", "tax_amount": "2.18"}],
    "subtotal": "30.00", "discount": "0.00", "shipping_cost": "5.00", "tax_amount": "2.18", "tax_included": "0.00",
    "total": "37.18", "old_total": "69.35", "difference": "-32.17", "refund": "32.17",
    "amount_due": "0.00",
    "promotions_lost": [{"promotion_id": "3c1e2d4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "name": "10% from 50",
                         "code": None}]}

EditReason = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=500)]


class OrderEditChange(_Input):
    order_item_id: uuid.UUID = Field(description="The order line's id (`items[].id` of the order)")
    quantity: int = Field(ge=0, le=100_000, description="The line's new quantity: 0 removes it; more units than "
                                                        "it has wait for catalog to hold them")


class OrderEditAddition(_Input):
    product_id: uuid.UUID = Field(description="A catalog product of goods from stock (`physical`)")
    variant_id: uuid.UUID | None = Field(None, description="One of its variants, for a product sold by variant")
    quantity: int = Field(ge=1, le=100_000)


class OrderEditCreate(_Input):
    """New quantities for some lines of an order that has not shipped, lines to add, and why. Lines
    not named keep theirs. An edit that adds units (a line raised or added) waits for catalog to
    hold them; one that raises a paid order's total then waits for the customer to pay the
    difference (`awaiting_payment`, a payment link mailed)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"changes": [{"order_item_id": "c92d3d50-e2f7-42e8-81de-cba4a7d781ce", "quantity": 1}],
         "reason": "Customer asked by phone to keep one"}]})

    changes: list[OrderEditChange] = Field(default_factory=list, max_length=MAX_LINES)
    additions: list[OrderEditAddition] = Field(default_factory=list, max_length=MAX_LINES,
                                               description="Catalog lines to add, priced as placing prices them")
    reason: EditReason


class CustomerEditCreate(_Input):
    """A customer's edit of their own order (where the storefront allows it): lower quantities or
    remove lines (quantity 0) before the order is processing; lines not named keep theirs."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"changes": [{"order_item_id": "c92d3d50-e2f7-42e8-81de-cba4a7d781ce", "quantity": 1}],
         "reason": "I only need one"}]})

    changes: list[OrderEditChange] = Field(min_length=1, max_length=MAX_LINES)
    reason: EditReason = "Changed by the customer"


class OrderEditLineRead(_Read):
    order_item_id: uuid.UUID | None = Field(description="The order line's id; None for a line the edit adds")
    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    sku: str
    name: str
    old_quantity: int
    new_quantity: int
    unit_price: Money
    line_total: Money = Field(description="Unit price × new quantity (0: removed)")
    discount_amount: Money = Field(description="The promotions' share on the line, judged again")
    tax_amount: Money


class LostPromotionRead(_Read):
    promotion_id: uuid.UUID
    name: str
    code: str | None = None


class OrderEditPreviewRead(_Read):
    """The order as the edit makes it, priced by the same rules, and what changes for the money."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_PREVIEW_EXAMPLE]})

    order_id: uuid.UUID
    order_number: str
    status: str
    version: int = Field(description="The version the order would be at: its edits so far + 1")
    currency: str
    lines: list[OrderEditLineRead] = Field(description="Every line of the order, old and new quantity")
    subtotal: Money
    discount: Money
    shipping_cost: Money
    tax_amount: Money
    tax_included: Money
    total: Money
    old_total: Money
    difference: Money = Field(description="new total − old total")
    refund: Money = Field(description="What payments is asked to give back: −difference for a paid order, "
                                      "never more than remains refundable; 0 for an unpaid one")
    amount_due: Money = Field(description="What the customer would owe: the difference when it is above 0 and the "
                                          "order is paid; 0 for an unpaid one (its payment charges the new total)")
    promotions_lost: list[LostPromotionRead] = Field(
        description="The order's promotions that no longer apply (e.g. a minimum subtotal no longer met)")


class OrderEditRead(_Read):
    """One confirmed edit of an order: applied, or one that adds units waiting for its stock
    (`pending`) or refused (`note` says why)."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_EDIT_EXAMPLE]})

    id: uuid.UUID
    order_id: uuid.UUID
    version: int
    staff_id: uuid.UUID | None = None
    reason: str
    changes: list[dict[str, Any]] = Field(description="[{order_item_id, product_id, variant_id, sku, name, "
                                                      "old_quantity, new_quantity}]; a line added has no "
                                                      "order_item_id until applied, and keeps its unit_price")
    currency: str
    old_total: Money
    new_total: Money
    refund_amount: Money
    refund_id: uuid.UUID | None = Field(None, description="Set once payments confirms the refund")
    refunded_at: datetime | None = None
    status: str = Field(description="applied; pending (adds units: waits for catalog to hold them); "
                                    "awaiting_payment (a paid order's total raised: waits for the difference); "
                                    "refused")
    note: str | None = Field(None, description="Why a refused edit did not apply")
    created_at: datetime
    amount_due: Money = Field(description="What the edit leaves due on a paid order (its supplementary payment)")
    expires_at: datetime | None = Field(None, description="Until when an edit awaiting its payment waits for it")
    payment_id: uuid.UUID | None = Field(None, description="The supplementary payment that paid it")
    paid_at: datetime | None = None
    payment_url: str | None = Field(None, description="While it awaits its payment: the link that pays it (mailed "
                                                      "to the customer)")


class OrderEditConfirmedRead(OrderEditPreviewRead):
    """The order as the edit made it (or, `edit.status` pending, will make it once catalog holds the
    units added), and the version kept."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {**_PREVIEW_EXAMPLE, "edit": _EDIT_EXAMPLE}]})

    edit: OrderEditRead
