"""book print options, a character's reference photo, a version's lettering and prompt snapshot (S0)

Revision ID: generation_0009
Revises: generation_0008
Create Date: 2026-11-25 14:00

Every new column is nullable: existing rows simply have none of these.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "generation_0009"
down_revision: str | None = "generation_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BOOK = ("style_version", "print_size", "paper_type", "binding_type")
_LETTERING = ("title_text", "subtitle_text", "author_name")


def upgrade() -> None:
    with op.batch_alter_table("book") as batch:
        for name in _BOOK:
            batch.add_column(sa.Column(name, sa.String(length=50), nullable=True))
    with op.batch_alter_table("book_item") as batch:
        batch.add_column(sa.Column("reference_key", sa.String(length=300), nullable=True))
    with op.batch_alter_table("book_item_version") as batch:
        for name in _LETTERING:
            batch.add_column(sa.Column(name, sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("prompt_snapshot", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("book_item_version") as batch:
        batch.drop_column("prompt_snapshot")
        for name in reversed(_LETTERING):
            batch.drop_column(name)
    with op.batch_alter_table("book_item") as batch:
        batch.drop_column("reference_key")
    with op.batch_alter_table("book") as batch:
        for name in reversed(_BOOK):
            batch.drop_column(name)
