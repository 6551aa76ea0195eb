"""Promotions: cart_promotion_window, which storefronts have live automatic promotions

Revision ID: cart_0009
Revises: cart_0008
Create Date: 2026-11-27 09:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cart_0009"
down_revision: str | None = "cart_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cart_promotion_window",
        sa.Column("promotion_id", sa.Uuid(), nullable=False),
        sa.Column("storefront", sa.String(length=64), nullable=False),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("promotion_id"),
    )
    op.create_index("ix_cart_promotion_window_storefront", "cart_promotion_window", ["storefront"])


def downgrade() -> None:
    op.drop_index("ix_cart_promotion_window_storefront", table_name="cart_promotion_window")
    op.drop_table("cart_promotion_window")
