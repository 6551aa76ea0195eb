"""price lists: a customer group's prices per storefront and currency

Revision ID: catalog_0013
Revises: catalog_0012
Create Date: 2026-11-26 17:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "catalog_0013"
down_revision: str | None = "catalog_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "price_list",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("storefront", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("customer_group", sa.String(32), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_price_list_scope", "price_list", ["storefront", "customer_group", "currency", "is_active"])
    op.create_table(
        "price_list_price",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("price_list_id", sa.Uuid(), sa.ForeignKey("price_list.id", ondelete="CASCADE",
                                                             name="fk_price_list_price_price_list_id"), nullable=False),
        sa.Column("product_id", sa.Uuid(), sa.ForeignKey("product.id", ondelete="CASCADE",
                                                          name="fk_price_list_price_product_id"), nullable=False),
        sa.Column("variant_id", sa.Uuid(), sa.ForeignKey("product_variant.id", ondelete="CASCADE",
                                                          name="fk_price_list_price_variant_id"), nullable=True),
        sa.Column("price", sa.Numeric(12, 2), nullable=False),
        sa.UniqueConstraint("price_list_id", "product_id", "variant_id", name="uq_price_list_price_variant"),
        sa.CheckConstraint("price >= 0", name="ck_price_list_price_non_negative"),
    )
    op.create_index("uq_price_list_price_product", "price_list_price", ["price_list_id", "product_id"], unique=True,
                    postgresql_where=sa.text("variant_id IS NULL"), sqlite_where=sa.text("variant_id IS NULL"))
    op.create_index("ix_price_list_price_product_id", "price_list_price", ["product_id"])


def downgrade() -> None:
    op.drop_table("price_list_price")
    op.drop_table("price_list")
