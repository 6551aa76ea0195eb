"""gift card kind: a product kind `gift_card`, issued by payments once paid

Revision ID: catalog_0018
Revises: catalog_0017
Create Date: 2026-11-30 14:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from atelier_common.db import on_sqlite

revision: str = "catalog_0018"
down_revision: str | None = "catalog_0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = ("physical", "credit_pack", "retry_pack", "subscription_plan", "print_tier")
NEW_KINDS = (*OLD_KINDS, "gift_card")


def _check(kinds: tuple[str, ...]) -> str:
    return "kind IN (" + ", ".join(f"'{kind}'" for kind in kinds) + ")"


# SQLite changes a constraint only by copying the table, built from reflection, which cannot read
# the expression index `ix_product_sku_lower`: dropped before the copy and made again after.
SKU_LOWER = "ix_product_sku_lower"


def _replace_check(kinds: tuple[str, ...]) -> None:
    sqlite = on_sqlite(op.get_bind())
    if sqlite:
        op.drop_index(SKU_LOWER, table_name="product")
    with op.batch_alter_table("product") as batch:
        batch.drop_constraint("ck_product_kind", type_="check")
        batch.create_check_constraint("ck_product_kind", _check(kinds))
    if sqlite:
        op.create_index(SKU_LOWER, "product", [sa.text("lower(sku)")])


def upgrade() -> None:
    _replace_check(NEW_KINDS)


def downgrade() -> None:
    op.execute("DELETE FROM product WHERE kind = 'gift_card'")
    _replace_check(OLD_KINDS)
