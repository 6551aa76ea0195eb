"""customer_order.storefront: the storefront an order was placed on

Revision ID: orders_0007
Revises: orders_0006
Create Date: 2026-11-25 13:00

Every order placed before storefronts existed belongs to the default storefront. Staff list a
storefront's orders newest first (`ix_customer_order_storefront_created`); identity asks how many
a storefront has before it is deleted or changes currency (the same index).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "orders_0007"
down_revision: str | None = "orders_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customer_order") as batch:
        batch.add_column(sa.Column("storefront", sa.String(64), nullable=False, server_default="default"))
    op.create_index("ix_customer_order_storefront_created", "customer_order", ["storefront", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_customer_order_storefront_created", table_name="customer_order")
    with op.batch_alter_table("customer_order") as batch:
        batch.drop_column("storefront")
