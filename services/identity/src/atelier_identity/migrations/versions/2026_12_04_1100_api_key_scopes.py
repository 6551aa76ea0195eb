"""API keys' narrow scopes: api_key.scopes

Revision ID: identity_0023
Revises: identity_0022
Create Date: 2026-12-04 11:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "identity_0023"
down_revision: str | None = "identity_0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    # Keys made before scopes have roles only: no scope.
    op.add_column("api_key", sa.Column("scopes", JSON, nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    op.drop_column("api_key", "scopes")
