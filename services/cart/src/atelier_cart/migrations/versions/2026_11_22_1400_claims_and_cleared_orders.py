"""cart_owner and cleared_order: a guest's order, their sign-in and the erasure in any order

Revision ID: cart_0003
Revises: cart_0002
Create Date: 2026-11-22 14:00

A guest's `order.placed` may reach the cart after `identity.anonymous_claimed` moved the guest's
cart to the user: the claim is remembered so the order's lines leave the user's cart, once; and
`identity.user_deleted` before the claim: the erasure is remembered so no cart is left behind.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from atelier_common.migrations import create_owner_table

revision: str = "cart_0003"
down_revision: str | None = "cart_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_owner_table("cart_owner")
    op.create_table(
        "cleared_order",
        sa.Column("order_id", sa.Uuid(), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("cleared_order")
    op.drop_table("cart_owner")
