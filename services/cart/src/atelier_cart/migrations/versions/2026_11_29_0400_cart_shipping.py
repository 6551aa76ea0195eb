"""cart_shipping: where an owner's cart on a storefront ships, and by which method

Revision ID: cart_0010
Revises: cart_0009
Create Date: 2026-11-29 04:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cart_0010"
down_revision: str | None = "cart_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cart_shipping",
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("storefront", sa.String(length=64), nullable=False),
        sa.Column("address_id", sa.Uuid(), nullable=True),
        sa.Column("country", sa.String(length=100), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("method_id", sa.Uuid(), nullable=True),
        sa.Column("chosen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("owner_id", "storefront"),
    )


def downgrade() -> None:
    op.drop_table("cart_shipping")
