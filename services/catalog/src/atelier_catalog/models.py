"""Tables of the catalog service.

Relationships are `lazy="raise"`: every query says what it loads (selectinload), so a forgotten
load fails loudly in tests instead of becoming N+1 queries in production.

On PostgreSQL `product` also has `search_vector`, a generated tsvector (name weighted A,
description B) with a GIN index, made by the migration only: SQLite has no such column, so it is
not mapped here and the repository refers to it by name.
"""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, Relationship, SQLModel

from atelier_catalog.domain import ProductKind, TaxClass
from atelier_common.columns import UtcDateTime, json_field, utcnow
from atelier_common.imports import ImportRefRow
from atelier_common.owners import OwnerRow, owner_indexes
from atelier_common.versions import version_of


def _created_at() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


def _storefronts_key() -> Any:
    # The storefronts a row belongs to as ",a,b," (empty: every storefront): `domain.storefronts_key`.
    return Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


KIND_VALUES = ", ".join(f"'{kind.value}'" for kind in ProductKind)


class Category(SQLModel, table=True):
    __tablename__ = "category"
    __table_args__ = (
        UniqueConstraint("slug", name="uq_category_slug"),
        Index("ix_category_parent_id", "parent_id"),
        Index("ix_category_is_active_name", "is_active", "name"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    parent_id: uuid.UUID | None = Field(default=None, sa_column=Column(
        ForeignKey("category.id", name="fk_category_parent_id"), nullable=True))
    name: str = Field(max_length=200)
    slug: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    is_active: bool = True
    created_at: datetime = _created_at()
    storefronts_key: str = _storefronts_key()


class Product(SQLModel, table=True):
    __tablename__ = "product"
    __table_args__ = (
        UniqueConstraint("slug", name="uq_product_slug"),
        UniqueConstraint("sku", name="uq_product_sku"),
        UniqueConstraint("number", name="uq_product_number"),
        CheckConstraint(f"kind IN ({KIND_VALUES})", name="ck_product_kind"),
        # The last line of defence behind the guarded stock UPDATE.
        CheckConstraint("stock_quantity >= 0", name="ck_product_stock_non_negative"),
        # Every public query filters on is_active, so it leads each filter/ordering index; the
        # ordering indexes end with id, the tie-breaker of every page.
        Index("ix_product_active_category", "is_active", "category_id"),
        Index("ix_product_active_price", "is_active", "price", "id"),
        Index("ix_product_active_created_at", "is_active", "created_at", "id"),
        Index("ix_product_active_name", "is_active", "name", "id"),
        Index("ix_product_active_stock", "is_active", "stock_quantity", "id"),
        Index("ix_product_active_rating", "is_active", "rating_avg", "id"),
        Index("ix_product_active_kind", "is_active", "kind"),
        Index("ix_product_active_featured", "is_active", "is_featured"),
        Index("ix_product_category_id", "category_id"),
        # Search's exact-SKU tier compares case-insensitively.
        Index("ix_product_sku_lower", text("lower(sku)")),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # A stable integer alias, in creation order, for clients that need integer ids (a seed API's
    # `id`): given by `ProductService.create`; routes take it wherever they take the id.
    number: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    name: str = Field(max_length=200)
    slug: str = Field(max_length=200)
    sku: str = Field(max_length=100)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    price: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))
    compare_price: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 2), nullable=True))
    currency: str = Field(default="USD", max_length=3)
    stock_quantity: int = 0
    track_inventory: bool = True
    kind: str = Field(default=ProductKind.PHYSICAL.value, max_length=32)
    # How it is taxed (`TaxClass`: standard, reduced, zero); its variants are taxed as it is.
    tax_class: str = Field(default=TaxClass.STANDARD.value, sa_column=Column(
        String(16), nullable=False, server_default=TaxClass.STANDARD.value))
    attributes: dict[str, Any] = json_field()
    category_id: uuid.UUID | None = Field(default=None, sa_column=Column(
        ForeignKey("category.id", ondelete="SET NULL", name="fk_product_category_id"), nullable=True))
    is_active: bool = True
    is_featured: bool = False
    # Filled by reviews later; here so that ordering by rating already has its column and index.
    rating_avg: Decimal = Field(default=Decimal("0"), sa_column=Column(Numeric(3, 2), nullable=False,
                                                                        server_default="0"))
    review_count: int = 0
    created_at: datetime = _created_at()
    updated_at: datetime = Field(default_factory=utcnow,
                                 sa_column=Column(UtcDateTime(), nullable=False, onupdate=utcnow))
    storefronts_key: str = _storefronts_key()

    images: list["ProductImage"] = Relationship(sa_relationship_kwargs={
        "lazy": "raise",
        "order_by": lambda: (ProductImage.display_order, ProductImage.created_at, ProductImage.id),
    })
    variants: list["ProductVariant"] = Relationship(sa_relationship_kwargs={
        "lazy": "raise",
        "order_by": lambda: (ProductVariant.created_at, ProductVariant.id),
    })


class ProductVariant(SQLModel, table=True):
    __tablename__ = "product_variant"
    __table_args__ = (
        UniqueConstraint("sku", name="uq_product_variant_sku"),
        CheckConstraint("stock_quantity >= 0", name="ck_product_variant_stock_non_negative"),
        Index("ix_product_variant_product_id", "product_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    product_id: uuid.UUID = Field(sa_column=Column(
        ForeignKey("product.id", ondelete="CASCADE", name="fk_product_variant_product_id"), nullable=False))
    name: str = Field(max_length=200)
    sku: str = Field(max_length=100)
    # NULL: sells at the product's price (domain.effective_price).
    price: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 2), nullable=True))
    stock_quantity: int = 0
    attributes: dict[str, Any] = json_field()
    is_active: bool = True
    created_at: datetime = _created_at()
    updated_at: datetime = Field(default_factory=utcnow,
                                 sa_column=Column(UtcDateTime(), nullable=False, onupdate=utcnow))


class ProductImage(SQLModel, table=True):
    __tablename__ = "product_image"
    __table_args__ = (Index("ix_product_image_product_order", "product_id", "display_order"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    product_id: uuid.UUID = Field(sa_column=Column(
        ForeignKey("product.id", ondelete="CASCADE", name="fk_product_image_product_id"), nullable=False))
    url: str = Field(max_length=1000)
    alt_text: str = Field(default="", max_length=300)
    display_order: int = 0
    is_primary: bool = False
    created_at: datetime = _created_at()


class StockMovement(SQLModel, table=True):
    """Why stock changed: one row per adjustment (staff corrections now, reservations later)."""

    __tablename__ = "stock_movement"
    __table_args__ = (Index("ix_stock_movement_product_created", "product_id", "created_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    product_id: uuid.UUID = Field(sa_column=Column(
        ForeignKey("product.id", ondelete="CASCADE", name="fk_stock_movement_product_id"), nullable=False))
    variant_id: uuid.UUID | None = Field(default=None, sa_column=Column(
        ForeignKey("product_variant.id", ondelete="CASCADE", name="fk_stock_movement_variant_id"), nullable=True))
    delta: int
    quantity_after: int
    reason: str = Field(max_length=200)
    actor_id: uuid.UUID | None = None
    created_at: datetime = _created_at()
    # The location whose units moved (NULL: before locations); `quantity_after` stays the total.
    location_id: uuid.UUID | None = None


# The default location's id, made by the migration: it holds the stock of every install from
# before locations, and whatever staff add without naming a location.
DEFAULT_LOCATION_ID = uuid.UUID("00000000-0000-4000-8000-00000000d0c1")
DEFAULT_LOCATION_NAME = "Main stock"


class StockLocation(SQLModel, table=True):
    """Where stock is kept (a warehouse, a shop, a drop-shipper), for one storefront or, with
    `storefront` empty, for every storefront. `ships_to`: the countries it ships to (empty: all);
    an order takes from the locations that reach its destination, lowest `priority` first."""

    __tablename__ = "stock_location"
    __table_args__ = (
        CheckConstraint("kind IN ('warehouse', 'shop', 'drop_ship')", name="ck_stock_location_kind"),
        Index("ix_stock_location_storefront", "storefront"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    storefront: str = Field(default="", max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(default="warehouse", max_length=16)
    country: str | None = Field(default=None, max_length=2)
    ships_to: list[str] = Field(default_factory=list, sa_column=Column(
        JSON().with_variant(JSONB(), "postgresql"), nullable=False))
    priority: int = 100
    is_default: bool = False
    is_active: bool = True
    created_at: datetime = _created_at()


class LocationStock(SQLModel, table=True):
    """The units of one product (sold without variants) or variant at one location. The product's
    or variant's `stock_quantity` is the sum over its locations, changed in the same transaction
    and first: every location change queues on that row's lock, so each location's guarded
    UPDATE sees the latest count, and the public reads keep their one column."""

    __tablename__ = "location_stock"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="ck_location_stock_non_negative"),
        Index("ix_location_stock_item_id", "item_id"),
    )

    location_id: uuid.UUID = Field(sa_column=Column(
        ForeignKey("stock_location.id", ondelete="CASCADE", name="fk_location_stock_location_id"), primary_key=True))
    # The variant's id, or the product's for a product without variants.
    item_id: uuid.UUID = Field(primary_key=True)
    product_id: uuid.UUID = Field(sa_column=Column(
        ForeignKey("product.id", ondelete="CASCADE", name="fk_location_stock_product_id"), nullable=False))
    variant_id: uuid.UUID | None = Field(default=None, sa_column=Column(
        ForeignKey("product_variant.id", ondelete="CASCADE", name="fk_location_stock_variant_id"), nullable=True))
    quantity: int = 0


class StockReservation(SQLModel, table=True):
    """Stock held for one order line: reserved at `order.placed`, committed at `order.paid`,
    released at `order.cancelled` or when it expires unpaid. Lines that need no stock (digital,
    untracked) have no row. `line_no` makes a second placement of the same order collide."""

    __tablename__ = "stock_reservation"
    __table_args__ = (
        UniqueConstraint("order_id", "line_no", name="uq_stock_reservation_order_line"),
        CheckConstraint("quantity > 0", name="ck_stock_reservation_quantity_positive"),
        CheckConstraint("status IN ('reserved', 'committed', 'released', 'expired')",
                        name="ck_stock_reservation_status"),
        # The expiry sweep reads only reserved rows, oldest deadline first.
        Index("ix_stock_reservation_status_expires", "status", "expires_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    order_id: uuid.UUID
    line_no: int
    product_id: uuid.UUID = Field(sa_column=Column(
        ForeignKey("product.id", ondelete="CASCADE", name="fk_stock_reservation_product_id"), nullable=False))
    variant_id: uuid.UUID | None = Field(default=None, sa_column=Column(
        ForeignKey("product_variant.id", ondelete="CASCADE", name="fk_stock_reservation_variant_id"), nullable=True))
    quantity: int
    # Where the units were taken (NULL: rows from before locations, the default location's); a
    # line split across two locations has a row for each.
    location_id: uuid.UUID | None = None
    # Units a return put back (at `location_id`), so that a second return takes the rest.
    returned: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    status: str = Field(default="reserved", max_length=16)
    expires_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    created_at: datetime = _created_at()
    updated_at: datetime = Field(default_factory=utcnow,
                                 sa_column=Column(UtcDateTime(), nullable=False, onupdate=utcnow))


class StockOrder(SQLModel, table=True):
    """One row per order the catalog heard of, whatever arrived first: the lock that serialises
    `order.placed`, `order.paid` and `order.cancelled` of one order (each handler upserts it and
    holds its row lock to the end of its inbox transaction), and what was already decided. A
    payment heard before the reservation is kept here, so the later reserve commits at once."""

    __tablename__ = "stock_order"
    # The sweep's range (`updated_at < cut-off`).
    __table_args__ = (Index("ix_stock_order_updated_at", "updated_at"),)

    order_id: uuid.UUID = Field(primary_key=True)
    paid_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    paid_by: uuid.UUID | None = None
    cancelled_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    # Where it ships, from `order.placed` (NULL before it came, or from before locations): an
    # edit that adds units takes them from the locations serving it.
    storefront: str | None = Field(default=None, max_length=64)
    ship_country: str | None = Field(default=None, max_length=2)
    created_at: datetime = _created_at()
    updated_at: datetime = Field(default_factory=utcnow,
                                 sa_column=Column(UtcDateTime(), nullable=False, onupdate=utcnow))


class CatalogOwner(OwnerRow, table=True):
    """A buyer the catalog heard of: who claimed an anonymous id, whether the user was erased.
    `order.paid`, `identity.anonymous_claimed` and `identity.user_deleted` may arrive in any order:
    each upserts and locks the rows it concerns (an anonymous id before its user), so a purchase
    heard after the claim is the user's, and none is kept after the erasure."""

    __tablename__ = "catalog_owner"
    __table_args__ = owner_indexes("catalog_owner")


class Purchase(SQLModel, table=True):
    """A paid product per owner (user, or anonymous id until claimed): reviews by this owner are
    verified purchases."""

    __tablename__ = "purchase"
    __table_args__ = (UniqueConstraint("owner_id", "product_id", name="uq_purchase_owner_product"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: uuid.UUID
    product_id: uuid.UUID = Field(sa_column=Column(
        ForeignKey("product.id", ondelete="CASCADE", name="fk_purchase_product_id"), nullable=False))
    order_id: uuid.UUID
    created_at: datetime = _created_at()


class Review(SQLModel, table=True):
    __tablename__ = "review"
    __table_args__ = (
        # One review per user per product; a deleted user's reviews keep user_id NULL (anonymised).
        UniqueConstraint("product_id", "user_id", name="uq_review_product_user"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="ck_review_rating_range"),
        Index("ix_review_product_created", "product_id", "created_at"),
        Index("ix_review_user_id", "user_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    product_id: uuid.UUID = Field(sa_column=Column(
        ForeignKey("product.id", ondelete="CASCADE", name="fk_review_product_id"), nullable=False))
    user_id: uuid.UUID | None = None
    author_name: str = Field(default="", max_length=200)
    rating: int
    title: str = Field(default="", max_length=200)
    comment: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    is_verified_purchase: bool = False
    created_at: datetime = _created_at()


class WishlistItem(SQLModel, table=True):
    __tablename__ = "wishlist_item"
    __table_args__ = (
        UniqueConstraint("user_id", "product_id", name="uq_wishlist_item_user_product"),
        Index("ix_wishlist_item_user_created", "user_id", "created_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID
    product_id: uuid.UUID = Field(sa_column=Column(
        ForeignKey("product.id", ondelete="CASCADE", name="fk_wishlist_item_product_id"), nullable=False))
    created_at: datetime = _created_at()


class CatalogImportRef(ImportRefRow, table=True):
    """Which row a source's primary key became (`atelier import`): a second run finds it and skips."""

    __tablename__ = "catalog_import_ref"


class CustomerGroupCopy(SQLModel, table=True):
    """Catalog's copy of identity's customer groups (`customer_group.changed` / `.deleted`): the
    codes a price list may name on each storefront. A deleted group keeps its row (`deleted`), so a
    late `changed` of an older revision does not bring it back."""

    # Not `customer_group`: identity's table, and the embedded mode holds every service's tables in one metadata.
    __tablename__ = "customer_group_copy"

    storefront: str = Field(primary_key=True, max_length=64)
    code: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=100)
    revision: int = Field(sa_type=BigInteger)
    deleted: bool = False


class PriceList(SQLModel, table=True):
    """A customer group's prices on one storefront, in one currency: business prices. A
    caller of that group pays a listed price (`domain.list_price`) instead of the product's."""

    __tablename__ = "price_list"
    __table_args__ = (Index("ix_price_list_scope", "storefront", "customer_group", "currency", "is_active"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(max_length=200)
    storefront: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    customer_group: str = Field(max_length=32)
    is_active: bool = True
    created_at: datetime = _created_at()
    # Set by every staff write (the list's fields or its prices): the list's `version`.
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))

    prices: list["PriceListPrice"] = Relationship(sa_relationship_kwargs={
        "lazy": "raise",
        "order_by": lambda: (PriceListPrice.product_id, PriceListPrice.variant_id),
        "cascade": "all, delete-orphan",
    })

    @property
    def version(self) -> str:
        """What a staff edit sends back (`If-Match`) so that it never overwrites another's."""
        return version_of(self.updated_at)


class PriceListPrice(SQLModel, table=True):
    """One price of a list: a product's (`variant_id` NULL: the product and its variants that sell
    at the product's price) or one variant's. One per list, product and variant."""

    __tablename__ = "price_list_price"
    __table_args__ = (
        UniqueConstraint("price_list_id", "product_id", "variant_id", name="uq_price_list_price_variant"),
        # NULLs are distinct in a unique constraint: the product's own price has its own index.
        Index("uq_price_list_price_product", "price_list_id", "product_id", unique=True,
              postgresql_where=text("variant_id IS NULL"), sqlite_where=text("variant_id IS NULL")),
        Index("ix_price_list_price_product_id", "product_id"),
        CheckConstraint("price >= 0", name="ck_price_list_price_non_negative"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    price_list_id: uuid.UUID = Field(sa_column=Column(
        ForeignKey("price_list.id", ondelete="CASCADE", name="fk_price_list_price_price_list_id"), nullable=False))
    product_id: uuid.UUID = Field(sa_column=Column(
        ForeignKey("product.id", ondelete="CASCADE", name="fk_price_list_price_product_id"), nullable=False))
    variant_id: uuid.UUID | None = Field(default=None, sa_column=Column(
        ForeignKey("product_variant.id", ondelete="CASCADE", name="fk_price_list_price_variant_id"), nullable=True))
    price: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))


class Translation(SQLModel, table=True):
    """A product's, a variant's or a category's texts in one locale (docs/back-office.md#translations).
    A field left null reads as the record's own text (the storefront's default language). Product and
    variant rows carry their product (`product_id`: search reads a product's texts by it), category
    rows their category; either goes with its record."""

    __tablename__ = "translation"
    __table_args__ = (
        UniqueConstraint("subject", "subject_id", "locale", name="uq_translation_subject_locale"),
        CheckConstraint("subject IN ('product', 'variant', 'category')", name="ck_translation_subject"),
        Index("ix_translation_locale_product", "locale", "product_id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    subject: str = Field(max_length=16)
    subject_id: uuid.UUID
    locale: str = Field(max_length=12)
    product_id: uuid.UUID | None = Field(default=None, sa_column=Column(
        ForeignKey("product.id", ondelete="CASCADE", name="fk_translation_product_id"), nullable=True))
    category_id: uuid.UUID | None = Field(default=None, sa_column=Column(
        ForeignKey("category.id", ondelete="CASCADE", name="fk_translation_category_id"), nullable=True))
    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))
