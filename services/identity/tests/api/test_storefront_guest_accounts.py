"""A storefront's guest accounts (docs/storefronts.md#guest-accounts): whether a guest's paid order
registers its buyer — "create", "offer" (the default) or "never". Staff set it on create and PATCH,
identity stores it in the storefront's record and its event carries it to every copy (orders decides
by it when an order is placed); the public storefront shows it to a checkout page; an unknown value is
a 400 in the common error format that changes nothing. A record stored before it existed reads as the
default, except a storybook storefront's, which its migration keeps registering."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

import atelier_identity
from atelier_common.contracts.identity import Storefront
from atelier_common.migrations import upgrade
from atelier_testing.storefronts import on_storefront

from .test_storefronts import URL, create, outbox_events, rows, storefront

MIGRATIONS = Path(atelier_identity.__file__).parent / "migrations"


class TestThePolicy:
    async def test_a_new_storefront_offers(self, api, staff) -> None:
        body = await create(api, staff)
        assert body["guest_accounts"] == "offer"
        assert (await rows(api))["b"].data["guest_accounts"] == "offer"
        await api.h.drain()
        public = (await api.client.get("/api/v1/storefront", headers=on_storefront("b"))).json()
        assert public["guest_accounts"] == "offer"

    @pytest.mark.parametrize("policy", ["create", "offer", "never"])
    async def test_each_value_is_stored_announced_and_shown(self, api, staff, policy: str) -> None:
        body = await create(api, staff, guest_accounts=policy)
        assert body["guest_accounts"] == policy
        assert (await rows(api))["b"].data["guest_accounts"] == policy
        [event] = await outbox_events(api)
        assert event.data["storefront"]["guest_accounts"] == policy
        assert (await api.client.get(f"{URL}/b", headers=staff)).json()["guest_accounts"] == policy
        await api.h.drain()
        public = (await api.client.get("/api/v1/storefront", headers=on_storefront("b"))).json()
        assert public["guest_accounts"] == policy

    async def test_a_patch_changes_it_and_nothing_else(self, api, staff) -> None:
        before = await create(api, staff, guest_accounts="create")
        patched = await api.client.patch(f"{URL}/b", json={"guest_accounts": "never"}, headers=staff)
        assert patched.status_code == 200, patched.text
        after = patched.json()
        assert after["guest_accounts"] == "never"
        assert {k: v for k, v in after.items() if k not in ("guest_accounts", "revision")} == \
            {k: v for k, v in before.items() if k not in ("guest_accounts", "revision")}
        # A PATCH that does not name it keeps it.
        renamed = await api.client.patch(f"{URL}/b", json={"name": "Bee"}, headers=staff)
        assert renamed.json()["guest_accounts"] == "never"

    async def test_the_default_storefront_offers_until_staff_change_it(self, api, staff) -> None:
        assert (await api.client.get(f"{URL}/default", headers=staff)).json()["guest_accounts"] == "offer"
        patched = await api.client.patch(f"{URL}/default", json={"guest_accounts": "create"}, headers=staff)
        assert patched.status_code == 200, patched.text
        assert (await rows(api))["default"].data["guest_accounts"] == "create"

    @pytest.mark.parametrize("value", ["sometimes", "CREATE", "", 1, True])
    async def test_an_unknown_value_is_400_and_changes_nothing(self, api, staff, expect_error, value) -> None:
        details = expect_error(await api.client.post(URL, json=storefront(guest_accounts=value), headers=staff),
                               400, "VALIDATION_ERROR")
        assert "guest_accounts" in details["fields"], details
        assert await rows(api) == {} and await outbox_events(api) == []
        await create(api, staff, guest_accounts="never")
        events = len(await outbox_events(api))
        details = expect_error(await api.client.patch(f"{URL}/b", json={"guest_accounts": value}, headers=staff),
                               400, "VALIDATION_ERROR")
        assert "guest_accounts" in details["fields"], details
        assert (await rows(api))["b"].data["guest_accounts"] == "never"
        assert len(await outbox_events(api)) == events

    async def test_null_is_refused_in_a_patch(self, api, staff, expect_error) -> None:
        await create(api, staff)
        details = expect_error(await api.client.patch(f"{URL}/b", json={"guest_accounts": None}, headers=staff),
                               400, "VALIDATION_ERROR")
        assert "guest_accounts" in details["fields"], details

    def test_a_record_stored_before_the_policy_reads_as_the_default(self) -> None:
        stored = {"slug": "b", "name": "B", "frontend_url": "https://b.example", "revision": 3}
        assert Storefront.model_validate(stored).guest_accounts == "offer"


def test_the_migration_keeps_a_stored_storybook_storefront_registering_its_guests(empty_database: str) -> None:
    """identity_0018: a storybook storefront stored before the policy says "create" (S0's product
    counts on it), with a newer revision; the others are left to the default."""
    upgrade(MIGRATIONS, empty_database.replace("sqlite://", "sqlite+aiosqlite://", 1), "identity_0017")
    engine = sa.create_engine(empty_database)
    table = sa.Table("storefront", sa.MetaData(), autoload_with=engine)
    now = sa.func.current_timestamp()

    def record(slug: str, **extra: object) -> dict[str, object]:
        return {"slug": slug, "name": slug, "frontend_url": f"https://{slug}.example", "revision": 5, **extra}

    with engine.begin() as conn:
        for data in (record("storybook", compat_profile="storybook"), record("marbelle", compat_profile="marbelle"),
                     record("mine", compat_profile="storybook", guest_accounts="never")):
            conn.execute(table.insert().values(slug=data["slug"], data=data, revision=5,
                                               created_at=now, updated_at=now))
    upgrade(MIGRATIONS, empty_database.replace("sqlite://", "sqlite+aiosqlite://", 1))  # identity_0018 on
    with engine.connect() as conn:
        stored = {slug: (data, revision)
                  for slug, data, revision in conn.execute(sa.select(table.c.slug, table.c.data, table.c.revision))}
    engine.dispose()
    storybook, revision = stored["storybook"]
    assert storybook["guest_accounts"] == "create" and revision > 5 and storybook["revision"] == revision
    assert Storefront.model_validate(storybook).guest_accounts == "create"
    assert stored["marbelle"] == (record("marbelle", compat_profile="marbelle"), 5)  # the default, "offer"
    assert stored["mine"] == (record("mine", compat_profile="storybook", guest_accounts="never"), 5)  # staff's choice
