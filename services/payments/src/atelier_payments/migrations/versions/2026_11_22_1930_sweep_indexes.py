"""indexes of the housekeeping sweeps: inbox, idempotency_key, checkout_session

Revision ID: payments_0007
Revises: payments_0006
Create Date: 2026-11-22 19:30

Each sweep deletes a range of one of these (`… < cut-off`); without them every pass read the
whole table.
"""
from collections.abc import Sequence

from alembic import op

from atelier_common.migrations import (
    create_idempotency_sweep_index,
    create_inbox_sweep_index,
    drop_idempotency_sweep_index,
    drop_inbox_sweep_index,
)

revision: str = "payments_0007"
down_revision: str | None = "payments_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_inbox_sweep_index()
    create_idempotency_sweep_index()
    op.create_index("ix_checkout_session_expires_at", "checkout_session", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_checkout_session_expires_at", table_name="checkout_session")
    drop_idempotency_sweep_index()
    drop_inbox_sweep_index()
