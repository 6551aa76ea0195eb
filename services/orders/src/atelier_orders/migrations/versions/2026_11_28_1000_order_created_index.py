"""Staff's order list by time: an index on (created_at, id)

Revision ID: orders_0016
Revises: orders_0015
Create Date: 2026-11-28 10:00

`GET /api/v1/staff/orders` lists every order newest first (created_at DESC, id DESC), filtered by
a day or not at all: without this index each page sorted the whole table (or every order of the
day). The btree walked backwards serves that order and stops after the page.
"""
from collections.abc import Sequence

from alembic import op

revision: str = "orders_0016"
down_revision: str | None = "orders_0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_customer_order_created", "customer_order", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_customer_order_created", table_name="customer_order")
