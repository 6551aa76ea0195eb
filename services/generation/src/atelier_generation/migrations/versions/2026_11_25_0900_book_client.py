"""book.client_hash, anon_reader_id, claimed_at: anonymous ownership bound to the client, and
the guest's read access to what its claimed identity made

Revision ID: generation_0007
Revises: generation_0006
Create Date: 2026-11-25 09:00

Books that exist before this revision have no client hash: their anonymous owners are not
bound to a client (their token alone, as before) and count for no client's free book.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "generation_0007"
down_revision: str | None = "generation_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ANONYMOUS_CLIENT = sa.text("anonymous AND client_hash IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("book") as batch:
        batch.add_column(sa.Column("client_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("anon_reader_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ux_book_anonymous_client", "book", ["client_hash"], unique=True,
                    postgresql_where=_ANONYMOUS_CLIENT, sqlite_where=_ANONYMOUS_CLIENT)
    op.create_index("ix_book_anon_reader_id", "book", ["anon_reader_id"])
    op.create_index("ix_book_claimed_at", "book", ["claimed_at"])


def downgrade() -> None:
    op.drop_index("ix_book_claimed_at", table_name="book")
    op.drop_index("ix_book_anon_reader_id", table_name="book")
    op.drop_index("ux_book_anonymous_client", table_name="book")
    with op.batch_alter_table("book") as batch:
        batch.drop_column("claimed_at")
        batch.drop_column("anon_reader_id")
        batch.drop_column("client_hash")
