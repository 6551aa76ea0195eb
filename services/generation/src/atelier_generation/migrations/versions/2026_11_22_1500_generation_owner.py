"""generation_owner: purchases, claims and erasures of one owner, serialised and remembered

Revision ID: generation_0004
Revises: generation_0003
Create Date: 2026-11-22 15:00

An anonymous buyer's `order.paid` may reach generation after `identity.anonymous_claimed`, and any
purchase or claim after `identity.user_deleted`: the claim and the erasure are remembered here, so
that the credits go to the user instead of an abandoned wallet, and nothing outlives an erasure.
"""
from collections.abc import Sequence

from alembic import op

from atelier_common.migrations import create_owner_table

revision: str = "generation_0004"
down_revision: str | None = "generation_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_owner_table("generation_owner")


def downgrade() -> None:
    op.drop_table("generation_owner")
