"""S4's profile fields: username (unique whatever its case) and display_name

Revision ID: identity_0005
Revises: identity_0004
Create Date: 2026-11-22 01:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "identity_0005"
down_revision: str | None = "identity_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("username", sa.String(30), nullable=True))
        batch.add_column(sa.Column("display_name", sa.String(100), nullable=True))
    # Unique case-insensitively; the name keeps the case its owner chose.
    op.create_index("uq_user_username_lower", "user", [sa.text("lower(username)")], unique=True)


def downgrade() -> None:
    op.drop_index("uq_user_username_lower", table_name="user")
    with op.batch_alter_table("user") as batch:
        batch.drop_column("display_name")
        batch.drop_column("username")
