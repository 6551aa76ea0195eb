"""indexes of the housekeeping sweeps: inbox, single-use secrets, refresh tokens, given-up mail

Revision ID: identity_0006
Revises: identity_0005
Create Date: 2026-11-22 19:30

Each sweep deletes a range of these (`… < cut-off`, or used / revoked / given-up rows, indexed
partially since each pass deletes them); without them every pass read the whole table.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from atelier_common.migrations import create_inbox_sweep_index, drop_inbox_sweep_index

revision: str = "identity_0006"
down_revision: str | None = "identity_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SINGLE_USE = ("email_token", "magic_link", "oauth_state", "webauthn_challenge")


def _partial(name: str, table: str, column: str) -> None:
    where = sa.text(f"{column} IS NOT NULL")
    op.create_index(name, table, [column], postgresql_where=where, sqlite_where=where)


def upgrade() -> None:
    create_inbox_sweep_index()
    for table in SINGLE_USE:
        op.create_index(f"ix_{table}_expires_at", table, ["expires_at"])
        _partial(f"ix_{table}_used", table, "used_at")
    op.create_index("ix_refresh_token_expires_at", "refresh_token", ["expires_at"])
    _partial("ix_refresh_token_revoked_at", "refresh_token", "revoked_at")
    _partial("ix_mail_message_failed_at", "mail_message", "failed_at")


def downgrade() -> None:
    op.drop_index("ix_mail_message_failed_at", table_name="mail_message")
    op.drop_index("ix_refresh_token_revoked_at", table_name="refresh_token")
    op.drop_index("ix_refresh_token_expires_at", table_name="refresh_token")
    for table in SINGLE_USE:
        op.drop_index(f"ix_{table}_used", table_name=table)
        op.drop_index(f"ix_{table}_expires_at", table_name=table)
    drop_inbox_sweep_index()
