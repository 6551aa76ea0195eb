"""identity_0019: customers who paid business prices (a company name) keep them, as members of a
`business` group on every storefront, announced to catalog; staff stay out; nobody else joins."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from atelier_common.migrations import upgrade

from .test_storefront_guest_accounts import MIGRATIONS


def test_the_migration_keeps_business_customers_in_a_business_group(empty_database: str) -> None:
    url = empty_database.replace("sqlite://", "sqlite+aiosqlite://", 1)
    upgrade(MIGRATIONS, url, "identity_0018")
    engine = sa.create_engine(empty_database)
    user = sa.table("user", *(sa.column(name) for name in (
        "email", "first_name", "last_name", "company_name", "is_staff", "is_active", "signup_storefront",
        "created_at", "updated_at")), sa.column("id", sa.Uuid()), sa.column("staff_roles", sa.JSON()))
    storefront = sa.table("storefront", sa.column("slug"), sa.column("data", sa.JSON()), sa.column("revision"),
                          sa.column("created_at"), sa.column("updated_at"))
    now = sa.func.current_timestamp()
    ids = {name: uuid.uuid4() for name in ("company", "blank", "none", "staff")}
    with engine.begin() as conn:
        conn.execute(storefront.insert().values(slug="marbelle", data={"slug": "marbelle"}, revision=1,
                                                created_at=now, updated_at=now))
        for name, company, roles in (("company", "Stone Works Ltd", []), ("blank", "  ", []), ("none", None, []),
                                     ("staff", "Atelier", ["support"])):
            conn.execute(user.insert().values(
                id=ids[name], email=f"{name}@example.com", first_name=name, last_name="", company_name=company,
                is_staff=bool(roles), staff_roles=roles, is_active=True, signup_storefront="default",
                created_at=now, updated_at=now))
    upgrade(MIGRATIONS, url)
    group = sa.table("customer_group", sa.column("id", sa.Uuid()), sa.column("storefront"), sa.column("code"))
    member = sa.table("customer_group_member", sa.column("user_id", sa.Uuid()), sa.column("group_id", sa.Uuid()))
    outbox = sa.table("outbox", sa.column("type"), sa.column("data", sa.JSON()))
    with engine.connect() as conn:
        groups = {row.id: (row.storefront, row.code) for row in conn.execute(sa.select(group))}
        members = sorted((groups[row.group_id], row.user_id) for row in conn.execute(sa.select(member)))
        announced = sorted((row.data["storefront"], row.data["code"]) for row in conn.execute(
            sa.select(outbox).where(outbox.c.type == "customer_group.changed")))
    engine.dispose()
    assert sorted(groups.values()) == [("default", "business"), ("marbelle", "business")]
    assert members == [(("default", "business"), ids["company"]), (("marbelle", "business"), ids["company"])]
    assert announced == sorted(groups.values())
