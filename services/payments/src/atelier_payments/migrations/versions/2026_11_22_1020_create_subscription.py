"""subscriptions and their invoices (S4)

Revision ID: payments_0005
Revises: payments_0004
Create Date: 2026-11-22 01:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "payments_0005"
down_revision: str | None = "payments_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "billing_subscription",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("plan_sku", sa.String(64), nullable=False),
        sa.Column("tier", sa.String(30), nullable=False),
        sa.Column("monthly_quota", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("provider_subscription_id", sa.String(255), nullable=True),
        sa.Column("provider_customer_id", sa.String(255), nullable=True),
        sa.Column("payment_method_id", sa.String(255), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        _timestamp("current_period_start", nullable=True),
        _timestamp("current_period_end", nullable=True),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("checkout_success_url", sa.Text(), nullable=True),
        sa.Column("checkout_cancel_url", sa.Text(), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
    )
    op.create_index("uq_billing_subscription_user_id", "billing_subscription", ["user_id"], unique=True)
    op.create_index("uq_billing_subscription_provider_id", "billing_subscription", ["provider", "provider_subscription_id"],
                    unique=True)
    op.create_table(
        "billing_invoice",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("provider_invoice_id", sa.String(255), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        _timestamp("period_start", nullable=True),
        _timestamp("period_end", nullable=True),
        _timestamp("created_at"),
    )
    op.create_index("ix_billing_invoice_user_created", "billing_invoice", ["user_id", "created_at"])
    op.create_index("uq_billing_invoice_provider_id", "billing_invoice",
                    ["provider", "provider_invoice_id"], unique=True)


def downgrade() -> None:
    op.drop_table("billing_invoice")
    op.drop_table("billing_subscription")
