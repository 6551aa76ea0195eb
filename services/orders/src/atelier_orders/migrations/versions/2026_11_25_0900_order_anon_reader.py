"""customer_order.anon_reader_id, claimed_at: the guest's read access to the orders its claimed
anonymous identity placed

Revision ID: orders_0006
Revises: orders_0005
Create Date: 2026-11-25 09:00

Orders claimed before this revision have no reader: only their user reads them, as before.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "orders_0006"
down_revision: str | None = "orders_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customer_order") as batch:
        batch.add_column(sa.Column("anon_reader_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_customer_order_anon_reader_id", "customer_order", ["anon_reader_id"])
    op.create_index("ix_customer_order_claimed_at", "customer_order", ["claimed_at"])


def downgrade() -> None:
    op.drop_index("ix_customer_order_claimed_at", table_name="customer_order")
    op.drop_index("ix_customer_order_anon_reader_id", table_name="customer_order")
    with op.batch_alter_table("customer_order") as batch:
        batch.drop_column("claimed_at")
        batch.drop_column("anon_reader_id")
