"""API models of the orders service; their field names are the public contract's (within /api/v1 none is
renamed: docs/api.md).

Requests carry what the customer chooses (products, quantities, addresses), never an amount:
unknown fields such as `unit_price` or `total_amount` are ignored, and every price comes from
catalog.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import fields as dataclass_fields
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_type_hints

from pydantic import (
    AfterValidator,
    AliasChoices,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    PlainSerializer,
    StringConstraints,
    computed_field,
    create_model,
    field_validator,
    model_validator,
)

from atelier_common.contracts.identity import DEFAULT_STOREFRONT, TAX_NUMBER_MAX_LENGTH, TAX_NUMBER_PATTERN
from atelier_common.contracts.orders import Discount
from atelier_common.inputs import InputModel
from atelier_common.money import Money
from atelier_orders import domain
from atelier_orders.domain import OrderStatus
from atelier_orders.pricing import destinations
from atelier_orders.promotions import rules
from atelier_orders.returns import rules as return_rules

if TYPE_CHECKING:
    from atelier_orders.models import CreditNote, Invoice

MAX_LINES = 100
Quantity = Annotated[int, Field(strict=True, ge=1, le=99)]
Sku = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=100)]
Note = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, max_length=1000)]
# A tax rate as a decimal string without trailing zeros: "0.0725" for 7.25 %, as staff wrote it.
Rate = Annotated[Decimal, PlainSerializer(lambda rate: format(rate.normalize(), "f"), return_type=str,
                                          when_used="json")]
# A business buyer's tax or VAT number: letters, digits, spaces, dashes and dots (the seller's rule,
# `contracts.identity.TAX_NUMBER_PATTERN`); blank is none.
TaxNumber = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, max_length=TAX_NUMBER_MAX_LENGTH)]


def _tax_number(value: str | None) -> str | None:
    if not value:
        return None
    if not re.fullmatch(TAX_NUMBER_PATTERN, value):
        raise ValueError("A tax number has letters, digits, spaces, dashes and dots only")
    return value


# A storefront's slug as another service or staff names it (identity decides which exist).
StorefrontSlug = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class _Input(InputModel):
    # docs/api.md: unknown request fields are ignored; wrong types are 400.
    model_config = ConfigDict(extra="ignore")


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


class InternalOrderCreate(OrderCreate):
    """`POST /internal/orders`: another service orders for a customer it has authenticated."""

    owner_id: uuid.UUID
    user_id: uuid.UUID | None = None
    # The storefront the order is placed on (its currency, tax, shipping and what it sells).
    storefront: Annotated[StorefrontSlug, Field(strict=True)] = DEFAULT_STOREFRONT


class ShippingMethodsQuery(_Input):
    """GET /shipping-methods: one of the caller's addresses, or a destination."""

    address_id: uuid.UUID | None = Field(default=None, description="one of the caller's addresses")
    country: str | None = Field(default=None, min_length=2, max_length=100, description="ISO 3166-1 alpha-2")
    region: str | None = Field(default=None, max_length=100, description="the state: CA or US-CA (ISO 3166-2)")

    @model_validator(mode="after")
    def _somewhere(self) -> ShippingMethodsQuery:
        if self.address_id is None and self.country is None:
            raise ValueError("address_id or country is required")
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


class StaffOrderQuery(_Input):
    """The filters of GET /staff/orders; each one narrows, none means every order."""

    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=320)] | None = Field(
        default=None, description="the buyer's email, whatever its case")
    number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)] | None = None
    customer: uuid.UUID | None = Field(default=None, description="the customer's user id")
    status: OrderStatus | None = None
    storefront: StorefrontSlug | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


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
_SHIPPED: dict[str, Any] = {
    "status": "shipped", "tracking_number": "1Z999AA10123456784", "updated_at": "2026-11-26T02:15:39.901797Z",
    "paid_at": "2026-11-26T02:15:25.279874Z", "shipped_at": "2026-11-26T02:15:39.901793Z"}
_HISTORY: list[dict[str, Any]] = [
    _PLACED, _RESERVED,
    {"status": "paid", "from_status": "awaiting_payment", "note": "Payment confirmed", "actor": "payments",
     "created_at": "2026-11-26T02:15:25.279879Z"},
    {"status": "processing", "from_status": "paid", "note": "Status changed to processing by staff", "actor": "staff",
     "created_at": "2026-11-26T02:15:39.892820Z"},
    {"status": "shipped", "from_status": "processing", "note": "Royal Mail", "actor": "staff",
     "created_at": "2026-11-26T02:15:39.901797Z"}]
_STAFF_ORDER_EXAMPLE: dict[str, Any] = {
    **_ORDER_EXAMPLE, **_SHIPPED, "status_history": _HISTORY, "user_id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a",
    "payments": [{"kind": "payment", "payment_id": "d1fce9f1-b31d-4d72-ae98-6d9fb4763468", "refund_id": None,
                  "amount": "32.24", "currency": "USD", "provider": "local", "reason": None,
                  "occurred_at": "2026-11-26T02:15:25.281832Z"}],
    "refunds": [], "events": _HISTORY, "version": "16dca0fda66af213", "allowed_transitions": ["delivered"], "tracking_number_required": False,
    "refund_state": "none"}


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


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


class StaffOrderSummaryRead(OrderSummaryRead):
    """A line of staff's order search: who bought it besides what."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {**_SUMMARY_EXAMPLE, "email": "ada.lovelace@example.com", "user_id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a"}]})

    email: str | None
    user_id: uuid.UUID | None


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
    register_buyer: bool = Field(default=False, description=(
        "Whether its guest buyer gets an account once it is paid (an email to set a password), as decided "
        "when it was placed from the storefront's `guest_accounts` and the buyer's `create_account`; false "
        "for a signed-in buyer"))
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


class ShippingMethodItemRead(_Read):
    """One method offered for the caller's cart at an address, priced for that cart."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "id": "77a08bc9-02da-53a5-9768-4935e68b17a8", "name": "Standard", "price": "5.95", "tax_amount": "2.24",
        "discount": "0.00", "total_amount": "33.18"}]})

    id: uuid.UUID | None = Field(description="POST /orders' shipping_method_id; null: a storefront without zones")
    name: str | None
    price: Money = Field(description="what shipping this cart by the method costs (0 with free shipping)")
    tax_amount: Money = Field(description="the order's tax, shipping's included where it is taxed")
    discount: Money = Field(default=Decimal("0.00"), description="what the cart's promotions take off its lines")
    total_amount: Money = Field(description="what `POST /orders` charges with this method")


class OrderMoneyRead(_Read):
    """A payment, failed payment, refund or returned payment of the order, as payments announced it."""

    kind: str = Field(description="payment, payment_failed, refund or returned")
    payment_id: uuid.UUID
    refund_id: uuid.UUID | None
    amount: Money | None
    currency: str | None
    provider: str | None
    reason: str | None
    occurred_at: datetime


class StaffOrderRead(OrderRead):
    """Staff's picture of an order: the customer's view plus who bought it, its payments and
    refunds (orders' read model of payments' events) and its events (the status history)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_STAFF_ORDER_EXAMPLE]})

    email: str | None
    user_id: uuid.UUID | None
    payments: list[OrderMoneyRead] = []
    refunds: list[OrderMoneyRead] = []
    events: list[StatusHistoryRead] = []
    # The order's version: what a staff form read; a stale write is refused (409).
    version: str = ""
    # The statuses staff may move it to now (`domain.allowed_targets`): the console offers only these.
    allowed_transitions: list[str] = []
    # What of its money went back: none, partial or full (a shipped order refunded in full stays shipped).
    refund_state: Literal["none", "partial", "full"] = "none"
    # Whether a move to `shipped` needs a tracking number (the storefront's `tracking_number_required`).
    tracking_number_required: bool = False


class InternalOrderRead(OrderRead):
    """What payments (and any other service) needs to charge for and fulfil an order."""

    owner_id: uuid.UUID
    user_id: uuid.UUID | None
    # Moved in from another product (`atelier import`): its history, never paid for here.
    imported_from: str | None = None

    @computed_field  # type: ignore[prop-decorator]  # mypy rejects a decorator over @property; pydantic documents this form
    @property
    def requires_shipping(self) -> bool:
        return domain.requires_shipping(item.kind for item in self.items)

    # What the status means is orders' rule: payments and generation read these, never the status list.
    @computed_field  # type: ignore[prop-decorator]  # mypy rejects a decorator over @property; pydantic documents this form
    @property
    def is_payable(self) -> bool:
        return domain.is_payable(self.status) and self.imported_from is None

    @computed_field  # type: ignore[prop-decorator]  # mypy rejects a decorator over @property; pydantic documents this form
    @property
    def is_paid(self) -> bool:
        return domain.is_paid(self.status)


class DailyOrdersRead(_Read):
    """One day's orders of one storefront, placed that day (UTC)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"day": "2026-11-26", "storefront": "default", "orders": 4, "paid_orders": 3, "revenue": {"USD": "96.72"}}]})

    day: date
    storefront: str
    orders: int = Field(description="orders placed that day, whatever their status now")
    paid_orders: int = Field(description=(
        "of them, those whose money came in and stays: paid, processing, shipped, delivered or completed"))
    revenue: dict[str, Money] = Field(description=(
        "the paid orders' totals per currency, before partial refunds (a decimal string each)"))


class StorefrontOrders(BaseModel):
    """`GET /internal/storefronts/{slug}/orders`: identity asks before deleting a storefront or
    changing its currency."""

    orders: int
    # Orders still waiting for their money (pending or awaiting payment).
    unpaid: int


# -- invoices and credit notes ------------------------------------------------------------------

_CREDIT_NOTE_EXAMPLE: dict[str, Any] = {
    "number": "CN-DEFAULT-000007", "invoice_number": "INV-DEFAULT-000042",
    "refund_id": "8e2f4a6b-1c3d-4e5f-a7b9-0c1d2e3f4a5b", "amount": "5.00", "currency": "USD",
    "reason": "Damaged corner", "issued_at": "2026-11-27T09:30:12.418503Z"}
_INVOICE_EXAMPLE: dict[str, Any] = {
    "number": "INV-DEFAULT-000042", "order_id": "d9a1128a-05bd-4d8e-aa4e-cd386132471e",
    "order_number": "ORD-20261126-NNKSU0", "storefront": "default",
    "seller": {"name": "Atelier Trading Ltd", "address": ["12 Harbour Street", "Leith EH6 6QB", "United Kingdom"],
               "tax_number": "GB123456789", "registration_number": "SC123456", "email": "accounts@atelier.example"},
    "buyer": {"email": "ada.lovelace@example.com", "billing_address": _ADDRESS_EXAMPLE,
              "shipping_address": _ADDRESS_EXAMPLE, "tax_number": "GB 987 6543 21"},
    "lines": [{"sku": "SEAL-PRO-1L", "name": "Stone Sealer 1 L", "variant_name": None, "kind": "physical",
               "quantity": 1, "unit_price": "24.99", "line_total": "24.99"}],
    "currency": "USD", "subtotal": "24.99", "tax_amount": "2.25", "shipping_cost": "5.00", "discount": "0.00",
    "total_amount": "32.24", "shipping_method_name": "Standard", "tax_rate": "0.09",
    "issued_at": "2026-11-26T02:15:25.279874Z", "credited": "5.00",
    "credit_notes": [_CREDIT_NOTE_EXAMPLE]}


class InvoiceLineRead(BaseModel):
    sku: str
    name: str
    variant_name: str | None = None
    kind: str
    quantity: int
    unit_price: Money
    line_total: Money
    # The line's discount and tax (absent on invoices issued before they were kept).
    discount_amount: Money = Decimal("0.00")
    tax_rate: Rate = Decimal("0")
    tax_amount: Money = Decimal("0.00")
    tax_inclusive: bool = False


class InvoiceTaxRead(BaseModel):
    """The tax of one rate: on `base` (lines and shipping after their discounts), added or included."""

    rate: Rate
    inclusive: bool = Field(description="true: the prices include this tax (nothing was added for it)")
    base: Money
    tax: Money


class CreditNoteRead(_Read):
    """A credit note of the invoice: one per refund; its PDF is `…/credit-notes/{number}.pdf`."""

    number: str
    invoice_number: str
    refund_id: uuid.UUID | None
    amount: Money
    currency: str
    reason: str | None
    issued_at: datetime


class CreditNoteLink(BaseModel):
    """A credit note in `GET /orders/{id}/credit-notes`: its number, amount, date and PDF."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"number": "CN-DEFAULT-000007", "amount": "10.00", "currency": "USD", "created_at": "2026-11-28T10:02:11Z",
         "url": "/api/v1/orders/d9a1128a-05bd-4d8e-aa4e-cd386132471e/credit-notes/CN-DEFAULT-000007.pdf"}]})

    number: str
    amount: Money
    currency: str
    created_at: datetime
    url: str

    @classmethod
    def of(cls, note: Any, url: str) -> CreditNoteLink:
        return cls(number=note.number, amount=note.amount, currency=note.currency, created_at=note.issued_at, url=url)


class SellerRead(BaseModel):
    """Who sold, as the storefront's legal details said when the invoice was issued."""

    name: str = Field(description="the storefront's legal name when the invoice was issued, else its name")
    address: list[str] = Field(default=[], description="the seller's address lines, in print order")
    tax_number: str | None = Field(default=None, description="the seller's tax or VAT number")
    registration_number: str | None = Field(default=None, description="the seller's company registration number")
    email: str | None = None


class BuyerRead(BaseModel):
    email: str | None
    billing_address: dict[str, Any] | None
    shipping_address: dict[str, Any] | None
    tax_number: str | None = Field(default=None, description="the business buyer's tax or VAT number (the order's)")


class InvoiceRead(_Read):
    """A paid order's invoice: what it snapshotted when the order was paid, and the credit
    notes of its refunds; its PDF is `…/invoice.pdf`."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_INVOICE_EXAMPLE]})

    number: str = Field(description="INV-<STOREFRONT>-<NNNNNN>, gap-free per storefront")
    order_id: uuid.UUID
    order_number: str
    storefront: str
    seller: SellerRead
    buyer: BuyerRead
    lines: list[InvoiceLineRead]
    currency: str
    subtotal: Money
    tax_amount: Money
    shipping_cost: Money
    discount: Money
    total_amount: Money
    shipping_method_name: str | None = Field(default=None, description="the order's shipping method")
    tax_rate: Rate | None = Field(default=None, description="the tax rate applied, 0.0725 for 7.25 %")
    taxes: list[InvoiceTaxRead] = Field(default=[], description="the tax per rate, added or included")
    issued_at: datetime
    credited: Money = Field(description="the credit notes' total so far")
    credit_notes: list[CreditNoteRead]

    @classmethod
    def of(cls, invoice: Invoice, credit_notes: Sequence[CreditNote]) -> InvoiceRead:
        """The invoice with the credit notes issued against it so far, oldest first."""
        return cls.model_validate({
            **{name: getattr(invoice, name) for name in (
                "number", "order_id", "order_number", "storefront", "lines", "currency", "subtotal", "tax_amount",
                "shipping_cost", "discount", "total_amount", "shipping_method_name", "tax_rate", "taxes",
                "issued_at")},
            "seller": {"name": invoice.seller_name, "address": invoice.seller_address or [],
                       "tax_number": invoice.seller_tax_number,
                       "registration_number": invoice.seller_registration_number, "email": invoice.seller_email},
            "buyer": {"email": invoice.email, "billing_address": invoice.billing_address,
                      "shipping_address": invoice.shipping_address, "tax_number": invoice.buyer_tax_number},
            "credited": sum((note.amount for note in credit_notes), Decimal("0")),
            "credit_notes": [{**note.model_dump(), "invoice_number": invoice.number} for note in credit_notes]})


# -- returns ----------------------------------------------------------------------------------

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
    "storefront": "default", "status": "received", "reason": "Too small", "opened_by": "customer",
    "refund_shipping": False, "currency": "USD", "amount": "27.24", "refund_id": None, "refunded_amount": None,
    "note": None, "created_at": "2026-11-27T09:12:03.118204Z", "received_at": "2026-11-29T14:40:51.902113Z",
    "refunded_at": None,
    "items": [{"id": "0a8c6a0e-58b3-4e57-b1a7-6e1b4a8f0c11", "order_item_id": "c92d3d50-e2f7-42e8-81de-cba4a7d781ce",
               "product_id": "770f2a5c-6a59-47bd-9b35-6b29746a5684", "variant_id": None, "sku": "SEAL-PRO-1L",
               "name": "Stone Sealer 1 L", "quantity": 1, "resaleable": True, "amount": "27.24"}]}


class ReturnRead(_Read):
    """A return: requested → approved (optional) → received (the refund is asked for) → refunded,
    or rejected."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_RETURN_EXAMPLE]})

    id: uuid.UUID
    number: str = Field(description="RET-YYYYMMDD-XXXXXX")
    order_id: uuid.UUID
    order_number: str
    storefront: str
    status: return_rules.ReturnStatus
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


# -- promotions --------------------------------------------------------------------------------

PromotionCode = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=64,
                                                 pattern=r"^[A-Za-z0-9_-]+$")]
PromotionName = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=200)]
PromotionAmount = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]
Uses = Annotated[int, Field(strict=True, ge=1, le=1_000_000_000)]


class PromotionWrite(_Input):
    """What staff set on a promotion; an update (PATCH) sends only what it changes."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"value": "15", "ends_at": "2026-12-31T23:00:00Z"}]})

    name: PromotionName | None = None
    code: PromotionCode | None = Field(default=None, description="Empty for an automatic promotion; unique per "
                                                                 "storefront whatever its case")
    kind: Literal["percentage", "fixed", "free_shipping"] | None = None
    value: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)] | None = Field(
        default=None, description="Percent (up to 100) for a percentage, an amount in the storefront's currency "
                                  "for a fixed discount, nothing for free shipping")
    product_ids: Annotated[list[uuid.UUID], Field(max_length=500)] | None = Field(
        default=None, description="It covers these products' lines (with category_ids: either); none: the order")
    category_ids: Annotated[list[uuid.UUID], Field(max_length=500)] | None = Field(
        default=None, description="It covers the lines of products in these categories (their own category)")
    min_subtotal: PromotionAmount | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    is_active: bool | None = None
    combinable: bool | None = Field(default=None, description="Whether it applies together with other promotions")
    usage_limit: Uses | None = Field(default=None, description="Orders that may redeem it in all (empty: no limit)")
    usage_limit_per_customer: Uses | None = Field(default=None,
                                                  description="Orders per customer (user, visitor or email)")
    expected_version: str | None = Field(default=None, max_length=100)

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude={"expected_version"})


class PromotionCreate(PromotionWrite):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"storefront": "default", "name": "Ten off", "code": "TEN", "kind": "percentage", "value": "10",
         "usage_limit": 100, "usage_limit_per_customer": 1, "combinable": False}]})

    storefront: Annotated[StorefrontSlug, Field(strict=True)] | None = Field(
        default=None, description="The storefront it belongs to; none: the request's")
    name: PromotionName
    kind: Literal["percentage", "fixed", "free_shipping"]
    value: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)] = Decimal("0")


class PromotionQuery(_Input):
    storefront: StorefrontSlug | None = None
    active: bool | None = None
    code: str | None = Field(default=None, max_length=64)


class _PromotionReadBase(_Read):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": "3c1e2d4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "storefront": "default", "name": "Summer 10%",
         "code": "SUMMER10", "kind": "percentage", "value": "10.00", "product_ids": [], "category_ids": [],
         "min_subtotal": "50.00", "starts_at": "2026-06-01T00:00:00Z", "ends_at": "2026-09-01T00:00:00Z",
         "is_active": True, "combinable": False, "usage_limit": 100, "uses": 3, "usage_limit_per_customer": 1,
         "created_at": "2026-05-20T09:00:00Z", "updated_at": "2026-05-20T09:00:00Z",
         "version": "9f2c4b1a7d3e5f60"}]})


# How the API answers the read shape's types, as it always has (docs/api.md#versioning: a field is
# never retyped): money as decimal strings, ids as strings, the kind by its name.
_TEXT = Annotated[str, BeforeValidator(str)]
_READ_TYPES: dict[Any, Any] = {Decimal: Money, Decimal | None: Money | None, rules.PromotionKind: str,
                               tuple[uuid.UUID, ...]: list[_TEXT]}
_READ_DESCRIPTIONS = {"uses": "Orders that redeemed it (cancelled or rejected unpaid orders give theirs back)"}


def _promotion_read() -> type[_PromotionReadBase]:
    """Staff's read of a promotion: the one read shape (`promotions.rules.PromotionTerms`), field for
    field and in its order, each field required, with `version` for an edit's If-Match. A field
    added to the shape is in the API at once; none is declared twice."""
    hints = get_type_hints(rules.PromotionTerms)
    read: dict[str, Any] = {
        f.name: (_READ_TYPES.get(hints[f.name], hints[f.name]), Field(description=_READ_DESCRIPTIONS.get(f.name)))
        for f in dataclass_fields(rules.PromotionTerms)}
    return create_model("PromotionRead", __base__=_PromotionReadBase, __module__=__name__, **read,
                        version=(str, Field(description="For an edit's If-Match")))


if TYPE_CHECKING:  # what type checkers see of it: a model of the API (its fields are made at import)
    PromotionRead = _PromotionReadBase
else:
    PromotionRead = _promotion_read()


class QuoteLine(_Input):
    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    unit_price: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
    quantity: Annotated[int, Field(ge=1)]
    # The product's kind (how it is taxed); none: taxed like goods, never under-charged.
    kind: str = Field(default="physical", max_length=32)
    # The product's tax class (`contracts.catalog.TaxClass`); none: standard, never under-charged.
    tax_class: str = Field(default="standard", max_length=32)


class QuoteShipping(_Input):
    """Where the cart ships (one of its owner's addresses, or a country and region) and by which method."""

    address_id: uuid.UUID | None = None
    country: str | None = Field(default=None, min_length=2, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    method_id: uuid.UUID | None = None
    # True when the customer is choosing them: an address, zone or method that does not do is a 4xx then.
    strict: bool = False


class PromotionQuoteRequest(_Input):
    """`POST /internal/promotions/quote` (cart): what a cart's lines save on its storefront and,
    given `shipping`, what its order would charge sent there."""

    storefront: StorefrontSlug
    owner_id: uuid.UUID
    user_id: uuid.UUID | None = None
    email: str | None = Field(default=None, max_length=320)
    code: str | None = Field(default=None, max_length=64)
    lines: Annotated[list[QuoteLine], Field(max_length=500)] = []
    # True when the customer is applying the code: a code that does not apply is a 4xx then.
    strict: bool = False
    shipping: QuoteShipping | None = None
    # The customer's client address (the cart's request's): wrong codes are counted per address too.
    client_ip: str | None = Field(default=None, max_length=64)
