"""A customer's tax number, kept for invoices: user.tax_number

Revision ID: identity_0020
Revises: identity_0019
Create Date: 2026-11-30 15:00

Nobody has given one yet: every row stays NULL (orders' invoices print the number given at
checkout, as before).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "identity_0020"
down_revision: str | None = "identity_0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("user", sa.Column("tax_number", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.drop_column("tax_number")
