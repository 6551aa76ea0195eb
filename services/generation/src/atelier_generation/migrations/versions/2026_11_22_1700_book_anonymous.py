"""book.anonymous: books of anonymous visitors, which housekeeping deletes once untouched

Revision ID: generation_0005
Revises: generation_0004
Create Date: 2026-11-22 17:00

Books that exist before this revision are taken to be users' (false): they are kept.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "generation_0005"
down_revision: str | None = "generation_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("book") as batch:
        batch.add_column(sa.Column("anonymous", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index("ix_book_anonymous_updated_at", "book", ["anonymous", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_book_anonymous_updated_at", table_name="book")
    with op.batch_alter_table("book") as batch:
        batch.drop_column("anonymous")
