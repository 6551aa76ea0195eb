"""Invoices and credit notes: invoice_sequence, invoice, credit_note

Revision ID: orders_0011
Revises: orders_0010
Create Date: 2026-11-26 15:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "orders_0011"
down_revision: str | None = "orders_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _money(name: str) -> sa.Column:
    return sa.Column(name, sa.Numeric(12, 2), nullable=False)


def upgrade() -> None:
    op.create_table(
        "invoice_sequence",
        sa.Column("storefront", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("last_number", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("storefront", "kind"),
    )
    op.create_table(
        "invoice",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("order_id", sa.Uuid(), sa.ForeignKey("customer_order.id", ondelete="CASCADE",
                                                       name="fk_invoice_order_id"), nullable=False),
        sa.Column("order_number", sa.String(length=20), nullable=False),
        sa.Column("storefront", sa.String(length=64), nullable=False),
        sa.Column("seller_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("billing_address", _json(), nullable=True),
        sa.Column("shipping_address", _json(), nullable=True),
        sa.Column("lines", _json(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        _money("subtotal"), _money("tax_amount"), _money("shipping_cost"), _money("discount"), _money("total_amount"),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("number", name="uq_invoice_number"),
        sa.UniqueConstraint("order_id", name="uq_invoice_order_id"),
    )
    op.create_table(
        "credit_note",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), sa.ForeignKey("invoice.id", ondelete="CASCADE",
                                                         name="fk_credit_note_invoice_id"), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("storefront", sa.String(length=64), nullable=False),
        sa.Column("refund_id", sa.Uuid(), nullable=True),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        _money("amount"),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("number", name="uq_credit_note_number"),
        sa.UniqueConstraint("refund_id", name="uq_credit_note_refund_id"),
    )
    op.create_index("ix_credit_note_order_id", "credit_note", ["order_id", "issued_at"])


def downgrade() -> None:
    op.drop_index("ix_credit_note_order_id", table_name="credit_note")
    op.drop_table("credit_note")
    op.drop_table("invoice")
    op.drop_table("invoice_sequence")
