"""index of payments by the provider's charge id

Revision ID: payments_0008
Revises: payments_0007
Create Date: 2026-11-23 05:30

A provider event that names only the charge (a refund, a dispute) is matched to its payment by
(provider, provider_charge_id) (`PaymentRepository.lock_for_event`): without an index, every such
webhook read the whole payment table.
"""
from collections.abc import Sequence

from alembic import op

revision: str = "payments_0008"
down_revision: str | None = "payments_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_payment_charge", "payment", ["provider", "provider_charge_id"])


def downgrade() -> None:
    op.drop_index("ix_payment_charge", table_name="payment")
