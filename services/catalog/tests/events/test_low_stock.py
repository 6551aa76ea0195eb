"""Low stock: a stock change that takes a product from above a storefront's
`low_stock_threshold` to at or below it emits `product.low_stock` once per crossing and storefront
that sells it, in the transaction of the change (an order's reservation, a staff adjustment, a
cancellation giving units back); and staff read what is low on a storefront."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from atelier_catalog.models import DEFAULT_LOCATION_ID
from atelier_common.contracts.identity import StorefrontPolicies
from atelier_common.contracts.orders import OrderCancelled
from atelier_testing import ServiceHarness, assert_error
from atelier_testing.storefronts import add_storefront, make_storefront

from ..conftest import Catalog
from .test_reservations import line, placed

DEFAULT = str(DEFAULT_LOCATION_ID)

# Handlers upsert and lock their aggregate's row (CONTRIBUTING.md, "Consumers commute").
pytestmark = pytest.mark.databases("sqlite", "postgres", why="handlers' upserts and locks are written per dialect")


@pytest.fixture(autouse=True)
def storefronts(harness: ServiceHarness) -> None:
    """low: alerts at 10. quiet: no threshold. goods: alerts at 10, sells digital kinds only."""
    add_storefront(harness.app, make_storefront("low", currency="USD", policies=StorefrontPolicies(
        low_stock_threshold=10, alert_emails=["stock@low.example"])))
    add_storefront(harness.app, make_storefront("quiet", currency="USD"))
    add_storefront(harness.app, make_storefront("digital", currency="USD", sells=["credit_pack"],
                                                policies=StorefrontPolicies(low_stock_threshold=10)))


async def alerts(harness: ServiceHarness, product: dict[str, Any], *, locations: bool = False) -> list[dict[str, Any]]:
    """The product's alerts; which location's units crossed (`location_id`, `location`) with `locations`."""
    await harness.drain()
    return [{k: v for k, v in e.data.items() if locations or k not in ("location_id", "location")}
            for e in harness.bus.published if e.type == "product.low_stock" and e.data["product_id"] == product["id"]]


async def adjust(harness: ServiceHarness, staff: dict[str, str], product: dict[str, Any], delta: int,
                 **extra: Any) -> None:
    r = await harness.client.post(f"/api/v1/products/{product['id']}/stock", headers=staff,
                                  json={"delta": delta, "reason": "count", **extra})
    assert r.status_code == 200, r.text


async def test_a_sale_crossing_the_threshold_alerts_once(harness: ServiceHarness, catalog: Catalog) -> None:
    product = await catalog.product(stock_quantity=12)
    await harness.deliver(placed(line(product, 5)))
    assert await alerts(harness, product) == [{
        "storefront": "low", "product_id": product["id"], "variant_id": None, "name": product["name"],
        "sku": product["sku"], "stock_quantity": 7, "previous_stock_quantity": 12, "threshold": 10}]
    await harness.deliver(placed(line(product, 2)))  # 7 → 5: below already, no second alert
    assert len(await alerts(harness, product)) == 1


async def test_staff_changes_and_a_restock_arm_it_again(harness: ServiceHarness, catalog: Catalog, staff) -> None:
    product = await catalog.product(stock_quantity=11)
    await adjust(harness, staff, product, -1)  # 11 → 10: at the threshold is low
    assert [a["stock_quantity"] for a in await alerts(harness, product)] == [10]
    order = placed(line(product, 4))
    await adjust(harness, staff, product, 5)  # 10 → 15: above again
    await harness.deliver(order)  # 15 → 11: still above
    assert len(await alerts(harness, product)) == 1
    await adjust(harness, staff, product, -3)  # 11 → 8
    assert [a["stock_quantity"] for a in await alerts(harness, product)] == [10, 8]
    await harness.deliver(OrderCancelled(order_id=order.order_id, owner_id=order.owner_id, reason="changed mind"))
    await harness.drain()
    assert len(await alerts(harness, product)) == 2  # 8 → 12 is no crossing down


async def test_a_variant_and_the_scope(harness: ServiceHarness, catalog: Catalog, staff) -> None:
    only_quiet = await catalog.product(stock_quantity=20, storefronts=["quiet"])
    await adjust(harness, staff, only_quiet, -15)
    assert await alerts(harness, only_quiet) == []  # the storefronts with a threshold do not sell it
    tile = await catalog.product(stock_quantity=0)
    variant = await catalog.variant(tile, "Big", stock_quantity=30)
    await harness.deliver(placed(line(tile, 25, variant=variant)))
    [alert] = await alerts(harness, tile)
    assert (alert["variant_id"], alert["name"], alert["stock_quantity"]) == (variant["id"], f"{tile['name']} (Big)", 5)


async def test_staff_read_what_is_low_on_a_storefront(harness: ServiceHarness, catalog: Catalog, staff,
                                                     test_keys) -> None:
    marker = uuid.uuid4().hex[:6]
    low = await catalog.product(name=f"Low {marker}", stock_quantity=3)
    await catalog.product(name=f"Plenty {marker}", stock_quantity=30)
    elsewhere = await catalog.product(name=f"Elsewhere {marker}", stock_quantity=1, storefronts=["quiet"])
    r = await harness.client.get("/api/v1/products/low-stock", params={"storefront": "low"}, headers=staff)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["storefront"] == "low" and body["threshold"] == 10
    ids = {item["product_id"] for item in body["results"]}
    assert low["id"] in ids and elsewhere["id"] not in ids and body["count"] == len(body["results"])
    quiet = (await harness.client.get("/api/v1/products/low-stock", params={"storefront": "quiet"},
                                      headers=staff)).json()
    assert (quiet["threshold"], quiet["results"]) == (None, [])
    assert_error(await harness.client.get("/api/v1/products/low-stock", headers=test_keys.user_headers()), 403,
                 "PERMISSION_DENIED")
    assert_error(await harness.client.get("/api/v1/products/low-stock", params={"storefront": "nope"},
                                          headers=staff), 400, "UNKNOWN_STOREFRONT")


class TestPerLocation:
    """Each location's units are watched on their own: an order taking a shop's last units alerts
    for the shop, whatever the total; a location of another storefront alerts nobody here."""

    async def test_a_location_crossing_alerts_with_its_name(self, harness: ServiceHarness, catalog: Catalog,
                                                            staff: dict[str, str]) -> None:
        product = await catalog.product(stock_quantity=40)
        r = await harness.client.post("/api/v1/staff/locations", headers=staff, json={
            "name": "Shop", "kind": "shop", "storefront": "", "priority": 1})
        shop = r.json()
        r = await harness.client.post("/api/v1/staff/stock-transfers", headers=staff, json={
            "product": product["id"], "from_location_id": DEFAULT, "to_location_id": shop["id"], "quantity": 12,
            "reason": "stock the shop"})
        assert r.status_code == 201, r.text
        assert await alerts(harness, product) == []  # main stock 40 → 28, the shop 0 → 12

        await harness.deliver(placed(line(product, 5)))  # the shop first: 12 → 7, the total 40 → 35
        assert await alerts(harness, product, locations=True) == [{
            "storefront": "low", "product_id": product["id"], "variant_id": None, "name": product["name"],
            "sku": product["sku"], "stock_quantity": 7, "previous_stock_quantity": 12, "threshold": 10,
            "location_id": shop["id"], "location": "Shop"}]

        # A transfer out of main stock takes it from 28 to 8: its own alert.
        r = await harness.client.post("/api/v1/staff/stock-transfers", headers=staff, json={
            "product": product["id"], "from_location_id": DEFAULT, "to_location_id": shop["id"], "quantity": 20,
            "reason": "move it all"})
        assert r.status_code == 201, r.text
        assert [(a["location"], a["previous_stock_quantity"], a["stock_quantity"])
                for a in await alerts(harness, product, locations=True)] == [("Shop", 12, 7), ("Main stock", 28, 8)]

    async def test_another_storefronts_location_alerts_nobody_here(self, harness: ServiceHarness, catalog: Catalog,
                                                                   staff: dict[str, str]) -> None:
        product = await catalog.product(stock_quantity=40)
        r = await harness.client.post("/api/v1/staff/locations", headers=staff, json={
            "name": "Quiet shop", "storefront": "quiet", "priority": 1})
        shop = r.json()
        await harness.client.post("/api/v1/staff/stock-transfers", headers=staff, json={
            "product": product["id"], "from_location_id": DEFAULT, "to_location_id": shop["id"], "quantity": 12,
            "reason": "stock the shop"})
        await adjust(harness, staff, product, -5, location_id=shop["id"])  # 12 → 7 at quiet's shop
        assert await alerts(harness, product) == []
