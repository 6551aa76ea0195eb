"""Staff roles: `user.staff_roles`; every existing staff account becomes `admin`

Before roles, `is_staff` was the only permission and allowed everything, so `admin` keeps what
those accounts could do; an admin narrows them afterwards.

Revision ID: identity_0010
Revises: identity_0009
Create Date: 2026-11-25 15:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "identity_0010"
down_revision: str | None = "identity_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("staff_roles", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False,
                                   server_default="[]"))
    op.execute(sa.text("""UPDATE "user" SET staff_roles = '["admin"]' WHERE is_staff"""))


def downgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.drop_column("staff_roles")
