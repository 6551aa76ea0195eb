"""Returns: order_return, order_return_line

Revision ID: orders_0014
Revises: orders_0011
Create Date: 2026-11-27 10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "orders_0014"
down_revision: str | None = "orders_0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_return",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("order_id", sa.Uuid(), sa.ForeignKey("customer_order.id", ondelete="CASCADE",
                                                       name="fk_order_return_order_id"), nullable=False),
        sa.Column("order_number", sa.String(length=20), nullable=False),
        sa.Column("storefront", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("opened_by", sa.String(length=20), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=True),
        sa.Column("refund_shipping", sa.Boolean(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=True),
        sa.Column("refund_id", sa.Uuid(), nullable=True),
        sa.Column("refunded_amount", sa.Numeric(12, 2), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("number", name="uq_order_return_number"),
        sa.CheckConstraint("status IN ('requested', 'approved', 'received', 'refunded', 'rejected')",
                           name="ck_order_return_status"),
    )
    op.create_index("ix_order_return_order_id", "order_return", ["order_id", "created_at"])
    op.create_index("ix_order_return_status_created", "order_return", ["status", "created_at"])
    op.create_index("ix_order_return_storefront_created", "order_return", ["storefront", "created_at"])
    op.create_table(
        "order_return_line",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("return_id", sa.Uuid(), sa.ForeignKey("order_return.id", ondelete="CASCADE",
                                                        name="fk_order_return_line_return_id"), nullable=False),
        sa.Column("item_id", sa.Uuid(), sa.ForeignKey("order_item.id", ondelete="CASCADE",
                                                      name="fk_order_return_line_item_id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("variant_id", sa.Uuid(), nullable=True),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("restock", sa.Boolean(), nullable=True),
        sa.Column("amount", sa.Numeric(12, 2), nullable=True),
        sa.CheckConstraint("quantity > 0", name="ck_order_return_line_quantity_positive"),
        sa.UniqueConstraint("return_id", "item_id", name="uq_order_return_line_item"),
    )
    op.create_index("ix_order_return_line_item_id", "order_return_line", ["item_id"])


def downgrade() -> None:
    op.drop_index("ix_order_return_line_item_id", table_name="order_return_line")
    op.drop_table("order_return_line")
    op.drop_index("ix_order_return_storefront_created", table_name="order_return")
    op.drop_index("ix_order_return_status_created", table_name="order_return")
    op.drop_index("ix_order_return_order_id", table_name="order_return")
    op.drop_table("order_return")
