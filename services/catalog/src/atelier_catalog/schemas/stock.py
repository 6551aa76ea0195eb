"""Stock: staff's adjustments, the counts, and what runs low."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from atelier_catalog.schemas._shared import _Input


class StockAdjustment(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"delta": 5, "reason": "restock"}]})

    delta: Annotated[int, Field(strict=True, ge=-10_000_000, le=10_000_000)]
    reason: Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=200)]
    variant_id: uuid.UUID | None = Field(default=None, description="Adjust this variant's stock instead")
    location_id: uuid.UUID | None = Field(default=None, description=(
        "The stock location whose units change (`/staff/locations`); none: the default location"))

    @field_validator("delta")
    @classmethod
    def _not_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("must not be 0")
        return value


class LowStockItem(BaseModel):
    """A product (or variant: "Product (Variant)") at or below its storefront's threshold."""

    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    name: str
    sku: str
    stock_quantity: int


class LowStockRead(BaseModel):
    """What a storefront offers with at most its `low_stock_threshold` in stock (S3's
    `get_low_stock_products`); `threshold` null: the storefront sets none (nothing is listed)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"storefront": "shop", "threshold": 10, "count": 1,
         "results": [{"product_id": "183b5a44-ea4a-4849-a814-f579d0491fa4", "variant_id": None,
                      "name": "Stone Sealer 1 L", "sku": "SEAL-PRO-1L", "stock_quantity": 7}]}]})

    storefront: str
    threshold: int | None
    count: int
    results: list[LowStockItem]


class StockRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"product_id": "183b5a44-ea4a-4849-a814-f579d0491fa4", "variant_id": None, "delta": 5, "reason": "restock",
         "stock_quantity": 30, "created_at": "2026-11-26T02:15:39.590585Z"}]})

    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    delta: int
    reason: str
    stock_quantity: int = Field(validation_alias="quantity_after", description="The total over every location")
    location_id: uuid.UUID | None = None
    created_at: datetime
