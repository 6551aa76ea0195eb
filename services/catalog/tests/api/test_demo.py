"""Demo data: seeded at start when the setting is on, and idempotent."""

from __future__ import annotations

from sqlmodel import func, select

from atelier_catalog.app import create_app
from atelier_catalog.demo import seed_demo_data
from atelier_catalog.models import Category, Product, ProductVariant
from atelier_testing import RecordingBus, ServiceHarness

from ..conftest import product_changed_events


async def _counts(harness: ServiceHarness) -> tuple[int, int, int]:
    async with harness.runtime.db.read_only() as session:
        return tuple([(await session.exec(select(func.count()).select_from(model))).one()  # type: ignore[return-value]  # a tuple of three counts, built from a list
                      for model in (Category, Product, ProductVariant)])


async def test_nothing_is_seeded_unless_asked(harness: ServiceHarness) -> None:
    assert await _counts(harness) == (0, 0, 0)


async def test_demo_catalog_is_seeded_at_start_and_seeding_again_changes_nothing(catalog_settings) -> None:
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

        # a staff edit survives, and nothing is created or announced twice
        assert await seed_demo_data(harness.runtime.db, harness.runtime.context) == 0
        assert await _counts(harness) == counts
        assert len(await product_changed_events(harness)) == events

    # a restart of the app seeds nothing either
    bus = RecordingBus()
    async with ServiceHarness(create_app(settings, bus=bus), bus) as harness:
        assert await _counts(harness) == counts
        assert await product_changed_events(harness) == []
