"""API models: Create / Update (all optional) / Read per resource; their field names are the public contract's
(within /api/v1 none is renamed: docs/api.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    computed_field,
    field_validator,
    model_validator,
)

from atelier_catalog import domain
from atelier_catalog.domain import ProductKind, TaxClass
from atelier_common.inputs import InputModel
from atelier_common.money import Money


def _not_id_shaped(slug: str) -> str:
    if domain.is_id_shaped(slug):
        raise ValueError("must not look like an id: ids and slugs share the same URLs")
    return slug


Name = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=200)]
Slug = Annotated[str, StringConstraints(strict=True, max_length=domain.SLUG_MAX_LENGTH, pattern=domain.SLUG_PATTERN),
                 AfterValidator(_not_id_shaped)]
Sku = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, max_length=100,
                                       pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
Description = Annotated[str, StringConstraints(strict=True, max_length=20_000)]
Currency = Annotated[str, StringConstraints(strict=True, pattern=r"^[A-Z]{3}$")]
Price = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
Quantity = Annotated[int, Field(strict=True, ge=0, le=10_000_000)]
Attributes = Annotated[dict[str, Any], Field(description=(
    "Kind-specific attributes: credit_pack {credits}, retry_pack {retries}, subscription_plan {interval, tier, "
    "monthly_quota, provider_price_id?}, print_tier {max_retries_per_unit}; any other key is kept as given"))]
StorefrontSlug = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Storefronts = Annotated[list[StorefrontSlug], Field(
    max_length=50, description="The storefronts it belongs to (slugs of known storefronts); empty: every storefront")]
ImageUrl = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=1000,
                                            pattern=r"^(https?://|/)\S+$")]


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def _storefronts(value: Any) -> Any:
    """A row's `storefronts_key` (",a,b,") as the list of slugs it names."""
    return domain.storefronts_of(value) if isinstance(value, str) else value



def _scoped_read() -> Any:
    """A read's `storefronts`, from the row's `storefronts_key`."""
    return Field(validation_alias="storefronts_key", description="The storefronts it belongs to; empty: every storefront")


class _Input(InputModel):
    # docs/api.md: unknown request fields are ignored; wrong types are 400.
    model_config = ConfigDict(extra="ignore")


class _PartialUpdate(_Input):
    """PUT and PATCH both take the Update model: only the fields sent change. A field that
    cannot be empty may be left out, but not sent as null."""

    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*")
    @classmethod
    def _null_only_where_allowed(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.NULLABLE:
            raise ValueError("may not be null")
        return value

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


# -- categories ---------------------------------------------------------------------------------

class CategoryCreate(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"name": "Prints", "description": "Art prints on paper"}]})

    name: Name
    slug: Slug | None = None
    description: Description = ""
    parent_id: uuid.UUID | None = None
    is_active: StrictBool = True
    storefronts: Storefronts = []


class CategoryUpdate(_PartialUpdate):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"description": "Giclée art prints"}]})

    NULLABLE = frozenset({"parent_id"})

    name: Name | None = None
    slug: Slug | None = None
    description: Description | None = None
    parent_id: uuid.UUID | None = None
    is_active: StrictBool | None = None
    storefronts: Storefronts | None = None


class CategoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": "4c7de811-3c3a-4b19-8db3-5d992c592a4e", "name": "Prints", "slug": "prints",
         "description": "Art prints on paper", "parent_id": None, "is_active": True,
         "created_at": "2026-11-26T02:15:39.380260Z", "storefronts": []}]})

    id: uuid.UUID
    name: str
    slug: str
    description: str
    parent_id: uuid.UUID | None
    is_active: bool
    created_at: datetime
    storefronts: list[str] = _scoped_read()

    _storefronts = field_validator("storefronts", mode="before")(_storefronts)


class CategoryTreeRead(CategoryRead):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "02488174-178b-4785-9d66-9bb8e9e921fe", "name": "Natural Stone", "slug": "natural-stone",
         "description": "Slabs and tiles quarried around the world", "parent_id": None, "is_active": True,
         "created_at": "2026-11-26T02:15:16.257252Z", "storefronts": ["default", "marbelle", "shop"],
         "children": [{"id": "ed12b32f-51af-48dc-93b7-1be05d7a3507", "name": "Granite", "slug": "granite",
           "description": "Hard-wearing granite for kitchens and outdoor use",
           "parent_id": "02488174-178b-4785-9d66-9bb8e9e921fe", "is_active": True,
           "created_at": "2026-11-26T02:15:16.263144Z", "storefronts": ["default", "marbelle", "shop"],
           "children": [], "product_count": 2}], "product_count": 6}]})

    children: list[CategoryTreeRead] = []
    product_count: int = Field(description="Active products in this category and all its descendants")


# -- products -----------------------------------------------------------------------------------

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


class ImageCreate(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"url": "https://cdn.example.com/prints/fox-a3.jpg", "alt_text": "Fox in snow, A3", "is_primary": True}]})

    url: ImageUrl
    alt_text: Annotated[str, StringConstraints(strict=True, max_length=300)] = ""
    display_order: Quantity = 0
    is_primary: StrictBool = False


class ImageUpdate(_PartialUpdate):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"alt_text": "A fox in the snow"}]})

    url: ImageUrl | None = None
    alt_text: Annotated[str, StringConstraints(strict=True, max_length=300)] | None = None
    display_order: Quantity | None = None
    is_primary: StrictBool | None = None


class ImageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": "1a841d18-a214-4422-8d26-3755ad8efc7b", "url": "https://cdn.example.com/prints/fox-a3.jpg",
         "alt_text": "Fox in snow, A3", "display_order": 0, "is_primary": True}]})

    id: uuid.UUID
    url: str
    alt_text: str
    display_order: int
    is_primary: bool


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


class StockAdjustment(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"delta": 5, "reason": "restock"}]})

    delta: Annotated[int, Field(strict=True, ge=-10_000_000, le=10_000_000)]
    reason: Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=200)]
    variant_id: uuid.UUID | None = Field(default=None, description="Adjust this variant's stock instead")

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
    stock_quantity: int = Field(validation_alias="quantity_after")
    created_at: datetime


class ImportRowRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"line": 3, "sku": "PRINT-FOX-A3", "status": "error", "message": "price: Input should be a valid decimal"}]})

    line: int = Field(description="The row's line in the file (the header is line 1)")
    sku: str
    status: Literal["created", "updated", "unchanged", "error"]
    message: str = Field(description="Why the row is refused (empty unless `status` is error)")


class ImportReportRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"dry_run": True, "counts": {"created": 1, "updated": 2, "unchanged": 11, "error": 1},
         "rows": [{"line": 2, "sku": "PRINT-FOX-A2", "status": "updated", "message": ""},
                  {"line": 3, "sku": "PRINT-FOX-A3", "status": "error",
                   "message": "price: Input should be a valid decimal"}]}]})

    dry_run: bool = Field(description="True: nothing was written; the report says what applying would do")
    counts: dict[str, int] = Field(description="How many rows are created, updated, unchanged and in error")
    rows: list[ImportRowRead]


# -- digital offers -----------------------------------------------------------------------------

class OfferRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    sku: str
    slug: str
    name: str
    description: str
    kind: ProductKind
    price: Money
    compare_price: Money | None
    currency: str
    attributes: dict[str, Any]


class PricingRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"credit_packs": [{"id": "1ccbbc64-a25e-4235-9055-95b9c3f6f2bd", "sku": "PACK_5", "slug": "pack-5",
           "name": "5 credits", "description": "Five credits for generations and unlocks.", "kind": "credit_pack",
           "price": "4.99", "compare_price": None, "currency": "USD", "attributes": {"credits": 5}}],
         "subscription_plans": [{"id": "39105d10-fd2d-42ef-862e-e8543742783c", "sku": "pro_monthly",
           "slug": "pro-monthly", "name": "Pro (monthly)", "description": "200 generations a month.",
           "kind": "subscription_plan", "price": "19.99", "compare_price": None, "currency": "USD",
           "attributes": {"interval": "month", "tier": "pro", "monthly_quota": 200, "provider_price_id": None}}],
         "print_tiers": [{"id": "00eda94b-8848-4b08-ab55-9aeaf64e76b6", "sku": "basic", "slug": "print-basic",
           "name": "Basic print", "description": "Softcover print; 3 regenerations per character, cover and page.",
           "kind": "print_tier", "price": "49.00", "compare_price": None, "currency": "GEL",
           "attributes": {"max_retries_per_unit": 3}}],
         "retry_packs": [{"id": "46f67b67-eb35-4c3d-bf2a-1b06b664dc65", "sku": "RETRY_PACK_3",
           "slug": "retry-pack-3", "name": "3 extra retries",
           "description": "Three more regenerations for one storybook item.", "kind": "retry_pack", "price": "2.00",
           "compare_price": None, "currency": "GEL", "attributes": {"retries": 3}}]}]})

    credit_packs: list[OfferRead]
    subscription_plans: list[OfferRead]
    print_tiers: list[OfferRead]
    retry_packs: list[OfferRead]


# -- /internal ----------------------------------------------------------------------------------

# The product as other services read it is `atelier_common.contracts.catalog.ProductSnapshot`.


class ProductLookup(_Input):
    ids: Annotated[list[uuid.UUID], Field(max_length=200)] = []
    skus: Annotated[list[str], Field(max_length=200)] = []
    # Both given: the prices are what that customer group pays on that storefront.
    storefront: Annotated[str | None, Field(max_length=64)] = None
    customer_group: Annotated[str | None, Field(max_length=32)] = None


# -- price lists --------------------------------------------------------------------------

CustomerGroup = Annotated[str, Field(strict=True, description="A customer group identity assigns (`business`)")]


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


# -- reviews and wishlists ----------------------------------------------------------------------

class ReviewCreate(_Input):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"rating": 5, "title": "Lovely", "comment": "Sturdy and the colour is as pictured."}]})

    # S3 requires a title and a comment; the title is capped at 200 characters.
    rating: Annotated[int, Field(strict=True, ge=1, le=5)]
    title: Name
    comment: Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1, max_length=5_000)]


class ReviewRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": "51451601-1e2d-46f8-bad6-c593da291e17", "product_id": "770f2a5c-6a59-47bd-9b35-6b29746a5684",
         "user": "ada.lovelace", "rating": 5, "title": "Lovely", "comment": "Sturdy and the colour is as pictured.",
         "is_verified_purchase": False, "created_at": "2026-11-26T02:15:24.384021Z"}]})

    id: uuid.UUID
    product_id: uuid.UUID
    # S3's `user`: a display name, never the email; empty once the author deleted their account.
    user: str = Field(validation_alias="author_name")
    rating: int
    title: str
    comment: str
    is_verified_purchase: bool
    created_at: datetime


class WishlistToggleRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"message": "Product added to wishlist", "in_wishlist": True}]})

    message: str
    in_wishlist: bool


class WishlistProductRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    slug: str
    sku: str
    price: Money
    currency: str
    stock_quantity: int
    track_inventory: bool

    @computed_field  # type: ignore[prop-decorator]  # mypy rejects a decorator over @property; pydantic documents this form
    @property
    def in_stock(self) -> bool:
        return domain.is_in_stock(self.track_inventory, self.stock_quantity)


class WishlistItemRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"product": {"id": "770f2a5c-6a59-47bd-9b35-6b29746a5684", "name": "Stone Sealer 1 L",
          "slug": "stone-sealer-1-l", "sku": "SEAL-PRO-1L", "price": "24.99", "currency": "USD",
          "stock_quantity": 60, "track_inventory": True, "in_stock": True},
         "added_at": "2026-11-26T02:15:24.424959Z"}]})

    product: WishlistProductRead
    added_at: datetime
