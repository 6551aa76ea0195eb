"""identity_import_ref: the source primary key each imported user or address came from

Revision ID: identity_0009
Revises: identity_0008
Create Date: 2026-11-25 15:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "identity_0009"
down_revision: str | None = "identity_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identity_import_ref",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("source_pk", sa.String(length=100), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", "model", "source_pk", name="pk_identity_import_ref"),
    )


def downgrade() -> None:
    op.drop_table("identity_import_ref")
