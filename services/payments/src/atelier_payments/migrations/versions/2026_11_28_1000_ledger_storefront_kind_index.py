"""Finance's ledger of one storefront and kind by time: (storefront, kind, created_at, id)

Revision ID: payments_0012
Revises: payments_0011
Create Date: 2026-11-28 10:00

`GET /api/v1/staff/ledger?storefront=…&kind=…&created_after=…` read every entry of the day (of
every storefront and kind) through ix_ledger_entry_created and dropped the others'; this index
reads the matching entries alone, newest first, and counts them from the index. Measured on
300,000 entries at 10M's density per day (13,600): the count of a storefront's payments of a day
read 257 pages before, 204 with (storefront, created_at, id), 11 with this one.
"""
from collections.abc import Sequence

from alembic import op

revision: str = "payments_0012"
down_revision: str | None = "payments_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_ledger_entry_storefront_kind_created", "ledger_entry",
                    ["storefront", "kind", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_ledger_entry_storefront_kind_created", table_name="ledger_entry")
