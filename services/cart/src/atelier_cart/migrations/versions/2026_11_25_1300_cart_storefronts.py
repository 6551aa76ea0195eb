"""Storefronts: a cart per owner and storefront, and the storefronts that sell a product

Every existing cart belongs to the default storefront; the owner's one cart becomes one per
(owner, storefront). The product read-model keeps the storefronts that sell each product (empty:
every storefront) until the next `catalog.product_changed` tells it otherwise.

Revision ID: cart_0006
Revises: cart_0005
Create Date: 2026-11-25 13:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "cart_0006"
down_revision: str | None = "cart_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cart") as batch:
        batch.add_column(sa.Column("storefront", sa.String(64), nullable=False, server_default="default"))
        batch.drop_constraint("uq_cart_owner_id", type_="unique")
        batch.create_unique_constraint("uq_cart_owner_id_storefront", ["owner_id", "storefront"])
    with op.batch_alter_table("cart_product") as batch:
        batch.add_column(sa.Column("storefronts", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                                   nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table("cart_product") as batch:
        batch.drop_column("storefronts")
    # Back to one cart per owner: the default storefront's carts stay, the others go (with their lines).
    op.execute("DELETE FROM cart_item WHERE cart_id IN (SELECT id FROM cart WHERE storefront <> 'default')")
    op.execute("DELETE FROM cart WHERE storefront <> 'default'")
    with op.batch_alter_table("cart") as batch:
        batch.drop_constraint("uq_cart_owner_id_storefront", type_="unique")
        batch.create_unique_constraint("uq_cart_owner_id", ["owner_id"])
        batch.drop_column("storefront")
