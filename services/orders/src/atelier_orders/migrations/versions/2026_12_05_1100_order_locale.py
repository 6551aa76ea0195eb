"""An order's language: the buyer's when it was placed (its lines' names are in it)

Revision ID: orders_0030
Revises: orders_0029
Create Date: 2026-12-05 11:00

Orders placed before are in their storefront's default language (NULL).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "orders_0030"
down_revision: str | None = "orders_0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("customer_order", sa.Column("locale", sa.String(length=12), nullable=True))


def downgrade() -> None:
    op.drop_column("customer_order", "locale")
