"""Demo data: seeded at start when the setting is on, and idempotent."""

from __future__ import annotations

from typing import Any

from sqlmodel import func, select

from atelier_catalog.app import create_app
from atelier_catalog.demo import seed_demo_data
from atelier_catalog.models import Category, Product, ProductVariant
from atelier_testing import RecordingBus, ServiceHarness
from atelier_testing.storefronts import add_storefront, make_storefront, on_storefront

from ..conftest import product_changed_events


async def _counts(harness: ServiceHarness) -> tuple[int, int, int]:
    async with harness.runtime.db.read_only() as session:
        return tuple([(await session.exec(select(func.count()).select_from(model))).one()  # type: ignore[return-value]  # a tuple of three counts, built from a list
                      for model in (Category, Product, ProductVariant)])


async def test_nothing_is_seeded_unless_asked(harness: ServiceHarness) -> None:
    assert await _counts(harness) == (0, 0, 0)


async def test_demo_catalog_is_seeded_at_start_and_seeding_again_changes_nothing(catalog_settings, test_keys) -> None:
    settings = catalog_settings.model_copy(update={"seed_demo_data": True})
    bus = RecordingBus()
    async with ServiceHarness(create_app(settings, bus=bus), bus) as harness:
        counts = await _counts(harness)
        events = len(await product_changed_events(harness))
        assert counts[0] >= 4 and counts[1] >= 10 and counts[2] >= 4 and events >= counts[1]

        pricing = (await harness.client.get("/api/v1/pricing")).json()
        offers = {o["sku"]: o for group in pricing.values() for o in group}
        assert (offers["PACK_5"]["price"], offers["PACK_5"]["currency"], offers["PACK_5"]["attributes"]) == (
            "4.99", "USD", {"credits": 5})
        assert offers["PACK_10"]["attributes"]["credits"] == 10
        assert (offers["RETRY_PACK_3"]["price"], offers["RETRY_PACK_3"]["currency"],
                offers["RETRY_PACK_3"]["attributes"]) == ("2.00", "GEL", {"retries": 3})
        assert {o["sku"] for o in pricing["subscription_plans"]} == {"pro_monthly", "studio_monthly"}
        assert {o["sku"] for o in pricing["print_tiers"]} == {"basic", "premium"}

        tree = (await harness.client.get("/api/v1/categories")).json()["results"]
        stone = next(c for c in tree if c["slug"] == "natural-stone")
        assert {"marble", "granite", "travertine"} <= {c["slug"] for c in stone["children"]}
        assert stone["product_count"] >= 5
        marble = (await harness.client.get("/api/v1/products?category=marble&search=carrara")).json()
        carrara = marble["results"][0]
        assert carrara["variants"] and carrara["images"][0]["is_primary"]

        # Marbelle's business customers have their price list, below the shelf prices.
        lists = (await harness.client.get("/api/v1/staff/price-lists", params={"storefront": "marbelle"},
                                          headers=test_keys.staff_headers("merchandiser"))).json()["results"]
        [business] = lists
        assert (business["name"], business["customer_group"], business["currency"]) == ("Business", "business", "USD")
        listed = {p["product_id"]: p["price"] for p in business["prices"] if p["variant_id"] is None}
        assert listed[carrara["id"]] == "76.95" and carrara["price"] == "85.50" and len(business["prices"]) == 6

        # a staff edit survives, and nothing is created or announced twice
        assert await seed_demo_data(harness.runtime.db, harness.runtime.context) == 0
        assert await _counts(harness) == counts
        assert len(await product_changed_events(harness)) == events

    # a restart of the app seeds nothing either
    bus = RecordingBus()
    async with ServiceHarness(create_app(settings, bus=bus), bus) as harness:
        assert await _counts(harness) == counts
        assert await product_changed_events(harness) == []


# The demo storefronts (identity seeds them; docs/storefronts.md): what each sells, in
# which currency.
SEED_STOREFRONTS = {"storybook": (["print_tier", "retry_pack"], "GEL"), "marbelle": (["physical"], "USD"),
                    "reviv": (["credit_pack"], "USD"), "shop": (["physical"], "USD"),
                    "figureforge": (["credit_pack", "subscription_plan"], "USD")}
STONES = {"CARR-WHITE-001", "CALA-GOLD-001", "NERO-MARQ-001", "ABS-BLACK-001", "KASH-WHITE-001", "TRAV-CLASSIC-001",
          "SEAL-PRO-1L"}


async def test_the_demo_is_spread_over_the_seed_storefronts_and_the_default_sees_it_all(catalog_settings,
                                                                                        test_keys) -> None:
    settings = catalog_settings.model_copy(update={"seed_demo_data": True})
    bus = RecordingBus()
    # Seeded at start, before the app knows any storefront but the default (identity not yet heard).
    async with ServiceHarness(create_app(settings, bus=bus), bus) as harness:
        for slug, (sells, currency) in SEED_STOREFRONTS.items():
            add_storefront(harness.app, make_storefront(slug, sells=sells, currency=currency))

        async def read(path: str, slug: str | None) -> Any:
            response = await harness.client.get(path, headers=on_storefront(slug) if slug else {})
            assert response.status_code == 200, response.text
            return response.json()

        async def products(slug: str | None) -> set[str]:
            return {p["sku"] for p in (await read("/api/v1/products?limit=100", slug))["results"]}

        async def pricing(slug: str | None) -> dict[str, set[str]]:
            return {group: {o["sku"] for o in offers} for group, offers in (await read("/api/v1/pricing", slug)).items()}

        everything = await products(None)
        assert STONES | {"PACK_5", "PACK_10", "RETRY_PACK_3", "pro_monthly", "studio_monthly", "basic",
                         "premium"} == everything
        assert all((await pricing(None)).values())
        assert await products("marbelle") == await products("shop") == STONES
        assert await products("storybook") == {"RETRY_PACK_3", "basic", "premium"}
        assert await pricing("storybook") == {"credit_packs": set(), "subscription_plans": set(),
                                              "print_tiers": {"basic", "premium"}, "retry_packs": {"RETRY_PACK_3"}}
        assert await pricing("reviv") == {"credit_packs": {"PACK_5", "PACK_10"}, "subscription_plans": set(),
                                          "print_tiers": set(), "retry_packs": set()}
        assert await pricing("figureforge") == {"credit_packs": {"PACK_5", "PACK_10"},
                                                "subscription_plans": {"pro_monthly", "studio_monthly"},
                                                "print_tiers": set(), "retry_packs": set()}
        assert not any((await pricing("marbelle")).values())

        def slugs(tree: Any) -> set[str]:
            return {c["slug"] for c in tree["results"]}

        assert slugs(await read("/api/v1/categories", None)) == slugs(await read("/api/v1/categories", "shop")) == {
            "natural-stone", "stone-care"}
        assert slugs(await read("/api/v1/categories", "storybook")) == set()

        async with harness.runtime.db.read_only() as session:
            scope = {p.sku: p.storefronts_key for p in (await session.exec(select(Product))).all()}
            categories = {c.storefronts_key for c in (await session.exec(select(Category))).all()}
        assert (scope["PACK_5"], scope["pro_monthly"], scope["basic"], scope["SEAL-PRO-1L"]) == (
            ",default,reviv,figureforge,", ",default,figureforge,", ",default,storybook,", ",default,marbelle,shop,")
        assert categories == {",default,marbelle,shop,"}

        # What staff set stays at the next seed (a restart).
        staff = test_keys.staff_headers()
        response = await harness.client.patch("/api/v1/products/pack-5", headers=staff,
                                              json={"storefronts": ["reviv"]})
        assert response.status_code == 200, response.text
        assert await seed_demo_data(harness.runtime.db, harness.runtime.context) == 0
        assert (await read("/api/v1/products/pack-5", "reviv"))["storefronts"] == ["reviv"]
