"""Returns: the return a refund pays back, refunded once

Revision ID: payments_0011
Revises: payments_0010
Create Date: 2026-11-27 10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "payments_0011"
down_revision: str | None = "payments_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("refund") as batch:
        batch.add_column(sa.Column("return_id", sa.Uuid(), nullable=True))
    op.create_index("uq_refund_return_id", "refund", ["return_id"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_refund_return_id", table_name="refund")
    with op.batch_alter_table("refund") as batch:
        batch.drop_column("return_id")
