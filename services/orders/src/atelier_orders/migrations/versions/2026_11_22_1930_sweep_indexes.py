"""indexes of the housekeeping sweeps: inbox, idempotency_key, order_owner

Revision ID: orders_0005
Revises: orders_0004
Create Date: 2026-11-22 19:30

Each sweep deletes a range of one of these (`… < cut-off`); without them every pass read the
whole table.
"""
from collections.abc import Sequence

from atelier_common.migrations import (
    create_idempotency_sweep_index,
    create_inbox_sweep_index,
    create_owner_sweep_index,
    drop_idempotency_sweep_index,
    drop_inbox_sweep_index,
    drop_owner_sweep_index,
)

revision: str = "orders_0005"
down_revision: str | None = "orders_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_inbox_sweep_index()
    create_idempotency_sweep_index()
    create_owner_sweep_index("order_owner")


def downgrade() -> None:
    drop_owner_sweep_index("order_owner")
    drop_idempotency_sweep_index()
    drop_inbox_sweep_index()
