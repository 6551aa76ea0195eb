"""The paid orders' feed and the accounting lists walk their indexes

Revision ID: orders_0027
Revises: orders_0026
Create Date: 2026-12-04 11:00

`GET /staff/orders/paid` reads orders by (paid_at, id); `GET /staff/invoices` and
`GET /staff/credit-notes` read documents by (issued_at, id).
"""
from collections.abc import Sequence

from alembic import op

revision: str = "orders_0027"
down_revision: str | None = "orders_0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_customer_order_paid", "customer_order", ["paid_at", "id"])
    op.create_index("ix_invoice_issued", "invoice", ["issued_at", "id"])
    op.create_index("ix_credit_note_issued", "credit_note", ["issued_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_credit_note_issued", table_name="credit_note")
    op.drop_index("ix_invoice_issued", table_name="invoice")
    op.drop_index("ix_customer_order_paid", table_name="customer_order")
