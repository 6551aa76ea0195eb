"""Deleted versions (S0's version DELETE): a version a paid print used is kept, marked deleted

Revision ID: generation_0014
Revises: generation_0013
Create Date: 2026-11-26 10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "generation_0014"
down_revision: str | None = "generation_0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("book_item_version") as batch:
        batch.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("book_item_version") as batch:
        batch.drop_column("deleted_at")
