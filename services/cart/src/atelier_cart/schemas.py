"""API models of the cart; their field names are the public contract's (within /api/v1 none is renamed: docs/api.md)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, computed_field, model_validator

from atelier_cart import domain
from atelier_common.contracts.orders import CartShippingQuote, Discount
from atelier_common.inputs import InputModel
from atelier_common.money import Money

# The storefront's line limit is the service's rule (`domain.line_limit`: 99 unless it sets its own).
Quantity = Annotated[int, Field(strict=True, ge=1, le=domain.UNCAPPED_LINE_QUANTITY,
                                description="Units in the line, 1 to the storefront's line limit (99 unless it "
                                            "sets its own; a storefront without a cap: the stock)")]


class _Input(InputModel):
    # docs/api.md: unknown request fields are ignored; wrong types are 400.
    model_config = ConfigDict(extra="ignore")


class CartItemCreate(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"product_id": "770f2a5c-6a59-47bd-9b35-6b29746a5684", "quantity": 2}]})

    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    quantity: Quantity = 1


class CartItemUpdate(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"quantity": 1}]})

    quantity: Quantity


class LinePrice(_Input):
    """A line's current unit price, as orders found it in catalog (internal)."""

    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    unit_price: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]


class LinePrices(_Input):
    items: list[LinePrice] = Field(max_length=500)


class CartLineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    name: str
    sku: str
    image_url: str | None
    unit_price: Money
    quantity: int
    discount: Money | None = Field(default=None, description=(
        "The promotions' share on the line; null: the cart was not priced per line (no promotion applies and "
        "no shipping is chosen)"))
    tax_rate: Decimal | None = Field(default=None, description="The line's tax rate, a fraction (0.0725 for 7.25 %)")
    tax_amount: Money | None = Field(default=None, description=(
        "The line's tax, on its price less its discount (docs/api.md#money-and-tax); null as for `discount`"))

    @computed_field  # type: ignore[prop-decorator]  # mypy rejects a decorator over @property; pydantic documents this form
    @property
    def line_total(self) -> Money:
        return domain.line_total(self.unit_price, self.quantity)


class PromotionCodeApply(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "SUMMER10"}]})

    code: Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=64)]


class CartShippingChoose(_Input):
    """`PUT /cart/shipping`: one of the caller's addresses, or a country (and region) to price by."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"address_id": "3f2b8c1e-5d4a-4e6f-9a7b-2c1d0e9f8a7b", "method_id": "77a08bc9-02da-53a5-9768-4935e68b17a8"},
        {"country": "US", "region": "CA"}]})

    address_id: uuid.UUID | None = Field(default=None, description="One of the caller's addresses (a guest's too)")
    country: str | None = Field(default=None, min_length=2, max_length=100, description="ISO 3166-1 alpha-2")
    region: str | None = Field(default=None, max_length=100, description="The state: CA or US-CA (ISO 3166-2)")
    method_id: uuid.UUID | None = Field(default=None, description=(
        "A method the destination offers (`shipping.methods[].id`); none: its first"))

    @model_validator(mode="after")
    def _somewhere(self) -> CartShippingChoose:
        if (self.address_id is None) == (self.country is None):
            raise ValueError("address_id or country is required, not both")
        return self


class CartRead(BaseModel):
    """The caller's cart on the request's storefront (one cart per owner and storefront)."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": "d2f79784-1649-434a-a660-aa46eabb576c",
         "items": [{"id": "f9fe4442-77ad-486d-bc8b-19c9e4e174c6",
           "product_id": "770f2a5c-6a59-47bd-9b35-6b29746a5684", "variant_id": None, "name": "Stone Sealer 1 L",
           "sku": "SEAL-PRO-1L", "image_url": "/media/products/demo/stone-sealer-1-l-1.jpg", "unit_price": "24.99",
           "quantity": 1, "line_total": "24.99"}], "item_count": 1, "subtotal": "24.99", "tax_amount": "2.25",
         "discount_total": "0.00", "total": "27.24", "currency": "USD", "storefront": "default",
         "promotion_code": None, "promotion_code_problem": None, "discounts": [], "free_shipping": False}]})

    id: uuid.UUID
    items: list[CartLineRead] = Field(validation_alias="priced_items")
    item_count: int = Field(description="Total units over all lines")
    subtotal: Money
    tax_amount: Money = Field(description="The tax, on what the lines cost after their discounts "
                                          "(docs/api.md#money-and-tax)")
    tax_included: Money = Field(default=Decimal("0.00"), description=(
        "Of `tax_amount`, what the prices already include (the total adds only the rest)"))
    discount_total: Money = Field(description="What the promotions in `discounts` save")
    total: Money = Field(description="subtotal - discount_total + shipping + the tax not included in the prices: "
                                     "what `POST /orders` from this cart charges")
    currency: str
    storefront: str = Field(description="The slug of the storefront the cart belongs to")
    promotion_code: str | None = Field(description="The discount code applied, if any")
    promotion_code_problem: dict[str, str] | None = Field(
        description="{reason, message}: why the applied code saves nothing now (e.g. below_minimum, used_up)")
    discounts: list[Discount] = Field(description="The promotions applied (automatic ones and the code's), "
                                                      "each with what it saves")
    free_shipping: bool = Field(description="A promotion makes the order's shipping free")
    shipping: CartShippingQuote | None = Field(default=None, description=(
        "Where the cart ships (`PUT /cart/shipping`), by which method, what shipping costs and every method "
        "the destination offers with the order's total by it; null: no destination chosen"))


class InternalCartRead(BaseModel):
    """The cart as orders reads it to place an order: the owner's cart on `storefront`, taxed as
    that storefront taxes; `id` is null when the owner has no cart there."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID | None
    owner_id: uuid.UUID
    items: list[CartLineRead]
    item_count: int
    subtotal: Money
    tax_amount: Money
    tax_included: Money = Decimal("0.00")
    total: Money
    currency: str
    storefront: str = Field(description="The slug of the storefront the cart belongs to")
    promotion_code: str | None = None
    # The cart's shipping choice: an order from the cart without its own ships there.
    shipping_address_id: uuid.UUID | None = None
    shipping_method_id: uuid.UUID | None = None

