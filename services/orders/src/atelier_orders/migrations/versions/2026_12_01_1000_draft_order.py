"""Draft orders: staff take an order for a customer (draft_order, draft_order_line)

Revision ID: orders_0023
Revises: orders_0022
Create Date: 2026-12-01 10:00

New tables only: nothing existing changes.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "orders_0023"
down_revision: str | None = "orders_0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "draft_order",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("storefront", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("customer_group", sa.String(length=32), nullable=True),
        sa.Column("buyer_tax_number", sa.String(length=40), nullable=True),
        sa.Column("promotion_code", sa.String(length=64), nullable=True),
        sa.Column("manual_discount", sa.Numeric(12, 2), nullable=False),
        sa.Column("manual_discount_reason", sa.String(length=500), nullable=True),
        sa.Column("shipping_address", _json(), nullable=True),
        sa.Column("shipping_method", sa.String(length=64), nullable=True),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("order_number", sa.String(length=20), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        _when("sent_at", True), _when("payment_link_expires_at", True), _when("created_at"), _when("updated_at"),
        sa.CheckConstraint("status IN ('open', 'sent')", name="ck_draft_order_status"),
        sa.CheckConstraint("manual_discount >= 0", name="ck_draft_order_manual_discount"),
    )
    op.create_index("ix_draft_order_created", "draft_order", ["created_at", "id"])
    op.create_index("ix_draft_order_storefront_status", "draft_order", ["storefront", "status"])
    op.create_table(
        "draft_order_line",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("draft_id", sa.Uuid(), sa.ForeignKey("draft_order.id", ondelete="CASCADE",
                                                       name="fk_draft_order_line_draft_id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("variant_id", sa.Uuid(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Numeric(12, 2), nullable=True),
        sa.Column("price_reason", sa.String(length=500), nullable=True),
        _when("created_at"),
        sa.CheckConstraint("quantity > 0", name="ck_draft_order_line_quantity"),
        sa.CheckConstraint("unit_price IS NULL OR unit_price >= 0", name="ck_draft_order_line_price"),
    )
    op.create_index("ix_draft_order_line_draft", "draft_order_line", ["draft_id", "position"])


def downgrade() -> None:
    op.drop_table("draft_order_line")
    op.drop_table("draft_order")
