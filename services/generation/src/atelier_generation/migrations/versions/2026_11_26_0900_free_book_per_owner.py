"""Drop ux_book_anonymous_client: the free book is one per anonymous owner, and what fresh
owners get for free is bounded per address and hour (`anonymous_free_jobs_per_ip`), so a second
visitor behind the same address and browser gets one too. The client hash stays: it still binds
an anonymous owner's books to its client.

Revision ID: generation_0013
Revises: generation_0012
Create Date: 2026-11-26 09:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "generation_0013"
down_revision: str | None = "generation_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ANONYMOUS_CLIENT = sa.text("anonymous AND client_hash IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ux_book_anonymous_client", table_name="book")


def downgrade() -> None:
    # Refused where two anonymous books of one client exist by then.
    op.create_index("ux_book_anonymous_client", "book", ["client_hash"], unique=True,
                    postgresql_where=_ANONYMOUS_CLIENT, sqlite_where=_ANONYMOUS_CLIENT)
