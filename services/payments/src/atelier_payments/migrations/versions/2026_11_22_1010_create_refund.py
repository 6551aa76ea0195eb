"""refunds: each (partial or whole) refund of a payment, and its provider status

Revision ID: payments_0004
Revises: payments_0003
Create Date: 2026-11-22 10:10
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "payments_0004"
down_revision: str | None = "payments_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = "'pending', 'succeeded', 'failed'"


def upgrade() -> None:
    op.create_table(
        "refund",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("provider_refund_id", sa.String(255), nullable=True),
        sa.Column("failure_reason", sa.String(500), nullable=True),
        sa.Column("staff_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"status IN ({STATUSES})", name="ck_refund_status"),
        sa.CheckConstraint("amount > 0", name="ck_refund_amount"),
    )
    op.create_index("ix_refund_payment_id", "refund", ["payment_id"])
    op.create_index("ix_refund_order_id", "refund", ["order_id"])
    op.create_index("uq_refund_provider_id", "refund", ["provider", "provider_refund_id"], unique=True)


def downgrade() -> None:
    op.drop_table("refund")
