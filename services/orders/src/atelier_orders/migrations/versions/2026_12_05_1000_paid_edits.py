"""Edits of paid orders that raise the total: what they leave due, and supplementary invoices

Revision ID: orders_0029
Revises: orders_0028
Create Date: 2026-12-05 10:00

order_edit: `awaiting_payment` edits, their `amount_due`, `expires_at`, and the payment that paid
them. invoice: a `kind` (`invoice`, `supplementary`), the edit a supplementary invoice documents
and the original's number; an order keeps one original invoice (a partial unique index replaces
`uq_invoice_order_id`) and gets one supplementary invoice per paid edit.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from atelier_common.db import on_postgres

revision: str = "orders_0029"
down_revision: str | None = "orders_0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUSES = "status IN ('pending', 'awaiting_payment', 'applied', 'refused')"


# A batch copy reflects the table; not following its foreign keys keeps SQLite from reflecting
# customer_order, whose expression index it cannot (a warning on every migrate).
NO_FK_TABLES = {"resolve_fks": False}


def upgrade() -> None:
    op.add_column("order_edit", sa.Column("amount_due", sa.Numeric(12, 2), nullable=False, server_default="0"))
    op.add_column("order_edit", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("order_edit", sa.Column("payment_id", sa.Uuid(), nullable=True))
    op.add_column("order_edit", sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_order_edit_expires", "order_edit", ["status", "expires_at"])
    if on_postgres(op.get_bind()):
        op.drop_constraint("ck_order_edit_status", "order_edit", type_="check")
        op.create_check_constraint("ck_order_edit_status", "order_edit", _STATUSES)
    with op.batch_alter_table("invoice", reflect_kwargs=NO_FK_TABLES) as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="invoice"))
        batch.add_column(sa.Column("edit_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("original_number", sa.String(100), nullable=True))
        batch.drop_constraint("uq_invoice_order_id", type_="unique")
        batch.create_check_constraint("ck_invoice_kind", "kind IN ('invoice', 'supplementary')")
    op.create_index("uq_invoice_order_original", "invoice", ["order_id"], unique=True,
                    postgresql_where=sa.text("kind = 'invoice'"), sqlite_where=sa.text("kind = 'invoice'"))
    op.create_index("uq_invoice_edit_id", "invoice", ["edit_id"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_invoice_edit_id", table_name="invoice")
    op.drop_index("uq_invoice_order_original", table_name="invoice")
    op.execute("DELETE FROM invoice WHERE kind <> 'invoice'")
    with op.batch_alter_table("invoice", reflect_kwargs=NO_FK_TABLES) as batch:
        batch.drop_constraint("ck_invoice_kind", type_="check")
        batch.create_unique_constraint("uq_invoice_order_id", ["order_id"])
        batch.drop_column("original_number")
        batch.drop_column("edit_id")
        batch.drop_column("kind")
    if on_postgres(op.get_bind()):
        op.drop_constraint("ck_order_edit_status", "order_edit", type_="check")
        op.execute("UPDATE order_edit SET status = 'refused' WHERE status = 'awaiting_payment'")
        op.create_check_constraint("ck_order_edit_status", "order_edit",
                                   "status IN ('pending', 'applied', 'refused')")
    op.drop_index("ix_order_edit_expires", table_name="order_edit")
    op.drop_column("order_edit", "paid_at")
    op.drop_column("order_edit", "payment_id")
    op.drop_column("order_edit", "expires_at")
    op.drop_column("order_edit", "amount_due")
