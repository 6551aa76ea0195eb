"""address_book.anonymous: the sweep of abandoned anonymous books reads only those

Revision ID: identity_0017
Revises: identity_0016
Create Date: 2026-11-28 10:00

Housekeeping looked for books whose owner is no user with an anti-join over every book and every
user: its cost grew with the customers. The marker says it at the book's creation, and a partial
index holds the anonymous books alone. Existing books are marked from the users there are now.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "identity_0017"
down_revision: str | None = "identity_0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("address_book") as batch:
        batch.add_column(sa.Column("anonymous", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute('UPDATE address_book SET anonymous = true '
               'WHERE NOT EXISTS (SELECT 1 FROM "user" WHERE "user".id = address_book.owner_id)')
    op.create_index("ix_address_book_anonymous_created", "address_book", ["created_at"],
                    sqlite_where=sa.text("anonymous"), postgresql_where=sa.text("anonymous"))


def downgrade() -> None:
    op.drop_index("ix_address_book_anonymous_created", table_name="address_book")
    with op.batch_alter_table("address_book") as batch:
        batch.drop_column("anonymous")
