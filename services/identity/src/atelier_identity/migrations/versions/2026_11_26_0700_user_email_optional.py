"""An account without an email: registered by username alone (S0, `Storefront.email_optional`)

Revision ID: identity_0015
Revises: identity_0014
Create Date: 2026-11-26 07:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from atelier_common.db import on_sqlite

revision: str = "identity_0015"
down_revision: str | None = "identity_0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# SQLite alters a column by copying the table, built from reflection, which cannot read an
# expression index: `uq_user_username_lower` is dropped before the copy and made again after there.
USERNAME_LOWER = "uq_user_username_lower"


def _nullable_email(nullable: bool) -> None:
    sqlite = on_sqlite(op.get_bind())
    if sqlite:
        op.drop_index(USERNAME_LOWER, table_name="user")
    with op.batch_alter_table("user") as batch:
        batch.alter_column("email", existing_type=sa.String(320), nullable=nullable)
    if sqlite:
        op.create_index(USERNAME_LOWER, "user", [sa.text("lower(username)")], unique=True)


def upgrade() -> None:
    # uq_user_email stays: NULLs never collide, so any number of accounts may lack an address.
    _nullable_email(True)


def downgrade() -> None:
    # Refused while an account has no address (nothing to put there); delete or complete them first.
    _nullable_email(False)
