"""cart.anonymous: carts of anonymous visitors, which housekeeping deletes once untouched

Revision ID: cart_0004
Revises: cart_0003
Create Date: 2026-11-22 17:00

Carts that exist before this revision are taken to be users' (false): they are kept.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cart_0004"
down_revision: str | None = "cart_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cart") as batch:
        batch.add_column(sa.Column("anonymous", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index("ix_cart_anonymous_updated_at", "cart", ["anonymous", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_cart_anonymous_updated_at", table_name="cart")
    with op.batch_alter_table("cart") as batch:
        batch.drop_column("anonymous")
