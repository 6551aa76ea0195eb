"""credits, subscriptions, credit packs, jobs, images, restorations and share unlocks

Revision ID: generation_0002
Revises: generation_0001
Create Date: 2026-11-21 01:30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "generation_0002"
down_revision: str | None = "generation_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "credit_wallet",
        sa.Column("owner_id", sa.Uuid(), primary_key=True),
        sa.Column("balance", sa.Integer(), nullable=False),
        _timestamp("updated_at"),
        sa.CheckConstraint("balance >= 0", name="ck_credit_wallet_balance_non_negative"),
    )
    op.create_table(
        "credit_transaction",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("reference_id", sa.Uuid(), nullable=True),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column("description", sa.String(200), nullable=False),
        _timestamp("created_at"),
        sa.UniqueConstraint("order_id", "product_id", name="uq_credit_transaction_order_product"),
    )
    op.create_index("ix_credit_transaction_owner_created", "credit_transaction", ["owner_id", "created_at"])
    op.create_table(
        "credit_pack",
        sa.Column("product_id", sa.Uuid(), primary_key=True),
        sa.Column("sku", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("price", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        _timestamp("updated_at"),
    )
    op.create_table(
        "subscription",
        sa.Column("user_id", sa.Uuid(), primary_key=True),
        sa.Column("plan_sku", sa.String(100), nullable=True),
        sa.Column("tier", sa.String(50), nullable=True),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("monthly_quota", sa.Integer(), nullable=False),
        _timestamp("current_period_end", nullable=True),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        sa.Column("quota_used", sa.Integer(), nullable=False),
        _timestamp("quota_period_end", nullable=True),
        _timestamp("source_occurred_at"),
        _timestamp("updated_at"),
    )
    op.create_table(
        "generation_job",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("model", sa.String(50), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False, server_default=""),
        sa.Column("filters", _json(), nullable=False),
        sa.Column("batch_size", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("credits_charged", sa.Integer(), nullable=False),
        sa.Column("quota_charged", sa.Integer(), nullable=False),
        _timestamp("quota_period_end", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(500), nullable=True),
        _timestamp("created_at"),
        _timestamp("started_at", nullable=True),
        _timestamp("finished_at", nullable=True),
        _timestamp("heartbeat_at"),
        sa.CheckConstraint("kind IN ('image', 'restoration')", name="ck_generation_job_kind"),
        sa.CheckConstraint("status IN ('queued', 'running', 'completed', 'failed')", name="ck_generation_job_status"),
    )
    op.create_index("ix_generation_job_owner_created", "generation_job", ["owner_id", "created_at"])
    op.create_index("ix_generation_job_status_heartbeat", "generation_job", ["status", "heartbeat_at"])
    op.create_table(
        "generated_image",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("job_id", sa.Uuid(), sa.ForeignKey("generation_job.id", ondelete="CASCADE",
                                                     name="fk_generated_image_job_id"), nullable=False),
        sa.Column("model", sa.String(50), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False, server_default=""),
        sa.Column("filters", _json(), nullable=False),
        sa.Column("storage_key", sa.String(300), nullable=False),
        sa.Column("thumbnail_key", sa.String(300), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("is_premium", sa.Boolean(), nullable=False),
        _timestamp("created_at"),
    )
    op.create_index("ix_generated_image_owner_created", "generated_image", ["owner_id", "created_at"])
    op.create_index("ix_generated_image_public_created", "generated_image", ["is_public", "created_at"])
    op.create_index("ix_generated_image_job", "generated_image", ["job_id"])
    op.create_table(
        "image_tag",
        sa.Column("image_id", sa.Uuid(), sa.ForeignKey("generated_image.id", ondelete="CASCADE",
                                                       name="fk_image_tag_image_id"), primary_key=True),
        sa.Column("tag", sa.String(64), primary_key=True),
    )
    op.create_index("ix_image_tag_tag", "image_tag", ["tag", "image_id"])
    op.create_table(
        "image_favorite",
        sa.Column("owner_id", sa.Uuid(), primary_key=True),
        sa.Column("image_id", sa.Uuid(), sa.ForeignKey("generated_image.id", ondelete="CASCADE",
                                                       name="fk_image_favorite_image_id"), primary_key=True),
        _timestamp("created_at"),
    )
    op.create_index("ix_image_favorite_owner_created", "image_favorite", ["owner_id", "created_at"])
    op.create_table(
        "restoration",
        sa.Column("id", sa.Uuid(), sa.ForeignKey("generation_job.id", ondelete="CASCADE",
                                                 name="fk_restoration_job_id"), primary_key=True),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("original_key", sa.String(300), nullable=False),
        sa.Column("original_format", sa.String(10), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("preview_key", sa.String(300), nullable=True),
        sa.Column("full_key", sa.String(300), nullable=True),
        sa.Column("unlock_method", sa.String(20), nullable=True),
        _timestamp("unlocked_at", nullable=True),
        _timestamp("expires_at"),
        _timestamp("created_at"),
    )
    op.create_index("ix_restoration_owner_expires", "restoration", ["owner_id", "expires_at"])
    op.create_table(
        "share_unlock",
        sa.Column("user_id", sa.Uuid(), primary_key=True),
        sa.Column("restoration_id", sa.Uuid(), nullable=False),
        _timestamp("initiated_at"),
        _timestamp("redirected_at", nullable=True),
        sa.Column("platform", sa.String(20), nullable=True),
        _timestamp("used_at", nullable=True),
    )


def downgrade() -> None:
    for table in ("share_unlock", "restoration", "image_favorite", "image_tag", "generated_image",
                  "generation_job", "subscription", "credit_pack", "credit_transaction", "credit_wallet"):
        op.drop_table(table)
