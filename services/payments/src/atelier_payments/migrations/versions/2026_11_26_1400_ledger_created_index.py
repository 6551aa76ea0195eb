"""index of ledger entries by time

Revision ID: payments_0010
Revises: payments_0009
Create Date: 2026-11-26 14:00

Finance's ledger (`GET /api/v1/staff/ledger`) lists every owner's entries newest first: without
an index on `created_at`, each page sorted the whole table.
"""
from collections.abc import Sequence

from alembic import op

revision: str = "payments_0010"
down_revision: str | None = "payments_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_ledger_entry_created", "ledger_entry", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_ledger_entry_created", table_name="ledger_entry")
