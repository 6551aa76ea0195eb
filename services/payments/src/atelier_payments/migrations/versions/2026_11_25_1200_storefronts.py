"""Storefronts: the storefront of every payment, refund, checkout page, ledger entry,
subscription and invoice

Every existing row belongs to the default storefront.

Revision ID: payments_0009
Revises: payments_0008
Create Date: 2026-11-25 12:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "payments_0009"
down_revision: str | None = "payments_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("payment", "refund", "checkout_session", "ledger_entry", "billing_subscription", "billing_invoice")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("storefront", sa.String(64), nullable=False, server_default="default"))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("storefront")
