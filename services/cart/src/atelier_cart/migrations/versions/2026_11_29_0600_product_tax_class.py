"""Tax classes: the product read-model keeps each product's `tax_class` (standard until the next
`catalog.product_changed` says otherwise), so the cart taxes a line at its class's rate

Revision ID: cart_0011
Revises: cart_0010
Create Date: 2026-11-29 06:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cart_0011"
down_revision: str | None = "cart_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("cart_product", sa.Column("tax_class", sa.String(16), nullable=False, server_default="standard"))


def downgrade() -> None:
    op.drop_column("cart_product", "tax_class")
