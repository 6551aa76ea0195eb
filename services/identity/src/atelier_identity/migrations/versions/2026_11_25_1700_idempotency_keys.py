"""Idempotency keys of identity's staff writes (a reset mail or a resend retried by the console)

Revision ID: identity_0012
Revises: identity_0011
Create Date: 2026-11-25 17:00
"""
from collections.abc import Sequence

from atelier_common.migrations import (
    create_idempotency_sweep_index,
    create_idempotency_table,
    drop_idempotency_sweep_index,
    drop_idempotency_table,
)

revision: str = "identity_0012"
down_revision: str | None = "identity_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_idempotency_table()
    create_idempotency_sweep_index()  # housekeeping's sweep of expired keys


def downgrade() -> None:
    drop_idempotency_sweep_index()
    drop_idempotency_table()
