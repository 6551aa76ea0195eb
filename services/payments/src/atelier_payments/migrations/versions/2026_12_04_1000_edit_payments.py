"""Supplementary payments: what an order edit of a paid order leaves due, keyed by the edit

Revision ID: payments_0014
Revises: payments_0013
Create Date: 2026-12-04 10:00

`payment.edit_id` names the edit a supplementary payment pays (None: the order's own payment).
A return or an edit may now be refunded from several payments of its order, once per payment:
the unique `refund.return_id` becomes unique per payment.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "payments_0014"
down_revision: str | None = "payments_0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("payment", sa.Column("edit_id", sa.Uuid(), nullable=True))
    op.create_index("ix_payment_edit_id", "payment", ["edit_id"])
    op.drop_index("uq_refund_return_id", table_name="refund")
    op.create_index("uq_refund_payment_return_id", "refund", ["payment_id", "return_id"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_refund_payment_return_id", table_name="refund")
    op.create_index("uq_refund_return_id", "refund", ["return_id"], unique=True)
    op.drop_index("ix_payment_edit_id", table_name="payment")
    op.drop_column("payment", "edit_id")
