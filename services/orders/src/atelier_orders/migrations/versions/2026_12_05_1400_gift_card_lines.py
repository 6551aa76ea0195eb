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


def upgrade() -> None:
    with op.batch_alter_table("order_item") as batch:
        batch.add_column(sa.Column("gift_recipient_email", sa.String(320), nullable=True))
        batch.add_column(sa.Column("gift_message", sa.String(500), nullable=True))
        batch.add_column(sa.Column("gift_send_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_item") as batch:
        batch.drop_column("gift_send_at")
        batch.drop_column("gift_message")
        batch.drop_column("gift_recipient_email")
