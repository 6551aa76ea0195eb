"""A storefront's guest accounts: a stored storybook storefront keeps registering its paying guests

Revision ID: identity_0018
Revises: identity_0017
Create Date: 2026-11-29 12:00

`Storefront.guest_accounts` (docs/storefronts.md#guest-accounts) says whether a guest's paid order
registers its buyer; a record stored without it reads as the default, "offer" (only a buyer who asks).
A storefront serving the storybook profile (S0, mycomics) registered every paying guest, and that
product's frontend counts on it (its webhook "auto-registers from the delivery address"): its
stored record says "create" from now on, as the demo's new one does. Every other storefront takes
the default. The record's revision grows, as with any change of it.
"""
import time
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "identity_0018"
down_revision: str | None = "identity_0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STOREFRONT = sa.table("storefront", sa.column("slug", sa.String()),
                      sa.column("data", sa.JSON().with_variant(JSONB(), "postgresql")),
                      sa.column("revision", sa.BigInteger()))


def upgrade() -> None:
    conn = op.get_bind()
    for slug, data, current in conn.execute(sa.select(STOREFRONT.c.slug, STOREFRONT.c.data, STOREFRONT.c.revision)):
        if not isinstance(data, dict) or data.get("compat_profile") != "storybook" or "guest_accounts" in data:
            continue
        # `storefronts.next_revision`: past the one it replaces, so every copy takes the change.
        bumped = max(time.time_ns() // 1000, int(current or 0) + 1)
        conn.execute(sa.update(STOREFRONT).where(STOREFRONT.c.slug == slug).values(
            data={**data, "guest_accounts": "create", "revision": bumped}, revision=bumped))


def downgrade() -> None:
    """The field stays in the records: a version without it ignores it."""
