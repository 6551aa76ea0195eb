"""The shipping methods offered for the caller's cart (`/shipping-methods`)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from pydantic import ConfigDict, Field, model_validator

from atelier_common.money import Money
from atelier_orders.schemas._shared import _Input, _Read


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
