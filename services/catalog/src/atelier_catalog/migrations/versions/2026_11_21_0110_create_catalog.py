"""categories, products, variants, images and stock movements

Revision ID: catalog_0002
Revises: catalog_0001
Create Date: 2026-11-21 01:10

On PostgreSQL `product` also gets `search_vector` (a generated tsvector: name weighted A,
description B) with a GIN index, and, where the pg_trgm extension can be installed, a trigram
index for substring search on `sku`. SQLite searches with LIKE instead.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from atelier_common.db import on_postgres

revision: str = "catalog_0002"
down_revision: str | None = "catalog_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("physical", "credit_pack", "retry_pack", "subscription_plan", "print_tier")
# Must match the configuration the repository queries with (repository.SEARCH_CONFIG).
SEARCH_VECTOR = ("setweight(to_tsvector('english', coalesce(name, '')), 'A') || "
                 "setweight(to_tsvector('english', coalesce(description, '')), 'B')")


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _timestamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "category",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("parent_id", sa.Uuid(), sa.ForeignKey("category.id", name="fk_category_parent_id"), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("slug", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        _timestamp("created_at"),
        sa.UniqueConstraint("slug", name="uq_category_slug"),
    )
    op.create_index("ix_category_parent_id", "category", ["parent_id"])
    op.create_index("ix_category_is_active_name", "category", ["is_active", "name"])

    op.create_table(
        "product",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("slug", sa.String(200), nullable=False),
        sa.Column("sku", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("price", sa.Numeric(12, 2), nullable=False),
        sa.Column("compare_price", sa.Numeric(12, 2), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("stock_quantity", sa.Integer(), nullable=False),
        sa.Column("track_inventory", sa.Boolean(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("attributes", _json(), nullable=False),
        sa.Column("category_id", sa.Uuid(),
                  sa.ForeignKey("category.id", ondelete="SET NULL", name="fk_product_category_id"), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("is_featured", sa.Boolean(), nullable=False),
        sa.Column("rating_avg", sa.Numeric(3, 2), nullable=False, server_default="0"),
        sa.Column("review_count", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.UniqueConstraint("slug", name="uq_product_slug"),
        sa.UniqueConstraint("sku", name="uq_product_sku"),
        sa.CheckConstraint("kind IN (" + ", ".join(f"'{k}'" for k in KINDS) + ")", name="ck_product_kind"),
        sa.CheckConstraint("stock_quantity >= 0", name="ck_product_stock_non_negative"),
    )
    for name, columns in (
        ("ix_product_active_category", ["is_active", "category_id"]),
        ("ix_product_active_price", ["is_active", "price"]),
        ("ix_product_active_created_at", ["is_active", "created_at"]),
        ("ix_product_active_name", ["is_active", "name"]),
        ("ix_product_active_stock", ["is_active", "stock_quantity"]),
        ("ix_product_active_rating", ["is_active", "rating_avg"]),
        ("ix_product_active_kind", ["is_active", "kind"]),
        ("ix_product_active_featured", ["is_active", "is_featured"]),
        ("ix_product_category_id", ["category_id"]),
    ):
        op.create_index(name, "product", columns)

    op.create_table(
        "product_variant",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("product_id", sa.Uuid(),
                  sa.ForeignKey("product.id", ondelete="CASCADE", name="fk_product_variant_product_id"),
                  nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("sku", sa.String(100), nullable=False),
        sa.Column("price", sa.Numeric(12, 2), nullable=True),
        sa.Column("stock_quantity", sa.Integer(), nullable=False),
        sa.Column("attributes", _json(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.UniqueConstraint("sku", name="uq_product_variant_sku"),
        sa.CheckConstraint("stock_quantity >= 0", name="ck_product_variant_stock_non_negative"),
    )
    op.create_index("ix_product_variant_product_id", "product_variant", ["product_id"])

    op.create_table(
        "product_image",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("product_id", sa.Uuid(),
                  sa.ForeignKey("product.id", ondelete="CASCADE", name="fk_product_image_product_id"),
                  nullable=False),
        sa.Column("url", sa.String(1000), nullable=False),
        sa.Column("alt_text", sa.String(300), nullable=False),
        sa.Column("display_order", sa.Integer(), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        _timestamp("created_at"),
    )
    op.create_index("ix_product_image_product_order", "product_image", ["product_id", "display_order"])

    op.create_table(
        "stock_movement",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("product_id", sa.Uuid(),
                  sa.ForeignKey("product.id", ondelete="CASCADE", name="fk_stock_movement_product_id"),
                  nullable=False),
        sa.Column("variant_id", sa.Uuid(),
                  sa.ForeignKey("product_variant.id", ondelete="CASCADE", name="fk_stock_movement_variant_id"),
                  nullable=True),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("quantity_after", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        _timestamp("created_at"),
    )
    op.create_index("ix_stock_movement_product_created", "stock_movement", ["product_id", "created_at"])

    if on_postgres(op.get_bind()):
        _create_postgres_search()


def _create_postgres_search() -> None:
    op.execute(f"ALTER TABLE product ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({SEARCH_VECTOR}) STORED")
    op.execute("CREATE INDEX ix_product_search_vector ON product USING gin (search_vector)")
    # pg_trgm is a trusted extension (the database owner may install it) but not every server
    # ships it; without it, `sku ILIKE` still works, just without an index.
    bind = op.get_bind()
    available = bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).scalar()
    if available:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_product_sku_trgm ON product USING gin (sku gin_trgm_ops)")


def downgrade() -> None:
    op.drop_table("stock_movement")
    op.drop_table("product_image")
    op.drop_table("product_variant")
    op.drop_table("product")  # its indexes, the search column and its GIN index go with it
    op.drop_table("category")
