"""idempotency keys of the payments routes that create (atelier_common.idempotency)

Revision ID: payments_0003
Revises: payments_0002
Create Date: 2026-11-22 10:00
"""
from collections.abc import Sequence

from atelier_common.migrations import create_idempotency_table, drop_idempotency_table

revision: str = "payments_0003"
down_revision: str | None = "payments_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_idempotency_table()


def downgrade() -> None:
    drop_idempotency_table()
