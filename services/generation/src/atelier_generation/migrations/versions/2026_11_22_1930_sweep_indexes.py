"""indexes of the housekeeping sweeps: inbox, generation_owner, restoration expiry

Revision ID: generation_0006
Revises: generation_0005
Create Date: 2026-11-22 19:30

Each sweep deletes a range of one of these (`… < cut-off`); without them every pass read the
whole table (`ix_restoration_owner_expires` leads with the owner).
"""
from collections.abc import Sequence

from alembic import op

from atelier_common.migrations import (
    create_inbox_sweep_index,
    create_owner_sweep_index,
    drop_inbox_sweep_index,
    drop_owner_sweep_index,
)

revision: str = "generation_0006"
down_revision: str | None = "generation_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_inbox_sweep_index()
    create_owner_sweep_index("generation_owner")
    op.create_index("ix_restoration_expires_at", "restoration", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_restoration_expires_at", table_name="restoration")
    drop_owner_sweep_index("generation_owner")
    drop_inbox_sweep_index()
