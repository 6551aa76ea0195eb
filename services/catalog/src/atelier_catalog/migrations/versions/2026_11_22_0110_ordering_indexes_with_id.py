"""product ordering indexes end with id

Revision ID: catalog_0005
Revises: catalog_0004
Create Date: 2026-11-22 01:10

Pages order by one column and then by id (so equal values never swap between pages); with id
in the index, PostgreSQL walks the index in page order and stops at the page's end, instead of
sorting each run of equal values.
"""
from collections.abc import Sequence

from alembic import op

revision: str = "catalog_0005"
down_revision: str | None = "catalog_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORDERINGS = {"price": "price", "created_at": "created_at", "name": "name", "stock": "stock_quantity",
             "rating": "rating_avg"}


def upgrade() -> None:
    for suffix, column in ORDERINGS.items():
        op.drop_index(f"ix_product_active_{suffix}", table_name="product")
        op.create_index(f"ix_product_active_{suffix}", "product", ["is_active", column, "id"])


def downgrade() -> None:
    for suffix, column in ORDERINGS.items():
        op.drop_index(f"ix_product_active_{suffix}", table_name="product")
        op.create_index(f"ix_product_active_{suffix}", "product", ["is_active", column])
