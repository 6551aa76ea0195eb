"""stock reservations, purchases, reviews and wishlists

Revision ID: catalog_0003
Revises: catalog_0002
Create Date: 2026-11-21 02:30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "catalog_0003"
down_revision: str | None = "catalog_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _product_fk(table: str) -> sa.Column:
    return sa.Column("product_id", sa.Uuid(),
                     sa.ForeignKey("product.id", ondelete="CASCADE", name=f"fk_{table}_product_id"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "stock_reservation",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        _product_fk("stock_reservation"),
        sa.Column("variant_id", sa.Uuid(),
                  sa.ForeignKey("product_variant.id", ondelete="CASCADE", name="fk_stock_reservation_variant_id"),
                  nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _timestamp("expires_at"),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.UniqueConstraint("order_id", "line_no", name="uq_stock_reservation_order_line"),
        sa.CheckConstraint("quantity > 0", name="ck_stock_reservation_quantity_positive"),
        sa.CheckConstraint("status IN ('reserved', 'committed', 'released', 'expired')",
                           name="ck_stock_reservation_status"),
    )
    op.create_index("ix_stock_reservation_status_expires", "stock_reservation", ["status", "expires_at"])

    op.create_table(
        "purchase",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        _product_fk("purchase"),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        _timestamp("created_at"),
        sa.UniqueConstraint("owner_id", "product_id", name="uq_purchase_owner_product"),
    )

    op.create_table(
        "review",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _product_fk("review"),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("author_name", sa.String(200), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False, server_default=""),
        sa.Column("is_verified_purchase", sa.Boolean(), nullable=False),
        _timestamp("created_at"),
        sa.UniqueConstraint("product_id", "user_id", name="uq_review_product_user"),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="ck_review_rating_range"),
    )
    op.create_index("ix_review_product_created", "review", ["product_id", "created_at"])
    op.create_index("ix_review_user_id", "review", ["user_id"])

    op.create_table(
        "wishlist_item",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        _product_fk("wishlist_item"),
        _timestamp("created_at"),
        sa.UniqueConstraint("user_id", "product_id", name="uq_wishlist_item_user_product"),
    )
    op.create_index("ix_wishlist_item_user_created", "wishlist_item", ["user_id", "created_at"])


def downgrade() -> None:
    op.drop_table("wishlist_item")
    op.drop_table("review")
    op.drop_table("purchase")
    op.drop_table("stock_reservation")
