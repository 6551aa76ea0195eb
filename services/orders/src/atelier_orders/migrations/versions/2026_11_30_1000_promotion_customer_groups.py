"""Promotions for customer groups: promotion.customer_groups, and orders' copy of the groups

Revision ID: orders_0021
Revises: orders_0020
Create Date: 2026-11-30 10:00

`promotion.customer_groups`: the codes of the groups whose customers may get it; every promotion
stored before names none, so it keeps applying to everybody. `orders_customer_group` is filled by
identity's `customer_group.changed` / `.deleted`: the codes a promotion may name. No promotion names
a group yet, so nothing is copied here.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "orders_0021"
down_revision: str | None = "orders_0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN with a constant default: no table rebuild on SQLite.
    op.add_column("promotion", sa.Column("customer_groups", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                                         nullable=False, server_default=sa.text("'[]'")))
    op.create_table(
        "orders_customer_group",
        sa.Column("storefront", sa.String(64), primary_key=True),
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("orders_customer_group")
    with op.batch_alter_table("promotion") as batch:
        batch.drop_column("customer_groups")
