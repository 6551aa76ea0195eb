"""Idempotency keys of generation's staff writes (credits granted or deducted by hand)

Revision ID: generation_0011
Revises: generation_0010
Create Date: 2026-11-25 15:30
"""
from collections.abc import Sequence

from atelier_common.migrations import (
    create_idempotency_sweep_index,
    create_idempotency_table,
    drop_idempotency_sweep_index,
    drop_idempotency_table,
)

revision: str = "generation_0011"
down_revision: str | None = "generation_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_idempotency_table()
    create_idempotency_sweep_index()  # housekeeping's sweep of expired keys


def downgrade() -> None:
    drop_idempotency_sweep_index()
    drop_idempotency_table()
