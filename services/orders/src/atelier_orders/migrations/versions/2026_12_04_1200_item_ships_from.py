"""Where each order line ships from: the stock locations catalog took its units at

Revision ID: orders_0028
Revises: orders_0027
Create Date: 2026-12-04 12:00

Filled from `stock.reserved`'s `sources`; lines of orders reserved before locations have none.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "orders_0028"
down_revision: str | None = "orders_0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("order_item", sa.Column("ships_from", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_item") as batch:
        batch.drop_column("ships_from")
