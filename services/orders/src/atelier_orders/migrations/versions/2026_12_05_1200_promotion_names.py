"""A promotion's name in its storefront's other languages

Revision ID: orders_0031
Revises: orders_0030
Create Date: 2026-12-05 12:00

Every promotion stored before has none (`{}`): its `name` everywhere.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "orders_0031"
down_revision: str | None = "orders_0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("promotion", sa.Column("names", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False,
                                         server_default=sa.text("'{}'")))


def downgrade() -> None:
    op.drop_column("promotion", "names")
