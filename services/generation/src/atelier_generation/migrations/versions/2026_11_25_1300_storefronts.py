"""Storefronts: the storefront of jobs, restorations, books, credit transactions, retry
packs and subscriptions, and the storefronts a credit pack is sold on

Every existing row belongs to the default storefront; every credit pack known so far is sold on
every storefront (catalog's next announcement of it says otherwise). Wallets stay per account.

Revision ID: generation_0008
Revises: generation_0007
Create Date: 2026-11-25 13:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "generation_0008"
down_revision: str | None = "generation_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LABELLED = ("generation_job", "restoration", "book", "credit_transaction", "retry_pack", "subscription")


def upgrade() -> None:
    for table in _LABELLED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("storefront", sa.String(64), nullable=False, server_default="default"))
    with op.batch_alter_table("credit_pack") as batch:
        batch.add_column(sa.Column("storefronts", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                                   nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table("credit_pack") as batch:
        batch.drop_column("storefronts")
    for table in reversed(_LABELLED):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("storefront")
