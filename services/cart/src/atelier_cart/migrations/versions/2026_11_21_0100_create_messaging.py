"""outbox and inbox of the cart database

Revision ID: cart_0001
Revises:
Create Date: 2026-11-21 01:00
"""
from collections.abc import Sequence

from atelier_common.migrations import create_messaging_tables, drop_messaging_tables

revision: str = "cart_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_messaging_tables()


def downgrade() -> None:
    drop_messaging_tables()
