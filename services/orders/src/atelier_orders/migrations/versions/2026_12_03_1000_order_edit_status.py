"""Order edits that add units wait for their stock: an edit's status and why it was refused

Revision ID: orders_0025
Revises: orders_0024
Create Date: 2026-12-03 10:00

Two columns on order_edit; every edit written before is applied.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from atelier_common.db import on_postgres

revision: str = "orders_0025"
down_revision: str | None = "orders_0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("order_edit", sa.Column("status", sa.String(length=16), nullable=False, server_default="applied"))
    op.add_column("order_edit", sa.Column("note", sa.String(length=500), nullable=True))
    # SQLite adds no constraint to an existing table (a rebuild would be needed): the model's check
    # holds on PostgreSQL, where production runs.
    if on_postgres(op.get_bind()):
        op.create_check_constraint("ck_order_edit_status", "order_edit", "status IN ('pending', 'applied', 'refused')")


def downgrade() -> None:
    if on_postgres(op.get_bind()):
        op.drop_constraint("ck_order_edit_status", "order_edit", type_="check")
    op.drop_column("order_edit", "note")
    op.drop_column("order_edit", "status")
