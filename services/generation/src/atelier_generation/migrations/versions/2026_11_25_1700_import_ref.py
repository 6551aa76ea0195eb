"""generation_import_ref: the source primary key each imported wallet or book came from

Revision ID: generation_0012
Revises: generation_0011
Create Date: 2026-11-25 17:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "generation_0012"
down_revision: str | None = "generation_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "generation_import_ref",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("source_pk", sa.String(length=100), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", "model", "source_pk", name="pk_generation_import_ref"),
    )


def downgrade() -> None:
    op.drop_table("generation_import_ref")
