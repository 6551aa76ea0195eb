"""A product's variants."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from atelier_catalog.schemas._shared import Attributes, Name, Price, Quantity, Sku, _Input, _PartialUpdate
from atelier_common.money import Money


class VariantCreate(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"name": "A2", "sku": "PRINT-FOX-A2", "price": "39.00", "stock_quantity": 10, "attributes": {"size": "A2"}}]})

    name: Name
    sku: Sku
    price: Price | None = Field(default=None, description="Omitted: the variant sells at the product's price")
    stock_quantity: Quantity = 0
    attributes: Attributes = {}
    is_active: StrictBool = True


class VariantUpdate(_PartialUpdate):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"price": "37.00"}]})

    NULLABLE = frozenset({"price"})

    name: Name | None = None
    sku: Sku | None = None
    price: Price | None = None
    attributes: Attributes | None = None
    is_active: StrictBool | None = None


class VariantRead(BaseModel):
    """Within a product, `price` is the price the variant sells at; on the staff variant routes
    it is the variant's own price, null when it follows the product's."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": "5e8cf5bf-c970-4887-8a8c-7ba789866f5b", "name": "A2", "sku": "PRINT-FOX-A2", "price": "39.00",
         "stock_quantity": 10, "attributes": {"size": "A2"}, "is_active": True}]})

    id: uuid.UUID
    name: str
    sku: str
    price: Money | None
    stock_quantity: int
    attributes: dict[str, Any]
    is_active: bool
    list_price: Money | None = Field(default=None, description=(
        "Within a product read by a customer group: the variant's own selling price when `price` is its "
        "group's price; null otherwise"))
