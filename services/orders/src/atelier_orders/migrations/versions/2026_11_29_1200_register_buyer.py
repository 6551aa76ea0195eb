"""Whether an order's anonymous buyer gets an account once it is paid, decided when it is placed

Revision ID: orders_0020
Revises: orders_0019
Create Date: 2026-11-29 12:00

A storefront's `guest_accounts` policy and the buyer's `create_account` decide it at placement
(docs/storefronts.md#guest-accounts); payments reads it with the order and `order.paid` carries it
to identity. Orders placed before: false (orders cannot read the storefronts' policies here), so a
guest order placed before and paid after registers nobody: its buyer still finds it by signing up
or in with the browser that placed it (the anonymous claim).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "orders_0020"
down_revision: str | None = "orders_0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN with a constant default: a batch would reflect and rebuild customer_order
    # on SQLite, losing its expression index.
    op.add_column("customer_order", sa.Column("register_buyer", sa.Boolean(), nullable=False,
                                              server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("customer_order") as batch:
        batch.drop_column("register_buyer")
