"""a full-text index on product names alone

Revision ID: catalog_0006
Revises: catalog_0005
Create Date: 2026-11-22 01:20

Search ranks products whose name has every word first. When such names are rare among the
newest products (a word common in descriptions), they are all found through this index instead
of ranking every match (see `ProductRepository._walk_behind_names`). PostgreSQL only; the
expression must stay the one the repository queries with (`_NAME_VECTOR`).
"""
from collections.abc import Sequence

from alembic import op
from atelier_common.db import on_postgres

revision: str = "catalog_0006"
down_revision: str | None = "catalog_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if on_postgres(op.get_bind()):
        op.execute("CREATE INDEX ix_product_name_search ON product USING gin (to_tsvector('english'::regconfig, name))")


def downgrade() -> None:
    if on_postgres(op.get_bind()):
        op.drop_index("ix_product_name_search", table_name="product")
