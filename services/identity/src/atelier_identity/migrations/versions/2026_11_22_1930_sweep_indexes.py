"""indexes of the housekeeping sweeps: inbox.processed_at

Revision ID: identity_0006
Revises: identity_0005
Create Date: 2026-11-22 19:30

Each sweep deletes a range of one of these (`… < cut-off`); without them every pass read the
whole table.
"""
from collections.abc import Sequence

from atelier_common.migrations import create_inbox_sweep_index, drop_inbox_sweep_index

revision: str = "identity_0006"
down_revision: str | None = "identity_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_inbox_sweep_index()


def downgrade() -> None:
    drop_inbox_sweep_index()
