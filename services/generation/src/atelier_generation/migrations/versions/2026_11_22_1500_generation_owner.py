"""generation_owner: purchases, claims and erasures of one owner, serialised and remembered

Revision ID: generation_0004
Revises: generation_0003
Create Date: 2026-11-22 15:00

An anonymous buyer's `order.paid` may reach generation after `identity.anonymous_claimed`, and any
purchase or claim after `identity.user_deleted`: the claim and the erasure are remembered here, so
that the credits go to the user instead of an abandoned wallet, and nothing outlives an erasure.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "generation_0004"
down_revision: str | None = "generation_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "generation_owner",
        sa.Column("owner_id", sa.Uuid(), primary_key=True),
        sa.Column("claimed_by", sa.Uuid(), nullable=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("generation_owner")
