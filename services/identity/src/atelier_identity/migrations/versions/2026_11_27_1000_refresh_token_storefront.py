"""The storefront a refresh token was issued on: support's list of a customer's sessions

Revision ID: identity_0016
Revises: identity_0015
Create Date: 2026-11-27 10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "identity_0016"
down_revision: str | None = "identity_0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: tokens issued before this say nothing (a plain ADD COLUMN, no copy).
    op.add_column("refresh_token", sa.Column("storefront", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("refresh_token") as batch:
        batch.drop_column("storefront")
