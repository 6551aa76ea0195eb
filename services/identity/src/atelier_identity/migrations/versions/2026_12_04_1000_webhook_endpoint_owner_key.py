"""An API key's own webhook endpoints: webhook_endpoint.owner_key_id

Revision ID: identity_0022
Revises: identity_0021
Create Date: 2026-12-04 10:00

Every endpoint registered before is a person's (NULL).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "identity_0022"
down_revision: str | None = "identity_0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("webhook_endpoint", sa.Column("owner_key_id", sa.Uuid(), nullable=True))
    op.create_index("ix_webhook_endpoint_owner_key_id", "webhook_endpoint", ["owner_key_id"])


def downgrade() -> None:
    op.drop_index("ix_webhook_endpoint_owner_key_id", table_name="webhook_endpoint")
    op.drop_column("webhook_endpoint", "owner_key_id")
