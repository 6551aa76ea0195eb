"""products get `number`, a stable integer alias

Revision ID: catalog_0010
Revises: catalog_0009
Create Date: 2026-11-25 14:00

A client that needs integer ids (S1 Marbelle's frontend does `Number(id)`) gets `number`: unique,
given at creation as one past the highest, and taken by every `/products/{ref}` route beside the
UUID and the slug. Existing products are numbered in creation order (ties by id).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from atelier_common.db import on_sqlite

revision: str = "catalog_0010"
down_revision: str | None = "catalog_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _sqlite() -> bool:
    return on_sqlite(op.get_bind())


# SQLite adds a unique constraint by copying the table, and the copy is built from reflection, which
# cannot read an expression index: `ix_product_sku_lower` (lower(sku)) was silently lost, with a
# SAWarning on every `atelier migrate`. On SQLite it is dropped before the copy and made again after.
SKU_LOWER = "ix_product_sku_lower"


def upgrade() -> None:
    with op.batch_alter_table("product") as batch:
        batch.add_column(sa.Column("number", sa.BigInteger(), nullable=True))
    # UPDATE … FROM: PostgreSQL, and SQLite since 3.33.
    op.execute("""
        UPDATE product SET number = numbered.n
        FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, id) AS n FROM product) AS numbered
        WHERE product.id = numbered.id
    """)
    if _sqlite():
        op.drop_index(SKU_LOWER, table_name="product")
    with op.batch_alter_table("product") as batch:
        batch.create_unique_constraint("uq_product_number", ["number"])
    if _sqlite():
        op.create_index(SKU_LOWER, "product", [sa.text("lower(sku)")])


def downgrade() -> None:
    if _sqlite():
        op.drop_index(SKU_LOWER, table_name="product")
    with op.batch_alter_table("product") as batch:
        batch.drop_constraint("uq_product_number", type_="unique")
        batch.drop_column("number")
    if _sqlite():
        op.create_index(SKU_LOWER, "product", [sa.text("lower(sku)")])
