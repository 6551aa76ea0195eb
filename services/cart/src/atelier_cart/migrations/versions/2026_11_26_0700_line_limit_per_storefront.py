"""Storefront policies: a cart line's cap is its storefront's (`domain.line_limit`)

The column's CHECK no longer says 99: a storefront may allow more (or only its stock), so it keeps
the platform's sanity bound (`domain.UNCAPPED_LINE_QUANTITY`) and the service checks the limit.

Revision ID: cart_0007
Revises: cart_0006
Create Date: 2026-11-26 07:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = "cart_0007"
down_revision: str | None = "cart_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cart_item") as batch:
        batch.drop_constraint("ck_cart_item_quantity", type_="check")
        batch.create_check_constraint("ck_cart_item_quantity", "quantity >= 1 AND quantity <= 1000000")


def downgrade() -> None:
    # Lines above the old cap keep the most the old rule allowed.
    op.execute("UPDATE cart_item SET quantity = 99 WHERE quantity > 99")
    with op.batch_alter_table("cart_item") as batch:
        batch.drop_constraint("ck_cart_item_quantity", type_="check")
        batch.create_check_constraint("ck_cart_item_quantity", "quantity >= 1 AND quantity <= 99")
