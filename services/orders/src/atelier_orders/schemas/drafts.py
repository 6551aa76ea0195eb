"""Draft orders (`/staff/draft-orders`): what staff send to build one, and its priced preview."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, EmailStr, Field, StringConstraints, model_validator

from atelier_common.money import Money
from atelier_orders.schemas._shared import Quantity, StorefrontSlug, _Input, _Read

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]
Price = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class DraftAddress(_Input):
    """Where the order ships: typed by staff (the customer on the phone), kept as the order's snapshot."""

    full_name: Text
    company: Text | None = None
    email: EmailStr | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None
    street_address: Text
    address_line_2: Text | None = None
    city: Text
    state: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] | None = None
    country: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=2, max_length=2)]


class DraftCreate(_Input):
    """A draft for an existing customer (`user_id`) or a new e-mail, on `storefront`."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"storefront": "default", "email": "buyer@acme.example", "customer_group": "business",
         "buyer_tax_number": "DE123456789", "note": "PO 4711, by phone"}]})

    storefront: StorefrontSlug = "default"
    user_id: uuid.UUID | None = Field(default=None, description="the customer's account; none: `email` alone")
    email: EmailStr | None = Field(default=None, description="where the payment link goes (required without "
                                                             "`user_id`; with it, the account's address wins)")
    customer_group: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)] | None = \
        Field(default=None, description="price the lines at this customer group's price lists (a business buyer)")
    buyer_tax_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = None

    @model_validator(mode="after")
    def _someone(self) -> DraftCreate:
        if self.user_id is None and self.email is None:
            raise ValueError("name the customer: user_id, or email for a customer without an account")
        return self


class DraftLineCreate(_Input):
    """A catalog product (or one of its variants); `unit_price` overrides catalog's, with a `price_reason`."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"product_id": "770f2a5c-6a59-47bd-9b35-6b29746a5684", "quantity": 10, "unit_price": "19.90",
         "price_reason": "Volume price agreed with the buyer"}]})

    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    quantity: Quantity = 1
    unit_price: Price | None = Field(default=None, description="a custom unit price; requires `price_reason`")
    price_reason: Reason | None = None

    @model_validator(mode="after")
    def _reasoned(self) -> DraftLineCreate:
        _require_reason(self.unit_price, self.price_reason, "unit_price", "price_reason")
        return self


class DraftLineUpdate(_Input):
    """Change a line's quantity or price: `unit_price` with a `price_reason`, or `catalog_price: true` to
    go back to catalog's."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"quantity": 12}, {"catalog_price": True}]})

    quantity: Quantity | None = None
    unit_price: Price | None = None
    price_reason: Reason | None = None
    catalog_price: bool = False

    @model_validator(mode="after")
    def _reasoned(self) -> DraftLineUpdate:
        _require_reason(self.unit_price, self.price_reason, "unit_price", "price_reason")
        if self.catalog_price and self.unit_price is not None:
            raise ValueError("catalog_price and unit_price exclude each other")
        return self


class DraftUpdate(_Input):
    """The draft's discount, destination and contact; a field left out is kept, `null` clears it."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"manual_discount": "15.00", "manual_discount_reason": "Goodwill after a late delivery",
         "shipping_address": {"full_name": "Grace Hopper", "street_address": "1 Main St", "city": "Arlington",
                              "postal_code": "22201", "state": "VA", "country": "US"},
         "shipping_method": "standard"}]})

    email: EmailStr | None = None
    promotion_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None
    manual_discount: Price | None = Field(default=None, description="taken off the lines, after promotions; "
                                                                     "requires `manual_discount_reason` (0: none)")
    manual_discount_reason: Reason | None = None
    shipping_address: DraftAddress | None = None
    shipping_method: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = Field(
        default=None, description="a method's id or code in the address's zone; none: the zone's first")
    buyer_tax_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = None

    @model_validator(mode="after")
    def _reasoned(self) -> DraftUpdate:
        if self.manual_discount:
            _require_reason(self.manual_discount, self.manual_discount_reason, "manual_discount",
                            "manual_discount_reason")
        return self


def _require_reason(value: Decimal | None, reason: str | None, field: str, reason_field: str) -> None:
    if value is not None and not reason:
        raise ValueError(f"{field} requires {reason_field}: why (kept in the audit log)")


class DraftQuery(_Input):
    storefront: StorefrontSlug | None = None
    status: Literal["open", "sent"] | None = None


class DraftLineRead(_Read):
    id: uuid.UUID
    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    quantity: int
    sku: str | None = None
    name: str | None = None
    variant_name: str | None = None
    catalog_price: Money | None = Field(default=None, description="catalog's unit price for this customer")
    unit_price: Money | None = Field(default=None, description="what the line is charged per unit")
    custom_price: bool = False
    price_reason: str | None = None
    line_total: Money | None = None
    discount: Money | None = None
    tax_amount: Money | None = None


class DraftPreview(_Read):
    """The money exactly as `send` charges it (placement's own pricing): what the customer pays."""

    currency: str
    subtotal: Money
    discount: Money
    shipping_cost: Money
    shipping_method: str | None
    shipping_method_name: str | None
    tax_amount: Money
    tax_included: Money
    total_amount: Money
    discounts: list[dict[str, Any]]


class DraftProblem(_Read):
    code: str
    message: str
    details: dict[str, Any] = {}


_DRAFT_EXAMPLE: dict[str, Any] = {
    "id": "5d1d3f0e-3f7c-4b6e-9a55-3c1f1f0b9e21", "storefront": "default", "status": "open", "user_id": None,
    "email": "buyer@acme.example", "customer_group": None, "buyer_tax_number": None, "promotion_code": None,
    "manual_discount": "5.00", "manual_discount_reason": "Goodwill after a late delivery",
    "shipping_address": {"full_name": "Grace Hopper", "street_address": "1 Main St", "city": "Arlington",
                         "postal_code": "22201", "country": "US"},
    "shipping_method": None, "note": None, "order_id": None, "order_number": None,
    "created_by": "0b0f3f55-0d7e-4c4a-9f8e-8d1b2f6c0a11", "created_at": "2026-12-01T10:00:00Z",
    "updated_at": "2026-12-01T10:02:00Z", "sent_at": None, "version": "1a2b3c4d",
    "lines": [{"id": "a3c9a2f0-5b1e-4a0e-8f7d-1c2b3d4e5f60", "product_id": "770f2a5c-6a59-47bd-9b35-6b29746a5684",
               "variant_id": None, "quantity": 2, "sku": "SEAL-PRO-1L", "name": "Stone Sealer 1 L",
               "variant_name": None, "catalog_price": "24.99", "unit_price": "20.00", "custom_price": True,
               "price_reason": "Price matched", "line_total": "40.00", "discount": "5.00", "tax_amount": "3.15"}],
    "preview": {"currency": "USD", "subtotal": "40.00", "discount": "5.00", "shipping_cost": "5.00",
                "shipping_method": "standard", "shipping_method_name": "Standard", "tax_amount": "3.15",
                "tax_included": "0.00", "total_amount": "43.15",
                "discounts": [{"promotion_id": "5d1d3f0e-3f7c-4b6e-9a55-3c1f1f0b9e21", "code": None,
                               "name": "Manual discount: Goodwill after a late delivery", "kind": "manual",
                               "amount": "5.00", "free_shipping": False}]},
    "problem": None}


class DraftRead(_Read):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_DRAFT_EXAMPLE]})

    id: uuid.UUID
    storefront: str
    status: str
    user_id: uuid.UUID | None
    email: str | None
    customer_group: str | None
    buyer_tax_number: str | None
    promotion_code: str | None
    manual_discount: Money
    manual_discount_reason: str | None
    shipping_address: dict[str, Any] | None
    shipping_method: str | None
    note: str | None
    order_id: uuid.UUID | None
    order_number: str | None
    created_by: uuid.UUID
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    version: str
    lines: list[DraftLineRead]
    preview: DraftPreview | None = Field(description="None while the draft cannot be priced: see `problem`")
    problem: DraftProblem | None = Field(description="why it cannot be priced or sent as it is")


class DraftSummaryRead(_Read):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "id": "5d1d3f0e-3f7c-4b6e-9a55-3c1f1f0b9e21", "storefront": "default", "status": "sent", "user_id": None,
        "email": "buyer@acme.example", "lines": 1, "order_id": "d9a1128a-05bd-4d8e-aa4e-cd386132471e",
        "order_number": "ORD-20261201-NNKSU0", "created_at": "2026-12-01T10:00:00Z",
        "updated_at": "2026-12-01T10:05:00Z"}]})

    id: uuid.UUID
    storefront: str
    status: str
    user_id: uuid.UUID | None
    email: str | None
    lines: int
    order_id: uuid.UUID | None
    order_number: str | None
    created_at: datetime
    updated_at: datetime


class DraftSent(_Read):
    """The order the draft became (the same answer for every send of it)."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "draft_id": "5d1d3f0e-3f7c-4b6e-9a55-3c1f1f0b9e21", "order_id": "d9a1128a-05bd-4d8e-aa4e-cd386132471e",
        "order_number": "ORD-20261201-NNKSU0", "status": "pending", "total_amount": "43.15", "currency": "USD",
        "payment_url": "https://shop.example.com/pay?order_id=d9a1128a-05bd-4d8e-aa4e-cd386132471e&token=1796232655.ycXC",
        "payment_url_expires_at": "2026-12-04T10:05:00Z"}]})

    draft_id: uuid.UUID
    order_id: uuid.UUID
    order_number: str
    status: str
    total_amount: Money
    currency: str
    payment_url: str = Field(description="the link mailed to the customer: pays this order without signing in")
    payment_url_expires_at: datetime


