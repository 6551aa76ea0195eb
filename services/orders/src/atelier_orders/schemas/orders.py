"""Placing, cancelling and reading an order: the customer's routes (`/orders`)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AliasChoices,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    computed_field,
    field_validator,
    model_validator,
)

from atelier_common.contracts.identity import TAX_NUMBER_MAX_LENGTH, TAX_NUMBER_PATTERN
from atelier_common.contracts.orders import Discount
from atelier_common.money import Money
from atelier_orders import domain
from atelier_orders.domain import OrderStatus
from atelier_orders.pricing import destinations
from atelier_orders.schemas._shared import MAX_LINES, Quantity, Rate, StorefrontSlug, _Input, _Read

Sku = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=100)]
Note = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, max_length=1000)]

# A business buyer's tax or VAT number: letters, digits, spaces, dashes and dots (the seller's rule,
# `contracts.identity.TAX_NUMBER_PATTERN`); blank is none.
TaxNumber = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, max_length=TAX_NUMBER_MAX_LENGTH)]


def _tax_number(value: str | None) -> str | None:
    if not value:
        return None
    if not re.fullmatch(TAX_NUMBER_PATTERN, value):
        raise ValueError("A tax number has letters, digits, spaces, dashes and dots only")
    return value


class OrderItemCreate(_Input):
    """One line: a product (by id or SKU, with a variant), or a book printed at a tier (S0)."""

    product_id: uuid.UUID | None = None
    sku: Sku | None = None
    variant_id: uuid.UUID | None = None
    quantity: Quantity = 1
    book_id: uuid.UUID | None = None
    tier: Sku | None = Field(default=None, validation_alias=AliasChoices("tier", "tier_name"))
    content_type: Annotated[str, StringConstraints(strict=True, strip_whitespace=True, to_upper=True)] | None = None
    content_id: uuid.UUID | None = None
    # A gift card line only: whom its cards are mailed to (else the buyer), a message, and when
    # (not in the past, within a year; none: once paid).
    gift_recipient_email: EmailStr | None = None
    gift_message: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    gift_send_at: AwareDatetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _flatten_target(cls, data: Any) -> Any:
        """A retry pack's item, `target: {content_type, content_id}` (generation's README, Storybooks)."""
        if isinstance(data, dict) and isinstance(data.get("target"), dict):
            target = data["target"]
            data = {**data, "content_type": target.get("content_type"), "content_id": target.get("content_id")}
        return data

    @field_validator("content_type")
    @classmethod
    def _known_content_type(cls, value: str | None) -> str | None:
        if value is not None and value not in domain.CONTENT_TYPES:
            raise ValueError(f"must be one of {', '.join(sorted(domain.CONTENT_TYPES))}")
        return value

    @model_validator(mode="after")
    def _one_product_reference(self) -> OrderItemCreate:
        named = [name for name in ("product_id", "sku", "tier") if getattr(self, name) is not None]
        if len(named) > 1:
            raise ValueError(f"give only one of product_id, sku or tier (got {', '.join(named)})")
        if not named and self.book_id is None:
            raise ValueError("give product_id, sku, or book_id with a tier")
        if self.tier is not None and self.book_id is None:
            raise ValueError("a tier prints a book: book_id is required")
        if self.variant_id is not None and self.tier is not None:
            raise ValueError("a print tier has no variants")
        if (self.content_type is None) != (self.content_id is None):
            raise ValueError("content_type and content_id go together")
        return self


class OrderCreate(_Input):
    """From the cart (no `items`) or from explicit `items`; S0's field names are accepted too."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"items": [{"sku": "CARR-WHITE-001", "quantity": 2}],
         "shipping_address_id": "3f2b8c1e-5d4a-4e6f-9a7b-2c1d0e9f8a7b"},
        {},
    ]})

    items: Annotated[list[OrderItemCreate], Field(min_length=1, max_length=MAX_LINES)] | None = None
    shipping_address_id: uuid.UUID | None = Field(
        default=None, validation_alias=AliasChoices("shipping_address_id", "delivery_address_id"))
    billing_address_id: uuid.UUID | None = None
    # The print tier of book lines that do not name their own (S0's `tier_name`).
    tier: Sku | None = Field(default=None, validation_alias=AliasChoices("tier", "tier_name"))
    # Where an anonymous buyer is reached; a signed-in user's own address wins.
    email: EmailStr | None = None
    # The code of a shipping method the shipping address's zone offers; none: its first.
    shipping_method: Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1,
                                                      max_length=64)] | None = None
    # The id of a shipping method the zone offers (GET /shipping-methods' `id`); wins over `shipping_method`.
    shipping_method_id: uuid.UUID | None = None
    # A discount code; an order from the cart takes the cart's code when it names none.
    promotion_code: str | None = Field(default=None, max_length=64)
    # The discount the cart showed: an order whose discount is now another is refused (DISCOUNT_CHANGED).
    expected_discount: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)] | None = None
    # The total the cart or `GET /shipping-methods` showed: an order that would charge another is
    # refused (409 PRICE_CHANGED), never charged differently.
    expected_total: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)] | None = None
    # A business buyer's tax or VAT number, kept on the order and printed on its invoice.
    buyer_tax_number: Annotated[TaxNumber | None, AfterValidator(_tax_number)] = None
    # The guest's choice at checkout (docs/storefronts.md#guest-accounts): true asks for an account
    # once the order is paid, on a storefront whose `guest_accounts` is "offer"; ignored for a
    # signed-in buyer, and where the storefront says "create" or "never".
    create_account: bool = False

    @model_validator(mode="after")
    def _book_lines_have_a_tier(self) -> OrderCreate:
        if self.items is None:
            return self
        lines = []
        for index, item in enumerate(self.items):
            if item.book_id is not None and item.product_id is None and item.sku is None and item.tier is None:
                if self.tier is None:
                    raise ValueError(f"items.{index}: a book line needs a tier")
                item = item.model_copy(update={"tier": self.tier})
            lines.append(item)
        self.items = lines
        return self


class OrderCancel(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"reason": "Ordered twice"}]})

    reason: Annotated[str, StringConstraints(strict=True, strip_whitespace=True, max_length=500)] | None = None


class OrderStatusUpdate(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"status": "processing"}]})

    status: OrderStatus
    note: Note | None = None
    # The order's `version` the staff form was read at; stale → 409 STALE_VERSION. Or If-Match.
    expected_version: Annotated[str, StringConstraints(max_length=64)] | None = None
    tracking_number: Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1,
                                                      max_length=100)] | None = None


class OrderQuery(_Input):
    """The filters of GET /orders (query parameters: not strict, "true" is a boolean here)."""

    ordering: str | None = Field(default=None, max_length=50,
                                 description="created_at or total_amount; '-' for descending")
    status: OrderStatus | None = None
    all: bool = Field(default=False, description="Staff only: every customer's orders")
    storefront: StorefrontSlug | None = Field(
        default=None, description="Staff only: the orders of this storefront (without it, staff's own list and "
                                  "a customer's are the request's storefront's orders)")


# -- answers ----------------------------------------------------------------------------------------

# The answers' examples: one order, as `atelier dev` answered for it (the OpenAPI document's).
_ADDRESS_EXAMPLE: dict[str, Any] = {
    "id": "4d4443b5-fdbf-46a2-84d9-5d631e7f9619", "full_name": "Ada Lovelace", "first_name": "Ada",
    "last_name": "Lovelace", "email": "ada.lovelace@example.com", "phone": "+442079460001",
    "street_address": "12 St James's Square", "address_line_1": "12 St James's Square", "city": "London",
    "state": "", "postal_code": "SW1Y 4JH", "country": "GB", "type": "shipping"}
_PLACED: dict[str, Any] = {"status": "pending", "from_status": None, "note": "Order placed", "actor": "customer",
                           "created_at": "2026-11-26T02:15:24.668140Z"}
_RESERVED: dict[str, Any] = {"status": "awaiting_payment", "from_status": "pending", "note": "Stock reserved",
                             "actor": "catalog", "created_at": "2026-11-26T02:15:24.771635Z"}
_SUMMARY_EXAMPLE: dict[str, Any] = {
    "id": "d9a1128a-05bd-4d8e-aa4e-cd386132471e", "order_number": "ORD-20261126-NNKSU0", "storefront": "default",
    "status": "awaiting_payment", "currency": "USD", "subtotal": "24.99", "tax_amount": "2.25",
    "shipping_cost": "5.00", "discount": "0.00", "total_amount": "32.24", "tracking_number": None,
    "created_at": "2026-11-26T02:15:24.668135Z", "updated_at": "2026-11-26T02:15:24.771635Z", "item_count": 1,
    "discount_total": "0.00"}
_ORDER_EXAMPLE: dict[str, Any] = {
    **_SUMMARY_EXAMPLE,
    "items": [{"id": "c92d3d50-e2f7-42e8-81de-cba4a7d781ce", "product_id": "770f2a5c-6a59-47bd-9b35-6b29746a5684",
               "variant_id": None, "sku": "SEAL-PRO-1L", "name": "Stone Sealer 1 L", "variant_name": None,
               "kind": "physical", "quantity": 1, "unit_price": "24.99", "line_total": "24.99",
               "discount_amount": "0.00", "tax_rate": "0.09", "tax_amount": "2.25", "tax_inclusive": False,
               "attributes": {"volume_l": 1, "coverage_sqft": 200}, "book_id": None, "content_type": None,
               "content_id": None}],
    "email": "ada.lovelace@example.com", "shipping_address": _ADDRESS_EXAMPLE, "billing_address": _ADDRESS_EXAMPLE,
    "buyer_tax_number": "GB 987 6543 21", "register_buyer": False,
    "shipping_method": {"id": "3a7c0cc3-1419-5d37-a9ef-5ea198626f1a", "name": "Standard", "price": "5.00"},
    "shipping_zone": "uk", "tax_rate": "0.09", "tax_included": "0.00", "shipping_discount": "0.00",
    "shipping_tax": "0.00",
    "status_history": [_PLACED, _RESERVED],
    "from_cart": True, "paid_at": None, "shipped_at": None, "delivered_at": None, "discounts": []}


class OrderItemRead(_Read):
    id: uuid.UUID
    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    sku: str
    name: str
    variant_name: str | None
    kind: str
    quantity: int
    unit_price: Money
    line_total: Money
    # The line's adjustments (docs/api.md#money-and-tax): its share of the promotions, and its tax
    # on `line_total - discount_amount` at `tax_rate`, added on top or included in the price.
    discount_amount: Money = Decimal("0.00")
    tax_rate: Rate = Decimal("0")
    tax_amount: Money = Decimal("0.00")
    tax_inclusive: bool = False
    attributes: dict[str, Any]
    book_id: uuid.UUID | None
    content_type: str | None
    content_id: uuid.UUID | None
    gift_recipient_email: str | None = None
    gift_message: str | None = None
    gift_send_at: datetime | None = None


class StatusHistoryRead(_Read):
    status: str = Field(validation_alias=AliasChoices("to_status", "status"))
    from_status: str | None
    note: str
    actor: str
    created_at: datetime


class OrderSummaryRead(_Read):
    """A line of the order list."""

    model_config = ConfigDict(json_schema_extra={"examples": [_SUMMARY_EXAMPLE]})

    id: uuid.UUID
    order_number: str
    # The storefront it was placed on.
    storefront: str
    status: str
    currency: str
    subtotal: Money
    tax_amount: Money
    shipping_cost: Money
    discount: Money
    total_amount: Money
    tracking_number: str | None
    created_at: datetime
    updated_at: datetime
    item_count: int = Field(description="Units, as the cart counts them")

    @computed_field  # type: ignore[prop-decorator]  # mypy rejects a decorator over @property; pydantic documents this form
    @property
    def discount_total(self) -> Money:
        """What its promotions saved: `discount` under the contract's name."""
        return self.discount


class OrderDiscountRead(Discount):
    # Read from the lines' own discounts (`items[].discount_amount`, the one record of them:
    # `promotions.rules.order_discounts`), not kept beside them.
    lines: list[dict[str, Any]] = Field(default=[], description="[{position, sku, amount}]: its share on each "
                                                                "line it covered (a partial refund's basis)")


class OrderShippingMethodRead(BaseModel):
    """The shipping method of an order, as `GET /shipping-methods` lists one."""

    id: uuid.UUID | None = Field(description="The method's id (`GET /shipping-methods`' `id`)")
    name: str | None
    price: Money = Field(description="What shipping cost the order (its `shipping_cost`)")


class OrderRead(OrderSummaryRead):
    model_config = ConfigDict(json_schema_extra={"examples": [_ORDER_EXAMPLE]})

    refunded_amount: Money = Field(default=Decimal("0.00"), description="What payments refunded of the order "
                                                                        "so far, returns' refunds included")

    items: list[OrderItemRead]
    email: str | None
    shipping_address: dict[str, Any] | None
    billing_address: dict[str, Any] | None
    buyer_tax_number: str | None = Field(default=None, description="the business buyer's tax or VAT number, "
                                                                     "as given at checkout")
    locale: str | None = Field(default=None, description=(
        "The buyer's language when it was placed (`?locale=`, else `Accept-Language`, on its storefront): its "
        "lines' names are in it, and so are its mails' and invoices'; null: placed before languages were kept"))
    register_buyer: bool = Field(default=False, description=(
        "Whether its guest buyer gets an account once it is paid (an email to set a password), as decided "
        "when it was placed from the storefront's `guest_accounts` and the buyer's `create_account`; false "
        "for a signed-in buyer"))
    replaces_order_id: uuid.UUID | None = Field(default=None, description=(
        "A replacement sent at no charge for a claim: the order whose damaged or missing goods it replaces "
        "(nothing to pay; it ships once its stock is held); or an exchange's order: the order whose lines "
        "come back for its items"))
    exchange_credit: Money = Field(default=Decimal("0.00"), description=(
        "An exchange's order: what the lines coming back pay of its total (the customer pays the rest)"))
    # How it ships and the tax applied: the zone's method (`shipping_method`, below), the zone,
    # the rate (0.0725: 7.25 %). Null method and zone: a storefront without zones, or nothing
    # shipped; all null: orders placed before they were kept. The stored code, name and id make the
    # method object, and are not shown on their own; a read validated again (a route answering a
    # dump) brings the object itself.
    stored_shipping_method: str | OrderShippingMethodRead | None = Field(
        default=None, validation_alias="shipping_method", exclude=True)
    shipping_method_name: str | None = Field(default=None, exclude=True)
    shipping_method_id: uuid.UUID | None = Field(default=None, exclude=True)
    shipping_zone: str | None = None
    tax_rate: Rate | None = None
    tax_included: Money = Field(default=Decimal("0.00"), description=(
        "Of `tax_amount`, what the prices already include; the total adds only the rest"))
    shipping_discount: Money = Field(default=Decimal("0.00"), description=(
        "What a promotion took off shipping (free shipping); `shipping_cost` is what was charged"))
    shipping_tax: Money = Field(default=Decimal("0.00"), description="The tax on shipping (part of `tax_amount`)")
    status_history: list[StatusHistoryRead]
    from_cart: bool
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    # The promotions it was given, frozen when placed; each one's `lines` from the items' own
    # discounts (`OrderDetails.discounts_read`; a dump validated again has them already).
    discounts: list[OrderDiscountRead] = Field(default=[], validation_alias=AliasChoices("discounts_read",
                                                                                        "discounts"))

    @computed_field  # type: ignore[prop-decorator]  # mypy rejects a decorator over @property; pydantic documents this form
    @property
    def shipping_method(self) -> OrderShippingMethodRead | None:
        """The method it ships by: the id `GET /shipping-methods` listed (`POST /orders`'
        `shipping_method_id`), its name, and `price` the order's `shipping_cost`. Null: nothing
        shipped, a storefront without zones, or an order placed before methods were kept."""
        code = self.stored_shipping_method
        if code is None or isinstance(code, OrderShippingMethodRead):
            return code
        method_id = self.shipping_method_id or destinations.shipping_method_id(self.shipping_zone, code)
        return OrderShippingMethodRead(id=method_id, name=self.shipping_method_name, price=self.shipping_cost)
