"""Staff audit log: `staff_audit`, one row per staff write of any service

Revision ID: identity_0011
Revises: identity_0010
Create Date: 2026-11-25 15:10
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB


revision: str = "identity_0011"
down_revision: str | None = "identity_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "staff_audit",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=False),
        sa.Column("actor_email", sa.String(320), nullable=True),
        sa.Column("actor_roles", JSON, nullable=False),
        sa.Column("service", sa.String(32), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_type", sa.String(32), nullable=False),
        sa.Column("target_id", sa.String(128), nullable=False),
        sa.Column("before", JSON, nullable=True),
        sa.Column("after", JSON, nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
    )
    op.create_index("ix_staff_audit_at", "staff_audit", ["at"])
    op.create_index("ix_staff_audit_actor_id_at", "staff_audit", ["actor_id", "at"])
    op.create_index("ix_staff_audit_action_at", "staff_audit", ["action", "at"])
    op.create_index("ix_staff_audit_target", "staff_audit", ["target_type", "target_id"])


def downgrade() -> None:
    op.drop_table("staff_audit")
