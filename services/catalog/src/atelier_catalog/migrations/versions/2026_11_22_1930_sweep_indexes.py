"""indexes of the housekeeping sweeps: inbox, catalog_owner, stock_order

Revision ID: catalog_0008
Revises: catalog_0007
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

revision: str = "catalog_0008"
down_revision: str | None = "catalog_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_inbox_sweep_index()
    create_owner_sweep_index("catalog_owner")
    op.create_index("ix_stock_order_updated_at", "stock_order", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_stock_order_updated_at", table_name="stock_order")
    drop_owner_sweep_index("catalog_owner")
    drop_inbox_sweep_index()
