"""Hosted model providers: a job's provider, request id, submit mark, latency, cost,
served model and reference images; the `blocked` status (refused by a provider's safety system)

Revision ID: generation_0010
Revises: generation_0009
Create Date: 2026-11-25 14:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "generation_0010"
down_revision: str | None = "generation_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUSES = "('queued', 'running', 'completed', 'failed', 'blocked')"
_OLD_STATUSES = "('queued', 'running', 'completed', 'failed')"


def upgrade() -> None:
    with op.batch_alter_table("generation_job") as batch:
        batch.add_column(sa.Column("served_model", sa.String(50), nullable=True))
        batch.add_column(sa.Column("provider", sa.String(32), nullable=True))
        batch.add_column(sa.Column("provider_model", sa.String(200), nullable=True))
        batch.add_column(sa.Column("provider_submitted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("provider_request_id", sa.String(200), nullable=True))
        batch.add_column(sa.Column("provider_latency_ms", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("provider_cost", sa.Numeric(12, 6), nullable=True))
        batch.add_column(sa.Column("reference_keys", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                                   nullable=False, server_default=sa.text("'[]'")))
        batch.drop_constraint("ck_generation_job_status", type_="check")
        batch.create_check_constraint("ck_generation_job_status", f"status IN {_STATUSES}")
        batch.create_index("ix_generation_job_provider_request", ["provider", "provider_request_id"])


def downgrade() -> None:
    # A blocked job was refunded like a failed one: it stays finished, as failed.
    op.execute("UPDATE generation_job SET status = 'failed' WHERE status = 'blocked'")
    with op.batch_alter_table("generation_job") as batch:
        batch.drop_index("ix_generation_job_provider_request")
        batch.drop_constraint("ck_generation_job_status", type_="check")
        batch.create_check_constraint("ck_generation_job_status", f"status IN {_OLD_STATUSES}")
        for column in ("reference_keys", "provider_cost", "provider_latency_ms", "provider_request_id",
                       "provider_submitted_at", "provider_model", "provider", "served_model"):
            batch.drop_column(column)
