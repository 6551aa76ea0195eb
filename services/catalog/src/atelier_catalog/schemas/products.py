"""Products: staff's edits, the read and the search, and other services' lookups (`/internal`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, computed_field, field_validator, model_validator

from atelier_catalog import domain
from atelier_catalog.domain import ProductKind, TaxClass
from atelier_catalog.schemas._shared import (
    Attributes,
    Currency,
    Description,
    Name,
    Price,
    Quantity,
    Sku,
    Slug,
    Storefronts,
    _Input,
    _PartialUpdate,
    _scoped_read,
    _storefronts,
    _upper,
)
from atelier_catalog.schemas.images import ImageRead
from atelier_catalog.schemas.variants import VariantRead
from atelier_common.money import Money


class ProductCreate(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"name": "Fox in Snow print", "sku": "PRINT-FOX-A3", "description": "A3 giclée print", "price": "29.00",
         "stock_quantity": 25, "kind": "physical", "category_id": "4c7de811-3c3a-4b19-8db3-5d992c592a4e"}]})

    name: Name
    slug: Slug | None = Field(default=None, description="Generated from the name when omitted")
    sku: Sku
    description: Description = ""
    price: Price
    compare_price: Price | None = None
    currency: Currency = "USD"
    stock_quantity: Quantity = 0
    track_inventory: StrictBool | None = Field(
        default=None, description="Defaults to true for physical products, false for digital offers")
    kind: ProductKind = ProductKind.PHYSICAL
    tax_class: TaxClass = Field(default=TaxClass.STANDARD, description=(
        "How it is taxed: at the destination's standard rate, its reduced rate, or not at all; variants as it is"))
    attributes: Attributes = {}
    category_id: uuid.UUID | None = None
    is_active: StrictBool = True
    is_featured: StrictBool = False
    storefronts: Storefronts = []

    _currency_upper = field_validator("currency", mode="before")(_upper)


class ProductUpdate(_PartialUpdate):
    """Stock is not here: it changes only through POST /products/{id}/stock (guarded, recorded)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"price": "27.50", "is_featured": True}]})

    NULLABLE = frozenset({"compare_price", "category_id"})

    name: Name | None = None
    slug: Slug | None = None
    sku: Sku | None = None
    description: Description | None = None
    price: Price | None = None
    compare_price: Price | None = None
    currency: Currency | None = None
    track_inventory: StrictBool | None = None
    kind: ProductKind | None = None
    tax_class: TaxClass | None = None
    attributes: Attributes | None = Field(default=None, description="Replaces the attributes as a whole")
    category_id: uuid.UUID | None = None
    is_active: StrictBool | None = None
    is_featured: StrictBool | None = None
    storefronts: Storefronts | None = None

    _currency_upper = field_validator("currency", mode="before")(_upper)


class PriceListBrief(BaseModel):
    """The price list a group price comes from."""

    id: uuid.UUID
    name: str


class ProductRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": "183b5a44-ea4a-4849-a814-f579d0491fa4", "number": 15, "name": "Fox in Snow print",
         "slug": "fox-in-snow-print", "sku": "PRINT-FOX-A3", "description": "A3 giclée print", "price": "27.50",
         "compare_price": None, "currency": "USD", "stock_quantity": 30, "track_inventory": True,
         "kind": "physical", "tax_class": "standard", "attributes": {},
         "category_id": "4c7de811-3c3a-4b19-8db3-5d992c592a4e", "is_active": True, "is_featured": True,
         "images": [{"id": "1a841d18-a214-4422-8d26-3755ad8efc7b",
           "url": "https://cdn.example.com/prints/fox-a3.jpg", "alt_text": "A fox in the snow", "display_order": 0,
           "is_primary": True}],
         "variants": [{"id": "5e8cf5bf-c970-4887-8a8c-7ba789866f5b", "name": "A2", "sku": "PRINT-FOX-A2",
           "price": "37.00", "stock_quantity": 10, "attributes": {"size": "A2"}, "is_active": True}],
         "average_rating": 0.0, "review_count": 0, "created_at": "2026-11-26T02:15:39.424136Z",
         "updated_at": "2026-11-26T02:15:39.589508Z", "storefronts": [], "in_stock": True, "discount_percentage": 0}]})

    id: uuid.UUID
    number: int | None = Field(default=None, description=(
        "A stable integer alias in creation order; every /products/{ref} route takes it as well as the id"))
    name: str
    slug: str
    sku: str
    description: str
    price: Money
    compare_price: Money | None
    currency: str
    stock_quantity: int
    track_inventory: bool
    kind: ProductKind
    tax_class: TaxClass = TaxClass.STANDARD
    attributes: dict[str, Any]
    category_id: uuid.UUID | None
    is_active: bool
    is_featured: bool
    images: list[ImageRead]
    variants: list[VariantRead]
    average_rating: float = Field(validation_alias="rating_avg")
    review_count: int
    created_at: datetime
    updated_at: datetime
    storefronts: list[str] = _scoped_read()
    list_price: Money | None = Field(default=None, description=(
        "For a customer group's caller: the product's own price when `price` is the group's price "
        "(`price_list` says which list); null otherwise"))
    price_list: PriceListBrief | None = Field(default=None, description=(
        "The price list of the caller's group that `price` (or a variant's) comes from; null: the catalog's prices"))

    _storefronts = field_validator("storefronts", mode="before")(_storefronts)

    @computed_field  # type: ignore[prop-decorator]  # mypy rejects a decorator over @property; pydantic documents this form
    @property
    def in_stock(self) -> bool:
        return domain.is_in_stock(self.track_inventory, self.stock_quantity)

    @computed_field  # type: ignore[prop-decorator]  # mypy rejects a decorator over @property; pydantic documents this form
    @property
    def discount_percentage(self) -> int:
        return domain.discount_percentage(self.price, self.compare_price)

    @model_validator(mode="after")
    def _variant_prices(self) -> ProductRead:
        for variant in self.variants:
            variant.price = domain.effective_price(variant.price, self.price)
        return self


class ProductQuery(BaseModel):
    """The filters of GET /products and GET /categories/{id or slug}/products."""

    model_config = ConfigDict(extra="ignore")

    search: str | None = Field(default=None, max_length=200,
                               description="Name, description or SKU; case-insensitive; best matches first")
    category: str | None = Field(default=None, description="Category id or slug; includes its descendants")
    min_price: Decimal | None = Field(default=None, ge=0)
    max_price: Decimal | None = Field(default=None, ge=0)
    in_stock: bool | None = None
    featured: bool | None = None
    kind: ProductKind | None = None
    ordering: str | None = Field(
        default=None, max_length=200,
        description="name, price, created_at, stock_quantity, rating; '-' for descending; comma-separated")
    status: Literal["active", "inactive"] | None = Field(
        default=None, description="Active or inactive products only (inactive ones need `include_inactive`)")
    stock: Literal["low", "out"] | None = Field(
        default=None, description=f"Tracked stock: `low` (1 to {domain.LOW_STOCK} units) or `out` (none left)")


# -- /internal ----------------------------------------------------------------------------------

# The product as other services read it is `atelier_common.contracts.catalog.ProductSnapshot`.


class ProductLookup(_Input):
    ids: Annotated[list[uuid.UUID], Field(max_length=200)] = []
    skus: Annotated[list[str], Field(max_length=200)] = []
    # Both given: the prices are what that customer group pays on that storefront.
    storefront: Annotated[str | None, Field(max_length=64)] = None
    customer_group: Annotated[str | None, Field(max_length=32)] = None
    # The names in this locale where they have a translation (an order's snapshot in its language).
    locale: Annotated[str | None, Field(max_length=35)] = None
