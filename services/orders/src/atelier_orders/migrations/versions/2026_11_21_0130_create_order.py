"""orders, their items and status history

Revision ID: orders_0002
Revises: orders_0001
Create Date: 2026-11-21 01:30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "orders_0002"
down_revision: str | None = "orders_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("pending", "awaiting_payment", "paid", "processing", "shipped", "delivered", "returned", "completed",
            "cancelled", "rejected", "refunded")


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _money(name: str) -> sa.Column:
    return sa.Column(name, sa.Numeric(12, 2), nullable=False)


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "customer_order",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("order_number", sa.String(20), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        _money("subtotal"),
        _money("tax_amount"),
        _money("shipping_cost"),
        _money("discount"),
        _money("total_amount"),
        sa.Column("shipping_address", _json(), nullable=True),
        sa.Column("billing_address", _json(), nullable=True),
        sa.Column("tracking_number", sa.String(100), nullable=True),
        sa.Column("from_cart", sa.Boolean(), nullable=False),
        _timestamp("paid_at", nullable=True),
        _timestamp("shipped_at", nullable=True),
        _timestamp("delivered_at", nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.UniqueConstraint("order_number", name="uq_customer_order_number"),
        sa.CheckConstraint("status IN (" + ", ".join(f"'{s}'" for s in STATUSES) + ")",
                           name="ck_customer_order_status"),
    )
    op.create_index("ix_customer_order_owner_created", "customer_order", ["owner_id", "created_at"])
    op.create_index("ix_customer_order_owner_total", "customer_order", ["owner_id", "total_amount"])
    op.create_index("ix_customer_order_user_id", "customer_order", ["user_id"])
    op.create_index("ix_customer_order_status_created", "customer_order", ["status", "created_at"])

    op.create_table(
        "order_item",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("order_id", sa.Uuid(),
                  sa.ForeignKey("customer_order.id", ondelete="CASCADE", name="fk_order_item_order_id"),
                  nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("variant_id", sa.Uuid(), nullable=True),
        sa.Column("sku", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("variant_name", sa.String(200), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        _money("unit_price"),
        _money("line_total"),
        sa.Column("attributes", _json(), nullable=False),
        sa.Column("book_id", sa.Uuid(), nullable=True),
        sa.Column("content_type", sa.String(20), nullable=True),
        sa.Column("content_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint("quantity > 0", name="ck_order_item_quantity_positive"),
    )
    op.create_index("ix_order_item_order_id", "order_item", ["order_id", "position"])
    op.create_index("ix_order_item_book_id", "order_item", ["book_id"])

    op.create_table(
        "order_status_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("order_id", sa.Uuid(),
                  sa.ForeignKey("customer_order.id", ondelete="CASCADE", name="fk_order_status_history_order_id"),
                  nullable=False),
        sa.Column("from_status", sa.String(32), nullable=True),
        sa.Column("to_status", sa.String(32), nullable=False),
        sa.Column("note", sa.String(1000), nullable=False),
        sa.Column("actor", sa.String(20), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        _timestamp("created_at"),
    )
    op.create_index("ix_order_status_history_order_id", "order_status_history", ["order_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_order_status_history_order_id", table_name="order_status_history")
    op.drop_table("order_status_history")
    op.drop_index("ix_order_item_book_id", table_name="order_item")
    op.drop_index("ix_order_item_order_id", table_name="order_item")
    op.drop_table("order_item")
    for name in ("ix_customer_order_status_created", "ix_customer_order_user_id", "ix_customer_order_owner_total",
                 "ix_customer_order_owner_created"):
        op.drop_index(name, table_name="customer_order")
    op.drop_table("customer_order")
