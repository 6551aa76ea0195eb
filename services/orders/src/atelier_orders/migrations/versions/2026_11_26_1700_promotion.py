"""Promotions and discount codes: promotion, promotion_redemption, customer_order.discounts

Revision ID: orders_0012
Revises: orders_0011
Create Date: 2026-11-26 17:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "orders_0012"
down_revision: str | None = "orders_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "promotion",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("storefront", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("code_key", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Numeric(12, 2), nullable=False),
        sa.Column("product_ids", _json(), nullable=False),
        sa.Column("category_ids", _json(), nullable=False),
        sa.Column("min_subtotal", sa.Numeric(12, 2), nullable=True),
        _when("starts_at", True), _when("ends_at", True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("combinable", sa.Boolean(), nullable=False),
        sa.Column("usage_limit", sa.Integer(), nullable=True),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("usage_limit_per_customer", sa.Integer(), nullable=True),
        _when("created_at"), _when("updated_at"),
        sa.UniqueConstraint("storefront", "code_key", name="uq_promotion_storefront_code"),
        sa.CheckConstraint("uses >= 0", name="ck_promotion_uses_positive"),
        sa.CheckConstraint("usage_limit IS NULL OR uses <= usage_limit", name="ck_promotion_uses_within_limit"),
    )
    op.create_index("ix_promotion_storefront_active", "promotion", ["storefront", "is_active"])
    op.create_table(
        "promotion_redemption",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("promotion_id", sa.Uuid(), sa.ForeignKey("promotion.id", ondelete="CASCADE",
                                                           name="fk_promotion_redemption_promotion_id"),
                  nullable=False),
        sa.Column("order_id", sa.Uuid(), sa.ForeignKey("customer_order.id", ondelete="CASCADE",
                                                       name="fk_promotion_redemption_order_id"), nullable=False),
        sa.Column("storefront", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("email_key", sa.String(length=320), nullable=True),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("free_shipping", sa.Boolean(), nullable=False),
        sa.Column("lines", _json(), nullable=False),
        _when("released_at", True), _when("created_at"),
        sa.UniqueConstraint("order_id", "promotion_id", name="uq_promotion_redemption_order"),
    )
    op.create_index("ix_promotion_redemption_owner", "promotion_redemption", ["promotion_id", "owner_id"])
    op.create_index("ix_promotion_redemption_user", "promotion_redemption", ["promotion_id", "user_id"])
    op.create_index("ix_promotion_redemption_email", "promotion_redemption", ["promotion_id", "email_key"])
    op.add_column("customer_order", sa.Column("discounts", _json(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    op.drop_column("customer_order", "discounts")
    op.drop_table("promotion_redemption")
    op.drop_index("ix_promotion_storefront_active", table_name="promotion")
    op.drop_table("promotion")
