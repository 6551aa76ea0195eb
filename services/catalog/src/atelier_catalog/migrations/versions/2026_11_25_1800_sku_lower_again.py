"""ix_product_sku_lower again on SQLite installs that ran catalog_0010 before its fix

catalog_0010's table copy (SQLite only) lost the expression index; the migration now keeps it,
but an embedded install that already ran the first version has no index on lower(sku), so SKU
lookups scan the table. PostgreSQL never lost it.

Revision ID: catalog_0012
Revises: catalog_0011
Create Date: 2026-11-25 18:00
"""
from collections.abc import Sequence

from alembic import op
from atelier_common.db import on_sqlite

revision: str = "catalog_0012"
down_revision: str | None = "catalog_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if on_sqlite(op.get_bind()):
        op.execute("CREATE INDEX IF NOT EXISTS ix_product_sku_lower ON product (lower(sku))")


def downgrade() -> None:
    pass  # the index belongs to catalog_0007's search indexes
