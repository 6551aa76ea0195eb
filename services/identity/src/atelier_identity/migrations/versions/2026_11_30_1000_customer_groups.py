"""Customer groups as data: `customer_group`, `customer_group_member`; business customers kept

Revision ID: identity_0019
Revises: identity_0018
Create Date: 2026-11-30 10:00

Before this, a customer with a company name was signed into the `business` group on every
storefront (the token named no storefront), so anyone could reach business prices by typing a
company name. From now on staff assign groups (docs/api.md#customer-groups). Nobody who paid
business prices loses them silently: when any customer has a company name, every storefront (the
default and each stored one) gets a `business` group, "Business", and each such customer (staff
excepted: they were in no group) becomes its member on every storefront — exactly the prices they
paid before. Staff then review the members and remove whom they do not vouch for. Each group made
here is announced (`customer_group.changed`, an outbox row) so catalog's copy knows it.
"""
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "identity_0019"
down_revision: str | None = "identity_0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
USER = sa.table("user", sa.column("id", sa.Uuid()), sa.column("company_name", sa.String()),
                sa.column("staff_roles", JSON))
STOREFRONT = sa.table("storefront", sa.column("slug", sa.String()))
GROUP = sa.table("customer_group", sa.column("id", sa.Uuid()), sa.column("storefront", sa.String()),
                 sa.column("code", sa.String()), sa.column("name", sa.String()), sa.column("revision", sa.BigInteger()),
                 sa.column("created_at", sa.DateTime(timezone=True)), sa.column("updated_at", sa.DateTime(timezone=True)))
MEMBER = sa.table("customer_group_member", sa.column("user_id", sa.Uuid()), sa.column("storefront", sa.String()),
                  sa.column("group_id", sa.Uuid()), sa.column("created_at", sa.DateTime(timezone=True)))
OUTBOX = sa.table("outbox", sa.column("id", sa.Uuid()), sa.column("type", sa.String()),
                  sa.column("version", sa.Integer()), sa.column("producer", sa.String()),
                  sa.column("occurred_at", sa.DateTime(timezone=True)), sa.column("data", sa.JSON()),
                  sa.column("attempts", sa.Integer()))


def upgrade() -> None:
    op.create_table(
        "customer_group",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("storefront", sa.String(64), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("storefront", "code", name="uq_customer_group_storefront_code"),
    )
    op.create_table(
        "customer_group_member",
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("storefront", sa.String(64), primary_key=True),
        sa.Column("group_id", sa.Uuid(), sa.ForeignKey("customer_group.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_customer_group_member_group_id", "customer_group_member", ["group_id", "created_at"])
    _keep_business_customers()


def _keep_business_customers() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(USER.c.id, USER.c.staff_roles).where(
        sa.func.length(sa.func.trim(sa.func.coalesce(USER.c.company_name, ""))) > 0)).all()
    # Staff read the catalog at its own prices: they were in no group.
    customers = [user_id for user_id, roles in rows if not roles]
    if not customers:
        return
    now = datetime.now(UTC)
    revision = time.time_ns() // 1000
    slugs = sorted({"default", *conn.execute(sa.select(STOREFRONT.c.slug)).scalars()})
    for slug in slugs:
        group_id = uuid.uuid4()
        conn.execute(sa.insert(GROUP).values(id=group_id, storefront=slug, code="business", name="Business",
                                                   revision=revision, created_at=now, updated_at=now))
        conn.execute(sa.insert(MEMBER), [
            {"user_id": user_id, "storefront": slug, "group_id": group_id, "created_at": now} for user_id in customers])
        # What `outbox.add(CustomerGroupChanged(...))` writes: catalog's copy hears of the group.
        conn.execute(sa.insert(OUTBOX).values(
            id=uuid.uuid4(), type="customer_group.changed", version=1, producer="identity", occurred_at=now,
            data={"storefront": slug, "code": "business", "name": "Business", "revision": revision}, attempts=0))


def downgrade() -> None:
    op.drop_table("customer_group_member")
    op.drop_table("customer_group")
