"""early_refund: a provider refund reported before its payment's success

Revision ID: payments_0006
Revises: payments_0005
Create Date: 2026-11-22 14:00

Stripe does not order its events: `charge.refunded` or a refund's `charge.refund.updated` may
arrive before `payment_intent.succeeded`. The refund is kept here and applied when the success
arrives, instead of being lost with its claimed event id.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "payments_0006"
down_revision: str | None = "payments_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "early_refund",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("provider_refund_id", sa.String(255), nullable=True),
        sa.Column("amount", sa.Numeric(12, 2), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_early_refund_payment_id", "early_refund", ["payment_id"])
    op.create_index("uq_early_refund_provider_id", "early_refund", ["payment_id", "provider_refund_id"],
                    unique=True)


def downgrade() -> None:
    op.drop_table("early_refund")
