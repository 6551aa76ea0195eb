"""Gift cards: the cards, their balance movements, and the part of payments and refunds they take

Revision ID: payments_0013
Revises: payments_0012
Create Date: 2026-11-29 18:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "payments_0013"
down_revision: str | None = "payments_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gift_card",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("storefront", sa.String(64), nullable=False, server_default="default"),
        sa.Column("code_digest", sa.String(64), nullable=False),
        sa.Column("last4", sa.String(4), nullable=False),
        sa.Column("initial_balance", sa.Numeric(12, 2), nullable=False),
        sa.Column("balance", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recipient_email", sa.String(320), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("balance >= 0", name="ck_gift_card_balance"),
        sa.CheckConstraint("initial_balance > 0", name="ck_gift_card_initial_balance"),
    )
    op.create_index("uq_gift_card_code_digest", "gift_card", ["code_digest"], unique=True)
    op.create_index("ix_gift_card_storefront_created", "gift_card", ["storefront", "created_at", "id"])
    op.create_table(
        "gift_card_transaction",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("gift_card_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=True),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("refund_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('issued', 'used', 'released', 'refunded')", name="ck_gift_card_transaction_kind"),
    )
    op.create_index("ix_gift_card_transaction_card_created", "gift_card_transaction", ["gift_card_id", "created_at"])
    op.create_index("ix_gift_card_transaction_payment", "gift_card_transaction", ["payment_id"])
    with op.batch_alter_table("payment") as batch:
        batch.add_column(sa.Column("gift_card_amount", sa.Numeric(12, 2), nullable=False, server_default="0"))
    with op.batch_alter_table("refund") as batch:
        batch.add_column(sa.Column("gift_card_amount", sa.Numeric(12, 2), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("refund") as batch:
        batch.drop_column("gift_card_amount")
    with op.batch_alter_table("payment") as batch:
        batch.drop_column("gift_card_amount")
    op.drop_table("gift_card_transaction")
    op.drop_table("gift_card")
