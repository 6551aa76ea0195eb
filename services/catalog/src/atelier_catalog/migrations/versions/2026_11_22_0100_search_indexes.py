"""an index for exact SKU search (case-insensitive)

Revision ID: catalog_0004
Revises: catalog_0003
Create Date: 2026-11-22 01:00

Search ranks the product whose SKU is the search text first, ignoring case: `lower(sku) = …`
needs its own expression index (the unique index on `sku` cannot serve it).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "catalog_0004"
down_revision: str | None = "catalog_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_product_sku_lower", "product", [sa.text("lower(sku)")])


def downgrade() -> None:
    op.drop_index("ix_product_sku_lower", table_name="product")
