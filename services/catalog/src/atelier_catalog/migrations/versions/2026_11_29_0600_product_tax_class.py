"""product.tax_class: how a product is taxed (standard, reduced, zero); every product standard

Revision ID: catalog_0014
Revises: catalog_0013
Create Date: 2026-11-29 06:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "catalog_0014"
down_revision: str | None = "catalog_0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("product", sa.Column("tax_class", sa.String(16), nullable=False, server_default="standard"))


def downgrade() -> None:
    op.drop_column("product", "tax_class")
