"""customer_group_copy: catalog's copy of identity's customer groups, the codes price lists may name

Revision ID: catalog_0015
Revises: catalog_0014
Create Date: 2026-11-30 10:00

Filled by `customer_group.changed` / `.deleted` (identity's migration announces the `business`
groups it makes for the customers who had business prices). Each group a stored price list names
is copied at once (revision 0, so identity's own record replaces it): no list stored before
groups were data is ever refused on an edit.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "catalog_0015"
down_revision: str | None = "catalog_0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_group_copy",
        sa.Column("storefront", sa.String(64), primary_key=True),
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.execute("INSERT INTO customer_group_copy (storefront, code, name, revision, deleted) "
               "SELECT DISTINCT storefront, customer_group, customer_group, 0, false FROM price_list")


def downgrade() -> None:
    op.drop_table("customer_group_copy")
