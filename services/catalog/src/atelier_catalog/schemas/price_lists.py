"""Customer groups' price lists."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from atelier_catalog.schemas._shared import Currency, Name, Price, StorefrontSlug, _Input, _PartialUpdate, _upper
from atelier_common.contracts.identity import CUSTOMER_GROUP_PATTERN
from atelier_common.money import Money

CustomerGroup = Annotated[str, Field(strict=True, pattern=CUSTOMER_GROUP_PATTERN, description=(
    "The code of one of the storefront's customer groups (`/staff/customer-groups`, e.g. `business`)"))]


class PriceListEntry(_Input):
    """One price of a list: the product's (and its variants' that sell at the product's price), or
    one variant's (`variant_id`)."""

    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    price: Price


PriceListEntries = Annotated[list[PriceListEntry], Field(max_length=2000)]


class PriceListCreate(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"name": "Business", "storefront": "marbelle", "currency": "USD", "customer_group": "business",
         "is_active": True, "prices": [{"product_id": "183b5a44-ea4a-4849-a814-f579d0491fa4", "price": "21.50"}]}]})

    name: Name
    storefront: StorefrontSlug | None = Field(default=None, description="The storefront it prices; none: the request's")
    currency: Currency
    customer_group: CustomerGroup
    is_active: StrictBool = True
    prices: PriceListEntries = []

    _currency_upper = field_validator("currency", mode="before")(_upper)


class PriceListUpdate(_PartialUpdate):
    """The fields sent change; `prices`, when sent, replaces the list's prices as a whole."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"is_active": False}]})
    NULLABLE: ClassVar[frozenset[str]] = frozenset({"expected_version"})

    name: Name | None = None
    is_active: StrictBool | None = None
    prices: PriceListEntries | None = None
    expected_version: Annotated[str | None, Field(max_length=100, description=(
        "The `version` the form was built from; another one is refused (409 STALE_VERSION). Or send If-Match"))] = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude={"expected_version"})


class PriceListPriceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product_id: uuid.UUID
    variant_id: uuid.UUID | None
    price: Money


PRICE_LIST_EXAMPLE: dict[str, Any] = {
    "id": "0b7f3f0e-7f55-4c36-9a43-9f1f2c5e1a10", "name": "Business", "storefront": "marbelle", "currency": "USD",
    "customer_group": "business", "is_active": True, "version": "5f0c3e1d2a9b8c7d",
    "created_at": "2026-11-26T17:00:00Z", "updated_at": "2026-11-26T17:00:00Z",
    "prices": [{"product_id": "183b5a44-ea4a-4849-a814-f579d0491fa4", "variant_id": None, "price": "21.50"}]}


class PriceListRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [PRICE_LIST_EXAMPLE]})

    id: uuid.UUID
    name: str
    storefront: str
    currency: str
    customer_group: str
    is_active: bool
    version: str
    created_at: datetime
    updated_at: datetime
    prices: list[PriceListPriceRead]


class PriceListsRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"count": 1, "results": [PRICE_LIST_EXAMPLE]}]})

    count: int
    results: list[PriceListRead]
