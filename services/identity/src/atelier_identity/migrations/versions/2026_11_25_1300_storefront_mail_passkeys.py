"""Storefronts: each mail's sender, each passkey's (and challenge's) relying party, and the
storefront an OAuth sign-in started on

Mail queued before keeps no sender (the `mail_from` setting sends it); existing passkeys and
challenges belong to the default relying party (`webauthn_rp_id`'s default), sign-ins in progress
to the default storefront.

Revision ID: identity_0008
Revises: identity_0007
Create Date: 2026-11-25 13:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "identity_0008"
down_revision: str | None = "identity_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_RP_ID = "localhost"


def upgrade() -> None:
    with op.batch_alter_table("mail_message") as batch:
        batch.add_column(sa.Column("sender", sa.String(320), nullable=True))
    with op.batch_alter_table("passkey") as batch:
        batch.add_column(sa.Column("rp_id", sa.String(253), nullable=False, server_default=DEFAULT_RP_ID))
    with op.batch_alter_table("webauthn_challenge") as batch:
        batch.add_column(sa.Column("rp_id", sa.String(253), nullable=False, server_default=DEFAULT_RP_ID))
    with op.batch_alter_table("oauth_state") as batch:
        batch.add_column(sa.Column("storefront", sa.String(64), nullable=False, server_default="default"))


def downgrade() -> None:
    with op.batch_alter_table("oauth_state") as batch:
        batch.drop_column("storefront")
    with op.batch_alter_table("webauthn_challenge") as batch:
        batch.drop_column("rp_id")
    with op.batch_alter_table("passkey") as batch:
        batch.drop_column("rp_id")
    with op.batch_alter_table("mail_message") as batch:
        batch.drop_column("sender")
