"""GET /pricing: every active digital offer, grouped by kind."""

from __future__ import annotations

from atelier_testing import ServiceHarness

from ..conftest import Catalog


async def test_active_digital_offers_grouped_by_kind(harness: ServiceHarness, catalog: Catalog) -> None:
    await catalog.product(sku="PACK_10", kind="credit_pack", price="8.99", attributes={"credits": 10})
    await catalog.product(sku="PACK_5", kind="credit_pack", price="4.99", attributes={"credits": 5})
    await catalog.product(sku="RETRY_PACK_3", kind="retry_pack", price="2.00", currency="GEL",
                          attributes={"retries": 3})
    await catalog.product(sku="pro_monthly", kind="subscription_plan", price="19.99",
                          attributes={"interval": "month", "tier": "pro", "monthly_quota": 200})
    await catalog.product(sku="basic", kind="print_tier", price="49.00", currency="GEL",
                          attributes={"max_retries_per_unit": 3})
    old = await catalog.product(sku="PACK_OLD", kind="credit_pack", price="1.00", attributes={"credits": 1})
    await catalog.deactivate_product(old["id"])
    await catalog.product(sku="SLAB", price="85.50")

    response = await harness.client.get("/api/v1/pricing")
    assert response.status_code == 200
    pricing = response.json()
    assert list(pricing) == ["credit_packs", "subscription_plans", "print_tiers", "retry_packs"]
    assert [(o["sku"], o["price"], o["attributes"]["credits"]) for o in pricing["credit_packs"]] == [
        ("PACK_5", "4.99", 5), ("PACK_10", "8.99", 10)]
    assert [(o["sku"], o["currency"]) for o in pricing["retry_packs"]] == [("RETRY_PACK_3", "GEL")]
    assert pricing["subscription_plans"][0]["attributes"]["tier"] == "pro"
    assert [o["sku"] for o in pricing["print_tiers"]] == ["basic"]


async def test_empty_catalog_has_empty_groups(harness: ServiceHarness) -> None:
    assert (await harness.client.get("/api/v1/pricing")).json() == {
        "credit_packs": [], "subscription_plans": [], "print_tiers": [], "retry_packs": []}
