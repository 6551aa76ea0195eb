"""translation: product, variant and category texts per locale

Revision ID: catalog_0017
Revises: catalog_0016
Create Date: 2026-11-30 13:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "catalog_0017"
down_revision: str | None = "catalog_0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "translation",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("subject", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("locale", sa.String(12), nullable=False),
        sa.Column("product_id", sa.Uuid(), sa.ForeignKey("product.id", ondelete="CASCADE",
                                                          name="fk_translation_product_id"), nullable=True),
        sa.Column("category_id", sa.Uuid(), sa.ForeignKey("category.id", ondelete="CASCADE",
                                                           name="fk_translation_category_id"), nullable=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("subject", "subject_id", "locale", name="uq_translation_subject_locale"),
        sa.CheckConstraint("subject IN ('product', 'variant', 'category')", name="ck_translation_subject"),
    )
    op.create_index("ix_translation_locale_product", "translation", ["locale", "product_id"])


def downgrade() -> None:
    op.drop_table("translation")
