"""storybooks (S0): books, their items (characters, cover, pages), versions, retry packs

Revision ID: generation_0003
Revises: generation_0002
Create Date: 2026-11-22 14:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "generation_0003"
down_revision: str | None = "generation_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _text(name: str) -> sa.Column:
    return sa.Column(name, sa.Text(), nullable=False, server_default="")


def _job_kinds(kinds: str) -> None:
    # Batch mode: SQLite changes a CHECK by copying the table (migrations run without foreign keys).
    with op.batch_alter_table("generation_job", recreate="auto") as batch:
        batch.drop_constraint("ck_generation_job_kind", type_="check")
        batch.create_check_constraint("ck_generation_job_kind", f"kind IN ({kinds})")


def upgrade() -> None:
    _job_kinds("'image', 'restoration', 'storybook'")
    op.create_table(
        "book",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        _text("description"),
        sa.Column("age_range", sa.String(20), nullable=False),
        sa.Column("style", sa.String(100), nullable=False),
        sa.Column("language", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("print_tier", sa.String(100), nullable=True),
        sa.Column("print_retries", sa.Integer(), nullable=True),
        sa.Column("print_order_id", sa.Uuid(), nullable=True),
        _timestamp("print_paid_at", nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
    )
    op.create_index("ix_book_owner_created", "book", ["owner_id", "created_at"])
    op.create_table(
        "book_item",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("book_id", sa.Uuid(), sa.ForeignKey("book.id", ondelete="CASCADE", name="fk_book_item_book_id"),
                  nullable=False),
        sa.Column("content_type", sa.String(20), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        _text("description"),
        sa.Column("traits", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        _text("text"),
        _text("illustration_prompt"),
        sa.Column("selected_version_id", sa.Uuid(), nullable=True),
        sa.Column("versions_made", sa.Integer(), nullable=False),
        sa.Column("retries_used", sa.Integer(), nullable=False),
        sa.Column("retries_extra", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.UniqueConstraint("book_id", "content_type", "number", name="uq_book_item_book_type_number"),
        sa.CheckConstraint("content_type IN ('CHARACTER', 'COVER', 'PAGE')", name="ck_book_item_content_type"),
        sa.CheckConstraint("retries_used >= 0", name="ck_book_item_retries_used_non_negative"),
    )
    op.create_table(
        "book_item_version",
        sa.Column("id", sa.Uuid(), sa.ForeignKey("generation_job.id", ondelete="CASCADE",
                                                 name="fk_book_item_version_job_id"), primary_key=True),
        sa.Column("item_id", sa.Uuid(), sa.ForeignKey("book_item.id", ondelete="CASCADE",
                                                      name="fk_book_item_version_item_id"), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("spent_retry", sa.Boolean(), nullable=False),
        sa.Column("image_key", sa.String(300), nullable=True),
        sa.Column("thumbnail_key", sa.String(300), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        _timestamp("created_at"),
        sa.UniqueConstraint("item_id", "version_number", name="uq_book_item_version_number"),
    )
    op.create_table(
        "retry_pack",
        sa.Column("order_id", sa.Uuid(), primary_key=True),
        sa.Column("product_id", sa.Uuid(), primary_key=True),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("target_type", sa.String(20), nullable=True),
        sa.Column("target_id", sa.Uuid(), nullable=True),
        sa.Column("applied_item_id", sa.Uuid(), nullable=True),
        _timestamp("applied_at", nullable=True),
        _timestamp("created_at"),
    )
    op.create_index("ix_retry_pack_owner", "retry_pack", ["owner_id"])


def downgrade() -> None:
    op.drop_table("retry_pack")
    op.drop_table("book_item_version")
    op.drop_table("book_item")
    op.drop_table("book")
    op.execute("DELETE FROM generation_job WHERE kind = 'storybook'")
    _job_kinds("'image', 'restoration'")
