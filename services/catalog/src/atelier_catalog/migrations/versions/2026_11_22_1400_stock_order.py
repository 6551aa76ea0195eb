"""stock_order and catalog_owner: the rows that make the order and identity events commute

Revision ID: catalog_0007
Revises: catalog_0006
Create Date: 2026-11-22 14:00

`order.paid` may arrive before `order.placed` (or with it, on another consumer): each handler
upserts the order's row and holds its lock, and a payment heard first is kept in `paid_at` so
the reservation made later is committed at once instead of expiring. `catalog_owner` does the
same for buyers: a purchase heard after `identity.anonymous_claimed` is the user's, and none is
kept after `identity.user_deleted`.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from atelier_common.migrations import create_owner_table

revision: str = "catalog_0007"
down_revision: str | None = "catalog_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stock_order",
        sa.Column("order_id", sa.Uuid(), primary_key=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_by", sa.Uuid(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    create_owner_table("catalog_owner")


def downgrade() -> None:
    op.drop_table("catalog_owner")
    op.drop_table("stock_order")
