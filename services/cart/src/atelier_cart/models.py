"""Tables of the cart service.

`cart_product` is a read-model of catalog's products and variants, fed by
`catalog.product_changed` (and by catalog's internal API for a product no event has told us
about yet). `variant_id` is NULL for a product sold without a variant; a unique constraint would
treat two NULLs as different, so uniqueness of (…, product_id, variant_id) is two partial unique
indexes: one for the NULL case, one for the rest.
"""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Numeric,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from atelier_cart.domain import UNCAPPED_LINE_QUANTITY
from atelier_common.columns import UtcDateTime, utcnow
from atelier_common.contracts.identity import DEFAULT_STOREFRONT
from atelier_common.owners import OwnerRow, owner_indexes

NO_VARIANT = text("variant_id IS NULL")
HAS_VARIANT = text("variant_id IS NOT NULL")


def _timestamp() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UtcDateTime(), nullable=False))


def _money() -> Any:
    return Field(sa_column=Column(Numeric(12, 2), nullable=False))


def _unique_per_product_and_variant(table: str, *leading: str) -> tuple[Index, Index]:
    """(…leading, product_id, variant_id) unique, a NULL variant included (see the module doc)."""
    return (Index(f"uq_{table}_no_variant", *leading, "product_id", unique=True,
                  sqlite_where=NO_VARIANT, postgresql_where=NO_VARIANT),
            Index(f"uq_{table}_variant", *leading, "product_id", "variant_id", unique=True,
                  sqlite_where=HAS_VARIANT, postgresql_where=HAS_VARIANT))


class Cart(SQLModel, table=True):
    """One per owner and storefront (Medusa's cart has a sales channel): the owner is a user id,
    or an anonymous id until that identity is claimed; the storefront is the slug of the one the
    cart's requests came from (docs/storefronts.md), `default` for carts older than storefronts."""

    __tablename__ = "cart"
    # (owner_id, storefront) also serves the lookups by owner alone (a claim, an erasure).
    __table_args__ = (UniqueConstraint("owner_id", "storefront", name="uq_cart_owner_id_storefront"),
                      Index("ix_cart_anonymous_updated_at", "anonymous", "updated_at"))

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner_id: uuid.UUID
    storefront: str = Field(default=DEFAULT_STOREFRONT, max_length=64,
                            sa_column_kwargs={"server_default": DEFAULT_STOREFRONT})
    # Created by an anonymous visitor and never handed to a user: housekeeping deletes it once
    # untouched for `anonymous_retention_days` (a user's cart never).
    anonymous: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    # The currency of its lines: its storefront's when created (`domain.currency_after_add`).
    currency: str = Field(max_length=3)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class CartItem(SQLModel, table=True):
    """A line: the unit price and the name/sku/image are snapshots taken when it was added."""

    __tablename__ = "cart_item"
    __table_args__ = (
        *_unique_per_product_and_variant("cart_item", "cart_id"),
        Index("ix_cart_item_cart_id", "cart_id"),
        CheckConstraint(f"quantity >= 1 AND quantity <= {UNCAPPED_LINE_QUANTITY}", name="ck_cart_item_quantity"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    cart_id: uuid.UUID = Field(sa_column=Column(
        ForeignKey("cart.id", ondelete="CASCADE", name="fk_cart_item_cart_id"), nullable=False))
    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    quantity: int
    unit_price: Decimal = _money()
    name: str = Field(max_length=400)
    sku: str = Field(max_length=100)
    image_url: str | None = Field(default=None, max_length=1000)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class CartProduct(SQLModel, table=True):
    """What the cart knows of a catalog product or variant: price, stock, activity, snapshot."""

    __tablename__ = "cart_product"
    __table_args__ = _unique_per_product_and_variant("cart_product")

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    product_id: uuid.UUID
    variant_id: uuid.UUID | None = None
    name: str = Field(max_length=200)
    variant_name: str | None = Field(default=None, max_length=200)
    sku: str = Field(max_length=100)
    kind: str = Field(max_length=32)
    price: Decimal = _money()
    currency: str = Field(max_length=3)
    stock_quantity: int
    track_inventory: bool
    is_active: bool
    image_url: str | None = Field(default=None, max_length=1000)
    # The storefronts that sell it (empty: every storefront; `Storefront.offers`).
    storefronts: list[str] = Field(default_factory=list, sa_column=Column(
        JSON().with_variant(JSONB(), "postgresql"), nullable=False, server_default=text("'[]'")))
    # How it is taxed (`contracts.catalog.TaxClass`), a variant as its product.
    tax_class: str = Field(default="standard", sa_column=Column(String(16), nullable=False,
                                                                 server_default="standard"))
    # When the facts were true at catalog: the event's occurred_at, or the time of a direct
    # fetch. An event older than this is stale and is not applied.
    updated_at: datetime = _timestamp()


class CartOwner(OwnerRow, table=True):
    """An owner the cart heard of by a claim, a guest's order or an erasure: who claimed an
    anonymous id, whether the user was erased. `identity.anonymous_claimed`, the guest's
    `order.placed` and `identity.user_deleted` may arrive in any order or at once; each upserts
    and locks the rows it concerns (an anonymous id before its user): an order heard after the
    claim takes its lines out of the user's cart (`CartService.clear_after_order`), and a claim
    heard after the erasure leaves no cart behind."""

    __tablename__ = "cart_owner"
    __table_args__ = owner_indexes("cart_owner")


class ClearedOrder(SQLModel, table=True):
    """An order placed from a cart whose lines already left it: the same order heard again (a
    resent event) takes nothing more out."""

    __tablename__ = "cleared_order"
    # The sweep's range (`created_at < cut-off`).
    __table_args__ = (Index("ix_cleared_order_created_at", "created_at"),)

    order_id: uuid.UUID = Field(primary_key=True)
    created_at: datetime = _timestamp()


class CartPromotionCode(SQLModel, table=True):
    """The discount code an owner applied to their cart on a storefront. Orders owns the
    promotions and says what the code saves (`POST /internal/promotions/quote`); the cart keeps
    only the code, until it is removed or an order placed from the cart takes it."""

    __tablename__ = "cart_promotion_code"

    owner_id: uuid.UUID = Field(primary_key=True)
    storefront: str = Field(max_length=64, primary_key=True)
    code: str = Field(max_length=64)
    applied_at: datetime = _timestamp()


class CartShipping(SQLModel, table=True):
    """Where an owner's cart on a storefront ships, and by which method: one of the owner's
    addresses (identity's), or a country and region to price by before there is one. Orders prices
    the cart for it (`POST /internal/promotions/quote`) and `POST /orders` from the cart ships there."""

    __tablename__ = "cart_shipping"

    owner_id: uuid.UUID = Field(primary_key=True)
    storefront: str = Field(max_length=64, primary_key=True)
    address_id: uuid.UUID | None = None
    country: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    method_id: uuid.UUID | None = None
    chosen_at: datetime = _timestamp()


class PromotionWindow(SQLModel, table=True):
    """What the cart knows of orders' promotions, from `promotion.changed`: whether each is
    automatic (no code), active, and when it runs. It only decides whether a cart without a code
    asks orders for a quote at all: a storefront with no live automatic promotion saves nothing
    without a code, so its carts are shown without the call (`PromotionCodes.state`)."""

    __tablename__ = "cart_promotion_window"
    __table_args__ = (Index("ix_cart_promotion_window_storefront", "storefront"),)

    promotion_id: uuid.UUID = Field(primary_key=True)
    storefront: str = Field(max_length=64)
    automatic: bool
    is_active: bool
    starts_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    ends_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    # The promotion's own `updated_at`: an older change never replaces a newer one.
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
