"""orders_import_ref and customer_order.imported_from: orders moved in as history

Revision ID: orders_0010
Revises: orders_0009
Create Date: 2026-11-25 17:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "orders_0010"
down_revision: str | None = "orders_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "orders_import_ref",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("source_pk", sa.String(length=100), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", "model", "source_pk", name="pk_orders_import_ref"),
    )
    with op.batch_alter_table("customer_order") as batch:
        batch.add_column(sa.Column("imported_from", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customer_order") as batch:
        batch.drop_column("imported_from")
    op.drop_table("orders_import_ref")
