"""Signing keys in the database: `signing_key`, rotated by `atelier keys rotate`

Revision ID: identity_0014
Revises: identity_0013
Create Date: 2026-11-25 19:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "identity_0014"
down_revision: str | None = "identity_0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "signing_key",
        sa.Column("kid", sa.String(64), primary_key=True),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retire_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("signing_key")
