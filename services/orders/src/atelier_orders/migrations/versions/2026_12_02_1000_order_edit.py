"""Order edits: staff change an order that has not shipped (order_edit)

Revision ID: orders_0024
Revises: orders_0023
Create Date: 2026-12-02 10:00

A new table only: nothing existing changes.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "orders_0024"
down_revision: str | None = "orders_0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_edit",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("order_id", sa.Uuid(), sa.ForeignKey("customer_order.id", ondelete="CASCADE",
                                                       name="fk_order_edit_order_id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("changes", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("old_total", sa.Numeric(12, 2), nullable=False),
        sa.Column("new_total", sa.Numeric(12, 2), nullable=False),
        sa.Column("refund_amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("refund_id", sa.Uuid(), nullable=True),
        sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("order_id", "version", name="uq_order_edit_order_version"),
        sa.CheckConstraint("version > 0", name="ck_order_edit_version"),
        sa.CheckConstraint("refund_amount >= 0", name="ck_order_edit_refund"),
    )


def downgrade() -> None:
    op.drop_table("order_edit")
