"""Stock locations: staff keep them and move units between them; an order takes from the locations
that serve its storefront and destination, lowest priority first, splitting a line when one cannot
fill it; cancellations, returns and edits give units back where they were taken."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import select

from atelier_catalog.demo import seed_bulk
from atelier_catalog.models import DEFAULT_LOCATION_ID, StockReservation
from atelier_common.contracts.orders import (
    OrderCancelled,
    OrderEdited,
    OrderEditLine,
    OrderEditRequested,
    OrderEditUnits,
    OrderPlaced,
    ReturnLine,
    ReturnReceived,
)
from atelier_testing import ServiceHarness

from ..conftest import Catalog, assert_error
from .test_reservations import decisions, line, paid, stock

pytestmark = pytest.mark.databases("sqlite", "postgres", why="location upserts and guarded UPDATEs per dialect")

LOCATIONS = "/api/v1/staff/locations"
DEFAULT = str(DEFAULT_LOCATION_ID)


async def location(harness: ServiceHarness, staff: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = await harness.client.post(LOCATIONS, json={"name": f"Loc {uuid.uuid4().hex[:4]}", **fields},
                                         headers=staff)
    assert response.status_code == 201, response.text
    return response.json()


async def transfer(harness: ServiceHarness, staff: dict[str, str], product: dict[str, Any], source: str, target: str,
                   quantity: int, *, variant: dict[str, Any] | None = None) -> Any:
    return await harness.client.post("/api/v1/staff/stock-transfers", headers=staff, json={
        "product": product["id"], "variant_id": variant["id"] if variant else None, "from_location_id": source,
        "to_location_id": target, "quantity": quantity, "reason": "stock the shop"})


async def per_location(harness: ServiceHarness, staff: dict[str, str], product: dict[str, Any],
                       variant: dict[str, Any] | None = None) -> dict[str, int]:
    response = await harness.client.get(f"{LOCATIONS}/stock/{product['id']}", headers=staff)
    assert response.status_code == 200, response.text
    item = next(i for i in response.json()["items"] if i["variant_id"] == (variant["id"] if variant else None))
    assert item["stock_quantity"] == sum(u["quantity"] for u in item["locations"])  # the total is the sum
    return {u["location_id"]: u["quantity"] for u in item["locations"] if u["quantity"]}


def to(country: str | None, *lines: Any, storefront: str = "default") -> OrderPlaced:
    order_id = uuid.uuid4()
    return OrderPlaced(order_id=order_id, order_number=f"ORD-20261130-{str(order_id)[:6].upper()}",
                       owner_id=uuid.uuid4(), lines=list(lines), storefront=storefront, ship_country=country)


async def split_setup(harness: ServiceHarness, staff: dict[str, str], catalog: Catalog
                      ) -> tuple[dict[str, Any], dict[str, Any]]:
    """A product with 4 units at a French shop (first for FR) and 3 at the default location."""
    slab = await catalog.product(stock_quantity=7)
    shop = await location(harness, staff, name="Lyon shop", kind="shop", country="FR", ships_to=["fr"], priority=10)
    assert (await transfer(harness, staff, slab, DEFAULT, shop["id"], 4)).status_code == 201
    return slab, shop


class TestLocations:
    async def test_existing_stock_is_at_the_default_location(self, harness: ServiceHarness, staff: dict[str, str],
                                                             catalog: Catalog) -> None:
        slab = await catalog.product(stock_quantity=7)
        tile = await catalog.product(stock_quantity=0)
        big = await catalog.variant(tile, "Big", stock_quantity=3)
        assert await per_location(harness, staff, slab) == {DEFAULT: 7}
        assert await per_location(harness, staff, tile, big) == {DEFAULT: 3}
        listed = (await harness.client.get(LOCATIONS, headers=staff)).json()
        assert [(loc["name"], loc["is_default"], loc["storefront"]) for loc in listed["results"]] == [
            ("Main stock", True, "")]

    async def test_staff_create_update_and_delete_a_location(self, harness: ServiceHarness, staff: dict[str, str],
                                                             catalog: Catalog) -> None:
        made = await location(harness, staff, name="Drop", kind="drop_ship", ships_to=["de", "AT"])
        assert (made["storefront"], made["ships_to"], made["kind"]) == ("default", ["AT", "DE"], "drop_ship")
        changed = await harness.client.patch(f"{LOCATIONS}/{made['id']}", json={"priority": 5, "ships_to": []},
                                             headers=staff)
        assert (changed.json()["priority"], changed.json()["ships_to"]) == (5, [])
        slab = await catalog.product(stock_quantity=2)
        await transfer(harness, staff, slab, DEFAULT, made["id"], 1)
        assert_error(await harness.client.delete(f"{LOCATIONS}/{made['id']}", headers=staff), 409,
                     "LOCATION_NOT_EMPTY")
        assert_error(await harness.client.delete(f"{LOCATIONS}/{DEFAULT}", headers=staff), 409, "LOCATION_NOT_EMPTY")
        await transfer(harness, staff, slab, made["id"], DEFAULT, 1)
        assert (await harness.client.delete(f"{LOCATIONS}/{made['id']}", headers=staff)).status_code == 204
        assert_error(await harness.client.get(f"{LOCATIONS}/{made['id']}", headers=staff), 404, "NOT_FOUND")
        assert_error(await harness.client.post(LOCATIONS, json={"name": "X", "storefront": "nowhere"}, headers=staff),
                     400, "UNKNOWN_STOREFRONT")
        assert (await harness.client.get(LOCATIONS)).status_code == 401

    async def test_a_transfer_never_takes_more_than_the_source_holds(
            self, harness: ServiceHarness, staff: dict[str, str], catalog: Catalog) -> None:
        slab, shop = await split_setup(harness, staff, catalog)
        assert_error(await transfer(harness, staff, slab, shop["id"], DEFAULT, 5), 409, "INSUFFICIENT_STOCK")
        assert_error(await transfer(harness, staff, slab, DEFAULT, DEFAULT, 1), 400, "INVALID_TRANSFER")
        assert await per_location(harness, staff, slab) == {shop["id"]: 4, DEFAULT: 3}
        assert await stock(harness, slab) == 7  # a transfer leaves the total

    async def test_an_adjustment_names_its_location(self, harness: ServiceHarness, staff: dict[str, str],
                                                    catalog: Catalog) -> None:
        slab, shop = await split_setup(harness, staff, catalog)
        url = f"/api/v1/products/{slab['id']}/stock"
        taken = await harness.client.post(url, json={"delta": -4, "reason": "broken", "location_id": shop["id"]},
                                          headers=staff)
        assert (taken.status_code, taken.json()["stock_quantity"], taken.json()["location_id"]) == (
            200, 3, shop["id"])
        # 3 left in all, none at the shop: refused, and nothing moved.
        assert_error(await harness.client.post(url, json={"delta": -1, "reason": "x", "location_id": shop["id"]},
                                               headers=staff), 409, "INSUFFICIENT_STOCK")
        assert await per_location(harness, staff, slab) == {DEFAULT: 3}
        assert await stock(harness, slab) == 3


class TestReservingFromLocations:
    async def test_a_line_splits_across_two_locations_and_says_so(
            self, harness: ServiceHarness, staff: dict[str, str], catalog: Catalog) -> None:
        slab, shop = await split_setup(harness, staff, catalog)
        order = to("FR", line(slab, 6))
        await harness.deliver(order)

        assert decisions(harness, order.order_id) == [("stock.reserved", {"order_id": str(order.order_id)})]
        reserved = next(e for e in harness.bus.published if e.type == "stock.reserved")
        assert sorted((s["location"], s["quantity"]) for s in reserved.data["sources"]) == [
            ("Lyon shop", 4), ("Main stock", 2)]
        assert await per_location(harness, staff, slab) == {DEFAULT: 1}
        assert await stock(harness, slab) == 1
        async with harness.runtime.db.read_only() as session:
            rows = (await session.exec(select(StockReservation).where(
                StockReservation.order_id == order.order_id))).all()
        assert sorted((str(r.location_id), r.quantity) for r in rows) == sorted([(shop["id"], 4), (DEFAULT, 2)])

    async def test_a_destination_the_shop_does_not_reach_takes_from_the_rest_only(
            self, harness: ServiceHarness, staff: dict[str, str], catalog: Catalog) -> None:
        slab, shop = await split_setup(harness, staff, catalog)
        order = to("DE", line(slab, 4))
        await harness.deliver(order)
        [(kind, data)] = decisions(harness, order.order_id)
        assert (kind, data["reason"], data["lines"][0]["available"]) == ("stock.rejected", "insufficient_stock", 3)
        assert await per_location(harness, staff, slab) == {shop["id"]: 4, DEFAULT: 3}  # all or none
        assert await stock(harness, slab) == 7
        ok = to("DE", line(slab, 3))
        await harness.deliver(ok)
        assert await per_location(harness, staff, slab) == {shop["id"]: 4}

    async def test_another_storefronts_location_is_not_used(self, harness: ServiceHarness, staff: dict[str, str],
                                                            catalog: Catalog) -> None:
        slab, _ = await split_setup(harness, staff, catalog)  # the shop is the default storefront's
        order = to("FR", line(slab, 5), storefront="marbelle")
        await harness.deliver(order)
        assert decisions(harness, order.order_id)[0][0] == "stock.rejected"
        order = to(None, line(slab, 7))  # no destination: every location of the storefront
        await harness.deliver(order)
        assert decisions(harness, order.order_id)[0][0] == "stock.reserved"

    async def test_a_priority_puts_one_location_first(self, harness: ServiceHarness, staff: dict[str, str],
                                                      catalog: Catalog) -> None:
        slab, shop = await split_setup(harness, staff, catalog)
        await harness.client.patch(f"{LOCATIONS}/{shop['id']}", json={"priority": 500}, headers=staff)
        await harness.deliver(to("FR", line(slab, 2)))
        assert await per_location(harness, staff, slab) == {shop["id"]: 4, DEFAULT: 1}

    async def test_an_inactive_location_serves_no_order(self, harness: ServiceHarness, staff: dict[str, str],
                                                        catalog: Catalog) -> None:
        slab, shop = await split_setup(harness, staff, catalog)
        await harness.client.patch(f"{LOCATIONS}/{shop['id']}", json={"is_active": False}, headers=staff)
        order = to("FR", line(slab, 4))
        await harness.deliver(order)
        assert decisions(harness, order.order_id)[0][0] == "stock.rejected"


class TestEditsAddingUnits:
    async def test_an_edit_takes_from_the_locations_serving_the_orders_destination(
            self, harness: ServiceHarness, staff: dict[str, str], catalog: Catalog) -> None:
        slab, shop = await split_setup(harness, staff, catalog)
        german = to("DE", line(slab, 1))  # the French shop does not ship to Germany
        await harness.deliver(german)
        assert await per_location(harness, staff, slab) == {shop["id"]: 4, DEFAULT: 2}
        await harness.deliver(edit_adding(german, slab, 2))
        assert await per_location(harness, staff, slab) == {shop["id"]: 4}
        await harness.deliver(edit_adding(german, slab, 1))  # none left that reaches Germany
        assert [e.data["reason"] for e in harness.bus.published if e.type == "stock.edit_rejected"] == [
            "insufficient_stock"]

        french = to("FR", line(slab, 1))
        await harness.deliver(french)
        await harness.deliver(edit_adding(french, slab, 2))
        assert await per_location(harness, staff, slab) == {shop["id"]: 1}


def edit_adding(order: OrderPlaced, product: dict[str, Any], quantity: int) -> OrderEditRequested:
    return OrderEditRequested(edit_id=uuid.uuid4(), edit_version=1, order_id=order.order_id,
                              order_number=order.order_number,
                              lines=[OrderEditUnits(product_id=product["id"], quantity=quantity)])


class TestGivingBack:
    async def test_a_cancellation_gives_each_location_its_units(
            self, harness: ServiceHarness, staff: dict[str, str], catalog: Catalog) -> None:
        slab, shop = await split_setup(harness, staff, catalog)
        order = to("FR", line(slab, 6))
        await harness.deliver(order)
        await harness.deliver(paid(order))
        await harness.deliver(OrderCancelled(order_id=order.order_id, owner_id=order.owner_id, was_paid=True))
        assert await per_location(harness, staff, slab) == {shop["id"]: 4, DEFAULT: 3}
        assert await stock(harness, slab) == 7

    async def test_returns_give_back_where_units_came_from_once(
            self, harness: ServiceHarness, staff: dict[str, str], catalog: Catalog) -> None:
        slab, shop = await split_setup(harness, staff, catalog)
        order = to("FR", line(slab, 6))
        await harness.deliver(order)
        await harness.deliver(paid(order))

        def returned(quantity: int, number: str) -> ReturnReceived:
            return ReturnReceived(return_id=uuid.uuid4(), number=number, order_id=order.order_id,
                                  order_number=order.order_number, owner_id=order.owner_id, amount="1.00",
                                  currency="USD", items=[ReturnLine(order_item_id=uuid.uuid4(),
                                                                    product_id=slab["id"], sku=slab["sku"],
                                                                    quantity=quantity, resaleable=True)])

        await harness.deliver(returned(3, "RET-1"), producer="orders")
        assert await per_location(harness, staff, slab) == {shop["id"]: 3, DEFAULT: 1}
        # The rest: the shop's last unit, then the default location's two.
        await harness.deliver(returned(3, "RET-2"), producer="orders")
        assert await per_location(harness, staff, slab) == {shop["id"]: 4, DEFAULT: 3}

    async def test_an_edit_gives_back_the_latest_rows_units_to_their_location(
            self, harness: ServiceHarness, staff: dict[str, str], catalog: Catalog) -> None:
        slab, shop = await split_setup(harness, staff, catalog)
        order = to("FR", line(slab, 6))
        await harness.deliver(order)
        await harness.deliver(OrderEdited(
            edit_id=uuid.uuid4(), edit_version=1, order_id=order.order_id, order_number=order.order_number,
            owner_id=order.owner_id, reason="fewer", old_total=Decimal("60.00"), new_total=Decimal("30.00"),
            refund=Decimal("0"), currency="USD", lines=[OrderEditLine(
                order_item_id=uuid.uuid4(), product_id=slab["id"], sku=slab["sku"], old_quantity=6,
                new_quantity=3)]), producer="orders")
        # The latest row first: the default location's 2, then 1 of the shop's.
        assert await per_location(harness, staff, slab) == {shop["id"]: 1, DEFAULT: 3}


class TestEveryWayStockArrives:
    async def test_a_bulk_seed_and_the_demo_put_their_stock_at_the_default_location(
            self, harness: ServiceHarness) -> None:
        await seed_bulk(harness.runtime.db, 30)
        async with harness.runtime.db.read_only() as session:
            totals = (await session.execute(text(
                "SELECT (SELECT sum(stock_quantity) FROM product) + (SELECT coalesce(sum(stock_quantity), 0) "
                "FROM product_variant), (SELECT sum(quantity) FROM location_stock)"))).one()
        assert totals[0] > 0 and totals[0] == totals[1]
