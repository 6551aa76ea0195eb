"""Storefronts: the storefront table, and the storefront each account signed up on

Every existing account belongs to the default storefront.

Revision ID: identity_0007
Revises: identity_0006
Create Date: 2026-11-25 12:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "identity_0007"
down_revision: str | None = "identity_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "storefront",
        sa.Column("slug", sa.String(64), primary_key=True),
        sa.Column("data", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("signup_storefront", sa.String(64), nullable=False, server_default="default"))


def downgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.drop_column("signup_storefront")
    op.drop_table("storefront")
