"""carts, their lines and the product read-model

Revision ID: cart_0002
Revises: cart_0001
Create Date: 2026-11-21 01:10

`variant_id` is NULL for a product sold without a variant, and unique constraints treat NULLs as
distinct: "one line per (cart, product, variant)" and "one read-model row per (product, variant)"
are therefore each two partial unique indexes (SQLite and PostgreSQL both have them).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cart_0002"
down_revision: str | None = "cart_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NO_VARIANT = sa.text("variant_id IS NULL")
HAS_VARIANT = sa.text("variant_id IS NOT NULL")


def _timestamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _unique_per_product_and_variant(table: str, *leading: str) -> None:
    op.create_index(f"uq_{table}_no_variant", table, [*leading, "product_id"], unique=True,
                    sqlite_where=NO_VARIANT, postgresql_where=NO_VARIANT)
    op.create_index(f"uq_{table}_variant", table, [*leading, "product_id", "variant_id"], unique=True,
                    sqlite_where=HAS_VARIANT, postgresql_where=HAS_VARIANT)


def upgrade() -> None:
    op.create_table(
        "cart",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.UniqueConstraint("owner_id", name="uq_cart_owner_id"),
    )

    op.create_table(
        "cart_item",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("cart_id", sa.Uuid(), sa.ForeignKey("cart.id", ondelete="CASCADE", name="fk_cart_item_cart_id"),
                  nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("variant_id", sa.Uuid(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Numeric(12, 2), nullable=False),
        sa.Column("name", sa.String(400), nullable=False),
        sa.Column("sku", sa.String(100), nullable=False),
        sa.Column("image_url", sa.String(1000), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.CheckConstraint("quantity >= 1 AND quantity <= 99", name="ck_cart_item_quantity"),
    )
    op.create_index("ix_cart_item_cart_id", "cart_item", ["cart_id"])
    _unique_per_product_and_variant("cart_item", "cart_id")

    op.create_table(
        "cart_product",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("variant_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("variant_name", sa.String(200), nullable=True),
        sa.Column("sku", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("price", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("stock_quantity", sa.Integer(), nullable=False),
        sa.Column("track_inventory", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("image_url", sa.String(1000), nullable=True),
        _timestamp("updated_at"),
    )
    _unique_per_product_and_variant("cart_product")


def downgrade() -> None:
    op.drop_table("cart_product")
    op.drop_table("cart_item")
    op.drop_table("cart")
