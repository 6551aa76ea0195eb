"""An order's customer group: the one its lines were priced at (catalog's price list for it)

Revision ID: orders_0032
Revises: orders_0031
Create Date: 2026-12-05 13:00

Orders placed before keep none (NULL): an edit prices a line it adds at list price, as before.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "orders_0032"
down_revision: str | None = "orders_0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("customer_order", sa.Column("customer_group", sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.drop_column("customer_order", "customer_group")
