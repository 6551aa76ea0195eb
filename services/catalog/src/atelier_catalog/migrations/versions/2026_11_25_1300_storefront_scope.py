"""products and categories belong to storefronts

Revision ID: catalog_0009
Revises: catalog_0008
Create Date: 2026-11-25 13:00

`storefronts_key` holds the storefronts a product or category belongs to as ",a,b,"; empty (every
row written before storefronts existed) means every storefront. A public read keeps the rows
whose key is empty or names its storefront (`key = '' OR key LIKE '%,slug,%'`): a filter on the
row, cheap on SQLite and PostgreSQL alike, that leaves the ordering indexes' walks as they were.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "catalog_0009"
down_revision: str | None = "catalog_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("product", "category")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("storefronts_key", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("storefronts_key")
