"""Staff's order search by email: an index on the buyer's email, lower-cased

Revision ID: orders_0008
Revises: orders_0007
Create Date: 2026-11-25 15:20
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "orders_0008"
down_revision: str | None = "orders_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_customer_order_email_lower", "customer_order", [sa.text("lower(email)")])


def downgrade() -> None:
    op.drop_index("ix_customer_order_email_lower", table_name="customer_order")
