"""Claims: order_return.kind, resolution and replacement_order_id; customer_order.replaces_order_id

Revision ID: orders_0022
Revises: orders_0021
Create Date: 2026-11-30 14:00

A claim is kept beside the returns (one table: both hold units of an order's lines, and a unit is
in one of them at most). Every row stored before is a return. A claim settled by a replacement is
`replaced`: the status check takes it (rebuilt in batch mode on SQLite).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "orders_0022"
down_revision: str | None = "orders_0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = "'requested', 'approved', 'received', 'refunded', 'rejected'"
# SQLite copies order_return to change its CHECK; the copy need not reflect the table its foreign key
# names (customer_order, whose expression index reflection skips with a warning on every migrate).
NO_FK_TABLES = {"resolve_fks": False}


def upgrade() -> None:
    op.add_column("customer_order", sa.Column("replaces_order_id", sa.Uuid(), nullable=True))
    with op.batch_alter_table("order_return", reflect_kwargs=NO_FK_TABLES) as batch:
        batch.add_column(sa.Column("kind", sa.String(8), nullable=False, server_default="return"))
        batch.add_column(sa.Column("resolution", sa.String(8), nullable=True))
        batch.add_column(sa.Column("replacement_order_id", sa.Uuid(), nullable=True))
        batch.drop_constraint("ck_order_return_status", type_="check")
        batch.create_check_constraint("ck_order_return_status", sa.text(f"status IN ({STATUSES}, 'replaced')"))
        batch.create_check_constraint("ck_order_return_kind", sa.text("kind IN ('return', 'claim')"))


def downgrade() -> None:
    with op.batch_alter_table("order_return", reflect_kwargs=NO_FK_TABLES) as batch:
        batch.drop_constraint("ck_order_return_kind", type_="check")
        batch.drop_constraint("ck_order_return_status", type_="check")
        batch.create_check_constraint("ck_order_return_status", sa.text(f"status IN ({STATUSES})"))
        batch.drop_column("replacement_order_id")
        batch.drop_column("resolution")
        batch.drop_column("kind")
    with op.batch_alter_table("customer_order") as batch:
        batch.drop_column("replaces_order_id")
