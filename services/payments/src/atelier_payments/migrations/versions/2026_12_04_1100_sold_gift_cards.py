"""sold gift cards: the order line unit a bought gift card was issued for

Revision ID: payments_0015
Revises: payments_0014
Create Date: 2026-12-04 11:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "payments_0015"
down_revision: str | None = "payments_0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("gift_card") as batch:
        batch.add_column(sa.Column("order_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("order_unit", sa.String(32), nullable=True))
    # One card per unit of a gift card line: a second issue for it is refused by the database.
    op.create_index("uq_gift_card_order_unit", "gift_card", ["order_id", "order_unit"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_gift_card_order_unit", table_name="gift_card")
    with op.batch_alter_table("gift_card") as batch:
        batch.drop_column("order_unit")
        batch.drop_column("order_id")
