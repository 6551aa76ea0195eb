"""Promotions: cart_promotion_code, the code an owner applied to a storefront's cart

Revision ID: cart_0008
Revises: cart_0007
Create Date: 2026-11-26 17:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cart_0008"
down_revision: str | None = "cart_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cart_promotion_code",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("storefront", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("owner_id", "storefront"),
    )


def downgrade() -> None:
    op.drop_table("cart_promotion_code")
