"""indexes of the housekeeping sweeps: inbox, cart_owner, cleared_order

Revision ID: cart_0005
Revises: cart_0004
Create Date: 2026-11-22 19:30

Each sweep deletes a range of one of these (`… < cut-off`); without them every pass read the
whole table.
"""
from collections.abc import Sequence

from alembic import op

from atelier_common.migrations import (
    create_inbox_sweep_index,
    create_owner_sweep_index,
    drop_inbox_sweep_index,
    drop_owner_sweep_index,
)

revision: str = "cart_0005"
down_revision: str | None = "cart_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_inbox_sweep_index()
    create_owner_sweep_index("cart_owner")
    op.create_index("ix_cleared_order_created_at", "cleared_order", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_cleared_order_created_at", table_name="cleared_order")
    drop_owner_sweep_index("cart_owner")
    drop_inbox_sweep_index()
