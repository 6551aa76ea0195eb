"""Shipping zones and methods: the order's shipping method, zone and tax rate; the invoice's

Revision ID: orders_0013
Revises: orders_0011
Create Date: 2026-11-26 17:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "orders_0013"
down_revision: str | None = "orders_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customer_order") as batch:
        batch.add_column(sa.Column("shipping_method", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("shipping_method_name", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("shipping_zone", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("tax_rate", sa.Numeric(7, 6), nullable=True))
    with op.batch_alter_table("invoice") as batch:
        batch.add_column(sa.Column("shipping_method_name", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("tax_rate", sa.Numeric(7, 6), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invoice") as batch:
        batch.drop_column("tax_rate")
        batch.drop_column("shipping_method_name")
    with op.batch_alter_table("customer_order") as batch:
        batch.drop_column("tax_rate")
        batch.drop_column("shipping_zone")
        batch.drop_column("shipping_method_name")
        batch.drop_column("shipping_method")
