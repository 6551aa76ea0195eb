"""Staff's order picture: orders' read model of an order's payments and refunds

Revision ID: orders_0009
Revises: orders_0008
Create Date: 2026-11-25 17:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "orders_0009"
down_revision: str | None = "orders_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_payment_record",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("refund_id", sa.Uuid(), nullable=True),
        sa.Column("amount", sa.Numeric(12, 2), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("provider", sa.String(32), nullable=True),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_order_payment_record_order", "order_payment_record", ["order_id", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_order_payment_record_order", table_name="order_payment_record")
    op.drop_table("order_payment_record")
