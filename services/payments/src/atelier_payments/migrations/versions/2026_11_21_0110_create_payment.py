"""payments, processed webhook ids, the billing ledger and local checkout sessions

Revision ID: payments_0002
Revises: payments_0001
Create Date: 2026-11-21 01:10
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "payments_0002"
down_revision: str | None = "payments_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = "'created', 'requires_payment', 'processing', 'succeeded', 'failed', 'refunded', 'canceled'"
KINDS = "'intent', 'checkout', 'external'"
LEDGER_KINDS = "'payment', 'refund', 'credit_purchase', 'credit_consumed'"
OPEN_INTENT_WHERE = "kind = 'intent' AND status IN ('created', 'requires_payment', 'processing', 'failed')"


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "payment",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("anon_id", sa.Uuid(), nullable=True),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("provider_intent_id", sa.String(255), nullable=True),
        sa.Column("provider_session_id", sa.String(255), nullable=True),
        sa.Column("provider_charge_id", sa.String(255), nullable=True),
        sa.Column("provider_refund_id", sa.String(255), nullable=True),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("failure_reason", sa.String(500), nullable=True),
        sa.Column("pays_order", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("order_snapshot", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.CheckConstraint(f"status IN ({STATUSES})", name="ck_payment_status"),
        sa.CheckConstraint(f"kind IN ({KINDS})", name="ck_payment_kind"),
        sa.CheckConstraint("amount >= 0", name="ck_payment_amount"),
    )
    op.create_index("ix_payment_order_id", "payment", ["order_id"])
    op.create_index("ix_payment_owner_id", "payment", ["owner_id"])
    op.create_index("uq_payment_intent", "payment", ["provider", "provider_intent_id"], unique=True)
    op.create_index("uq_payment_session", "payment", ["provider", "provider_session_id"], unique=True)
    op.create_index("uq_payment_open_intent", "payment", ["order_id", "provider"], unique=True,
                    postgresql_where=sa.text(OPEN_INTENT_WHERE), sqlite_where=sa.text(OPEN_INTENT_WHERE))

    op.create_table(
        "processed_webhook",
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        _timestamp("processed_at"),
        sa.PrimaryKeyConstraint("provider", "event_id", name="pk_processed_webhook"),
    )

    op.create_table(
        "ledger_entry",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("credits", sa.Integer(), nullable=True),
        sa.Column("payment_id", sa.Uuid(), nullable=True),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("reference_id", sa.String(255), nullable=True),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        _timestamp("created_at"),
        sa.CheckConstraint(f"kind IN ({LEDGER_KINDS})", name="ck_ledger_entry_kind"),
    )
    op.create_index("ix_ledger_entry_owner_created", "ledger_entry", ["owner_id", "created_at"])

    op.create_table(
        "checkout_session",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("success_url", sa.Text(), nullable=False),
        sa.Column("cancel_url", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        _timestamp("expires_at"),
        _timestamp("created_at"),
    )
    op.create_index("ix_checkout_session_payment_id", "checkout_session", ["payment_id"])


def downgrade() -> None:
    op.drop_index("ix_checkout_session_payment_id", table_name="checkout_session")
    op.drop_table("checkout_session")
    op.drop_index("ix_ledger_entry_owner_created", table_name="ledger_entry")
    op.drop_table("ledger_entry")
    op.drop_table("processed_webhook")
    for index in ("uq_payment_open_intent", "uq_payment_session", "uq_payment_intent", "ix_payment_owner_id",
                  "ix_payment_order_id"):
        op.drop_index(index, table_name="payment")
    op.drop_table("payment")
