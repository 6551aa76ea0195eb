"""Stock locations, the units each holds, and transfers between them."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from atelier_catalog.schemas._shared import Name, StorefrontSlug, _Input, _PartialUpdate

Country = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, to_upper=True,
                                           pattern=r"^[A-Za-z]{2}$")]
Countries = Annotated[list[Country], Field(max_length=300, description=(
    "The countries (ISO 3166-1 alpha-2) it ships to; empty: everywhere"))]
Priority = Annotated[int, Field(strict=True, ge=0, le=1_000_000, description=(
    "Orders take from the locations that reach them, lowest priority first"))]
Reason = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=200)]


class LocationKind(StrEnum):
    WAREHOUSE = "warehouse"
    SHOP = "shop"
    DROP_SHIP = "drop_ship"


class LocationCreate(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"name": "Lyon warehouse", "kind": "warehouse", "storefront": "marbelle", "country": "FR",
         "ships_to": ["FR", "BE"], "priority": 10}]})

    name: Name
    kind: LocationKind = LocationKind.WAREHOUSE
    storefront: StorefrontSlug | Literal[""] | None = Field(default=None, description=(
        "The storefront whose orders it serves; none: the request's. Empty string: every storefront"))
    country: Country | None = Field(default=None, description="Where it is (its address's country)")
    ships_to: Countries = []
    priority: Priority = 100
    is_active: StrictBool = True


class LocationUpdate(_PartialUpdate):
    model_config = ConfigDict(json_schema_extra={"examples": [{"ships_to": ["FR"], "priority": 5}]})
    NULLABLE: ClassVar[frozenset[str]] = frozenset({"country"})

    name: Name | None = None
    kind: LocationKind | None = None
    country: Country | None = None
    ships_to: Countries | None = None
    priority: Priority | None = None
    is_active: StrictBool | None = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


_MAIN_STOCK: dict[str, Any] = {"id": "00000000-0000-4000-8000-00000000d0c1", "name": "Main stock", "kind": "warehouse", "storefront": "",
               "country": None, "ships_to": [], "priority": 100, "is_default": True, "is_active": True,
               "created_at": "2026-11-30T12:00:00Z"}


class LocationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_MAIN_STOCK]})

    id: uuid.UUID
    name: str
    kind: str
    storefront: str = Field(description="Empty: every storefront's")
    country: str | None
    ships_to: list[str]
    priority: int
    is_default: bool
    is_active: bool
    created_at: datetime


class LocationsRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"count": 1, "results": [_MAIN_STOCK]}]})

    count: int
    results: list[LocationRead]


class LocationUnits(BaseModel):
    location_id: uuid.UUID
    name: str
    quantity: int


class ItemStockRead(BaseModel):
    """A product's (variant_id null: sold without variants) or a variant's units per location;
    `stock_quantity` is their sum."""

    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    sku: str
    stock_quantity: int
    locations: list[LocationUnits]


class ProductLocationsRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"product_id": "183b5a44-ea4a-4849-a814-f579d0491fa4",
        "items": [{"product_id": "183b5a44-ea4a-4849-a814-f579d0491fa4", "variant_id": None, "sku": "SEAL-PRO-1L",
                   "stock_quantity": 7, "locations": [
                       {"location_id": "00000000-0000-4000-8000-00000000d0c1", "name": "Main stock", "quantity": 5},
                       {"location_id": "9a1c3f2e-1b2c-4d3e-8f40-5a6b7c8d9e0f", "name": "Lyon", "quantity": 2}]}]}]})

    product_id: uuid.UUID
    items: list[ItemStockRead]


class StockTransferCreate(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"product": "SEAL-PRO-1L", "from_location_id": "00000000-0000-4000-8000-00000000d0c1",
         "to_location_id": "9a1c3f2e-1b2c-4d3e-8f40-5a6b7c8d9e0f", "quantity": 3, "reason": "stock the shop"}]})

    product: Annotated[str, StringConstraints(strict=True, min_length=1, max_length=200)] = Field(
        description="The product's id, number or slug")
    variant_id: uuid.UUID | None = None
    from_location_id: uuid.UUID
    to_location_id: uuid.UUID
    quantity: Annotated[int, Field(strict=True, ge=1, le=10_000_000)]
    reason: Reason


class StockTransferRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"product_id": "183b5a44-ea4a-4849-a814-f579d0491fa4", "variant_id": None,
         "from_location_id": "00000000-0000-4000-8000-00000000d0c1",
         "to_location_id": "9a1c3f2e-1b2c-4d3e-8f40-5a6b7c8d9e0f", "quantity": 3, "from_quantity": 4,
         "to_quantity": 3}]})

    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    from_location_id: uuid.UUID
    to_location_id: uuid.UUID
    quantity: int
    from_quantity: int = Field(description="What the source holds after it")
    to_quantity: int = Field(description="What the destination holds after it")
