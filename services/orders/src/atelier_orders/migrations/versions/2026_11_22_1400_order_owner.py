"""order_owner: a claim heard after the user's erasure still anonymises

Revision ID: orders_0004
Revises: orders_0003
Create Date: 2026-11-22 14:00

`identity.user_deleted` may reach orders before `identity.anonymous_claimed` of the same user:
the erasure is remembered here, so the orders a late claim moves to the user are anonymised too.
"""
from collections.abc import Sequence

from alembic import op

from atelier_common.migrations import create_owner_table

revision: str = "orders_0004"
down_revision: str | None = "orders_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_owner_table("order_owner")


def downgrade() -> None:
    op.drop_table("order_owner")
