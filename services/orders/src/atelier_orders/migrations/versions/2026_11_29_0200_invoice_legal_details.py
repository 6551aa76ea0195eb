"""The seller's legal details on invoices, and a business buyer's tax number on orders and invoices

Revision ID: orders_0018
Revises: orders_0017
Create Date: 2026-11-29 02:00

An invoice snapshots the storefront's legal details when it is issued (docs/storefronts.md#legal-details):
the legal name goes in `seller_name` as the storefront's name did, the address lines, tax number,
registration number and email in columns of their own. An order keeps the tax number its buyer
gave (`POST /orders`' `buyer_tax_number`) and its invoice copies it. All nullable, no backfill:
documents issued before say what they said, and orders placed before had no tax number.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB
from atelier_orders.invoices import rules as invoice_rules

revision: str = "orders_0018"
down_revision: str | None = "orders_0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs: a batch would reflect and rebuild customer_order on SQLite, losing its
    # expression index.
    op.add_column("customer_order", sa.Column("buyer_tax_number", sa.String(length=40), nullable=True))
    op.add_column("invoice", sa.Column("seller_address", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=True))
    op.add_column("invoice", sa.Column("seller_tax_number", sa.String(length=40), nullable=True))
    op.add_column("invoice", sa.Column("seller_registration_number", sa.String(length=100), nullable=True))
    op.add_column("invoice", sa.Column("seller_email", sa.String(length=320), nullable=True))
    op.add_column("invoice", sa.Column("buyer_tax_number", sa.String(length=40), nullable=True))
    # The tax per rate (`invoice_rules.tax_breakdown`); invoices issued before keep their one tax line.
    op.add_column("invoice", sa.Column("taxes", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False,
                                       server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table("invoice") as batch:
        for column in ("taxes", "buyer_tax_number", "seller_email", "seller_registration_number", "seller_tax_number",
                       "seller_address"):
            batch.drop_column(column)
    with op.batch_alter_table("customer_order") as batch:
        batch.drop_column("buyer_tax_number")
