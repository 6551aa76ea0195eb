"""`GET /api/v1/storefront` (the request's storefront, public), identity's own copy of the
storefronts (read from its table, kept current by its events), and the demo seed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlmodel import col, select

from atelier_common.outbox import OutboxMessage
from atelier_identity.demo import seed_demo_storefronts
from atelier_identity.models import StorefrontRecord
from atelier_testing.storefronts import on_storefront

URL = "/api/v1/storefronts"


def storefront(slug: str = "b", **overrides: Any) -> dict[str, Any]:
    origin = f"https://{slug}.example"
    return {"slug": slug, "name": f"Storefront {slug.upper()}", "origins": [origin], "frontend_url": origin,
            "currency": "EUR", "tax": {"rate": "0.20", "inclusive": False}, "sells": ["physical", "credit_pack"],
            "passkey": {"rp_id": f"{slug}.example", "origins": [origin]}, **overrides}


async def rows(api) -> dict[str, StorefrontRecord]:
    async with api.h.runtime.db.read_only() as session:
        return {row.slug: row for row in (await session.exec(select(StorefrontRecord))).all()}


async def changed_events(api) -> list[OutboxMessage]:
    async with api.h.runtime.db.read_only() as session:
        stmt = select(OutboxMessage).where(col(OutboxMessage.type) == "storefront.changed")
        return list((await session.exec(stmt)).all())


class TestCurrentStorefront:
    async def test_without_a_header_it_is_the_default(self, api) -> None:
        response = await api.client.get("/api/v1/storefront")
        assert response.status_code == 200, response.text
        settings = api.h.runtime.settings
        assert response.json() == {
            "slug": "default", "name": "Atelier", "currency": settings.default_currency,
            "tax": {"rate": str(settings.tax_rate), "inclusive": False, "tax_rates": {}},
            "sells": ["physical", "credit_pack", "retry_pack", "subscription_plan", "print_tier",
                      "gift_card"],
            "auth_methods": ["password", "magic_link", "passkey"], "guest_accounts": "offer",
            "locales": ["en"], "default_locale": "en"}

    async def test_a_storefront_created_a_moment_ago_answers_after_its_event(self, api, staff) -> None:
        created = await api.client.post(URL, json=storefront(
            "b", tax={"rate": "0.20", "tax_rates": {"reduced": "0.055"}}), headers=staff)
        assert created.status_code == 201, created.text
        await api.h.drain()
        assert api.h.runtime.storefronts.known("b") is not None  # the broadcast event, not a reload
        response = await api.client.get("/api/v1/storefront", headers=on_storefront("b"))
        assert response.status_code == 200, response.text
        assert response.json() == {"slug": "b", "name": "Storefront B", "currency": "EUR",
                                   "tax": {"rate": "0.20", "inclusive": False, "tax_rates": {"reduced": "0.055"}},
                                   "sells": ["physical", "credit_pack"], "auth_methods": ["password", "magic_link", "passkey"],
                                   "guest_accounts": "offer", "locales": ["en"], "default_locale": "en"}

    async def test_a_change_reaches_identity_s_copy(self, api, staff) -> None:
        await api.client.post(URL, json=storefront("b"), headers=staff)
        await api.h.drain()
        patched = await api.client.patch(f"{URL}/b", json={"name": "Bee", "passkey": None}, headers=staff)
        assert patched.status_code == 200, patched.text
        await api.h.drain()
        body = (await api.client.get("/api/v1/storefront", headers=on_storefront("b"))).json()
        assert body["name"] == "Bee" and body["auth_methods"] == ["password", "magic_link"]
        assert (await api.client.delete(f"{URL}/b", headers=staff)).status_code == 204
        await api.h.drain()
        response = await api.client.get("/api/v1/storefront", headers=on_storefront("b"))
        assert response.status_code == 400 and response.json()["error"]["code"] == "UNKNOWN_STOREFRONT"

    async def test_google_is_offered_when_configured(self, start_identity) -> None:
        async with start_identity(oauth_google_client_id="client-id", oauth_google_client_secret="secret") as api:
            body = (await api.client.get("/api/v1/storefront")).json()
            assert body["auth_methods"] == ["password", "magic_link", "passkey", "google"]

    async def test_an_unknown_storefront_is_400(self, api, expect_error) -> None:
        expect_error(await api.client.get("/api/v1/storefront", headers=on_storefront("nope")), 400,
                     "UNKNOWN_STOREFRONT")

    async def test_a_new_default_answers_requests_without_a_header(self, api, staff) -> None:
        await api.client.post(URL, json=storefront("c", is_default=True), headers=staff)
        await api.h.drain()
        assert (await api.client.get("/api/v1/storefront")).json()["slug"] == "c"
        assert (await api.client.get("/api/v1/storefront", headers=on_storefront("default"))).json()["slug"] == \
            "default"


class TestIdentityCopy:
    async def test_a_restart_loads_the_storefronts_from_the_table(self, start_identity, test_keys) -> None:
        async with start_identity() as api:
            response = await api.client.post(URL, json=storefront("b"), headers=test_keys.staff_headers())
            assert response.status_code == 201
        async with start_identity() as api:  # no event heard by this process: its loader reads the table
            response = await api.client.get("/api/v1/storefront", headers=on_storefront("b"))
            assert response.status_code == 200 and response.json()["slug"] == "b"
            assert [s.slug for s in api.h.runtime.storefronts.all()] == ["default", "b"]

    async def test_the_loader_synthesizes_the_default_only_while_it_has_no_row(self, api, staff) -> None:
        load = api.h.app.state.runtime.spec.storefront_loader(api.h.runtime)
        assert [(s.slug, s.is_default, s.revision) for s in await load()] == [("default", True, 0)]
        await api.client.post(URL, json=storefront("c", is_default=True), headers=staff)
        loaded = await load()
        assert [(s.slug, s.is_default) for s in loaded] == [("c", True), ("default", False)]
        assert all(s.revision > 0 for s in loaded)


# Each one's origin is where its real frontend runs unconfigured (mycomics: 127.0.0.1, beside Marbelle).
DEMO = {
    "storybook": ("Storybook", "GEL", {"rate": "0", "inclusive": True, "shipping_rate": None, "shipping_taxed": False, "tax_rates": {}},
                  ["print_tier", "retry_pack"], "http://127.0.0.1:3000"),
    "marbelle": ("Marbelle", "USD", {"rate": "0.09", "inclusive": False, "shipping_rate": None, "shipping_taxed": False, "tax_rates": {}}, ["physical"],
                 "http://localhost:3000"),
    "reviv": ("reviv.pics", "USD", {"rate": "0", "inclusive": True, "shipping_rate": None, "shipping_taxed": False, "tax_rates": {}}, ["credit_pack"],
              "http://localhost:3103"),
    "shop": ("Shop", "USD", {"rate": "0.10", "inclusive": False, "shipping_rate": "5.00", "shipping_taxed": False, "tax_rates": {}}, ["physical"],
             "http://localhost:3104"),
    "figureforge": ("FigureForge", "USD", {"rate": "0", "inclusive": True, "shipping_rate": None, "shipping_taxed": False, "tax_rates": {}},
                    ["credit_pack", "subscription_plan"], "http://localhost:5173"),
}


class TestDemoSeed:
    async def test_off_by_default(self, api) -> None:
        assert await rows(api) == {}

    async def test_creates_the_five_demo_storefronts_beside_the_default(self, start_identity, test_keys) -> None:
        async with start_identity(seed_demo_storefronts=True) as api:
            stored = await rows(api)
            assert set(stored) == set(DEMO)
            for slug, (name, currency, tax, sells, origin) in DEMO.items():
                data = stored[slug].data
                assert (data["name"], data["currency"], data["tax"], data["sells"]) == (name, currency, tax, sells)
                assert data["origins"] == [origin] and data["frontend_url"] == origin
                assert data["compat_profile"] == slug
                assert data["compat_at_root"] is (slug not in ("reviv", "shop"))  # no runnable frontend
                assert data["is_default"] is False
                # A passkey's relying party is a host name: none on 127.0.0.1.
                passkey = None if "127.0.0.1" in origin else {"rp_id": "localhost", "origins": [origin]}
                assert data["passkey"] == passkey
                assert data["mail_from"] == f"{name} <no-reply@{slug}.example>"
                # S0 (mycomics) registered every paying guest; the others keep guests guests unless asked.
                assert data["guest_accounts"] == ("create" if slug == "storybook" else "offer")
            assert sorted(e.data["storefront"]["slug"] for e in await changed_events(api)) == sorted(DEMO)
            await api.h.drain()
            default = await api.client.get("/api/v1/storefront")
            assert default.json()["slug"] == "default"
            marbelle = (await api.client.get("/api/v1/storefront", headers=on_storefront("marbelle"))).json()
            assert marbelle["currency"] == "USD" and marbelle["tax"] == {"rate": "0.09", "inclusive": False, "tax_rates": {}}
            # FigureForge's real frontend: its magic-link page reads ?code=&email=; it has no checkout pages.
            figureforge = stored["figureforge"].data
            assert figureforge["link_paths"]["magic_link"] == "/auth/magic-link?code={code}&email={email}"
            assert figureforge["link_paths"]["reset_password"] == "/reset-password?token={token}"  # the default kept
            assert (figureforge["success_url"], figureforge["cancel_url"]) == (
                "http://localhost:5173/account", "http://localhost:5173/pricing")
            # Marbelle's business group, which catalog's demo price list names (empty: staff put customers in).
            groups = (await api.client.get("/api/v1/staff/customer-groups", headers=test_keys.staff_headers())).json()
            assert [(g["storefront"], g["code"], g["members"]) for g in groups["results"]] == [("marbelle", "business", 0)]

    async def test_a_restart_creates_nothing_more(self, start_identity, test_keys) -> None:
        async with start_identity(seed_demo_storefronts=True) as api:
            first = {slug: row.revision for slug, row in (await rows(api)).items()}
            # Staff change one; the seed must not put it back.
            await api.client.patch(f"{URL}/shop", json={"name": "My Shop"}, headers=test_keys.staff_headers())
        async with start_identity(seed_demo_storefronts=True) as api:
            stored = await rows(api)
            assert set(stored) == set(first) and stored["shop"].data["name"] == "My Shop"
            assert all(stored[slug].revision == first[slug] for slug in first if slug != "shop")
            assert len(await changed_events(api)) == len(DEMO) + 1

    @pytest.mark.databases("sqlite", "postgres", why="parallel requests against the database's locks")
    async def test_two_processes_seeding_at_once_create_each_one_once(self, api) -> None:
        runtime = api.h.runtime
        runtime.settings.__dict__["seed_demo_storefronts"] = True  # as a second process starting would
        await asyncio.gather(seed_demo_storefronts(runtime), seed_demo_storefronts(runtime))
        assert set(await rows(api)) == set(DEMO)
        assert len(await changed_events(api)) == len(DEMO)

    async def test_a_demo_origin_staff_already_gave_another_storefront_is_skipped(self, start_identity,
                                                                                  test_keys) -> None:
        async with start_identity() as api:
            mine = storefront("mine", origins=["http://localhost:3000"], passkey=None)
            assert (await api.client.post(URL, json=mine, headers=test_keys.staff_headers())).status_code == 201
        async with start_identity(seed_demo_storefronts=True) as api:
            assert set(await rows(api)) == (set(DEMO) - {"marbelle"}) | {"mine"}
