"""The order's shipping method id: the id `GET /shipping-methods` listed, kept as placed

Revision ID: orders_0015
Revises: orders_0014
Create Date: 2026-11-27 12:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "orders_0015"
down_revision: str | None = "orders_0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no backfill: an order placed before has its id derived from its codes when read.
    with op.batch_alter_table("customer_order") as batch:
        batch.add_column(sa.Column("shipping_method_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customer_order") as batch:
        batch.drop_column("shipping_method_id")
