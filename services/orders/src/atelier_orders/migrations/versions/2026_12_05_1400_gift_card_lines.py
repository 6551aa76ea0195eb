"""gift card lines: a line's recipient, message and send date

Revision ID: orders_0033
Revises: orders_0032
Create Date: 2026-12-05 14:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "orders_0033"
down_revision: str | None = "orders_0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# A batch copy reflects the table; not following its foreign keys keeps SQLite from reflecting
# customer_order, whose expression index it cannot (a warning on every migrate).
NO_FK_TABLES = {"resolve_fks": False}


def upgrade() -> None:
    op.add_column("order_item", sa.Column("gift_recipient_email", sa.String(320), nullable=True))
    op.add_column("order_item", sa.Column("gift_message", sa.String(500), nullable=True))
    op.add_column("order_item", sa.Column("gift_send_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_item", reflect_kwargs=NO_FK_TABLES) as batch:
        batch.drop_column("gift_send_at")
        batch.drop_column("gift_message")
        batch.drop_column("gift_recipient_email")
