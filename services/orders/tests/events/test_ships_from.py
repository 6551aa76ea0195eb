"""Stock locations, as orders sees them: the destination country goes to catalog in `order.placed`,
and where each line ships from comes back in `stock.reserved` and shows in the staff view."""

from __future__ import annotations

import uuid

import pytest

from atelier_common.contracts.catalog import StockReserved, StockSource
from atelier_orders import domain
from atelier_testing import ServiceHarness

from ..conftest import Customer, FakePlatform, Staff

pytestmark = pytest.mark.databases("sqlite", "postgres", why="handlers' upserts and locks are written per dialect")


class TestShipsFrom:
    async def test_the_order_names_its_country_and_shows_where_each_line_ships_from(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform, staff: Staff) -> None:
        lamp = platform.product(price="30.00")
        vase = platform.product(price="5.00")
        order = await customer.placed(items=[{"product_id": lamp["id"], "quantity": 5},
                                             {"product_id": vase["id"], "quantity": 1}],
                                      shipping_address_id=platform.address(customer.owner_id, country="fr"))
        await harness.drain()
        [placed] = [e for e in harness.published("order.placed") if e.data["order_id"] == order["id"]]
        assert placed.data["ship_country"] == "FR"

        shop, main = uuid.uuid4(), uuid.uuid4()
        await harness.deliver(StockReserved(order_id=order["id"], sources=[
            StockSource(product_id=lamp["id"], location_id=shop, location="Lyon shop", quantity=3),
            StockSource(product_id=lamp["id"], location_id=main, location="Main stock", quantity=2),
            StockSource(product_id=vase["id"], location_id=main, location="Main stock", quantity=1)]))

        read = await staff.client.get(f"/api/v1/staff/orders/{order['id']}", headers=staff.headers)
        assert read.status_code == 200, read.text
        lines = {item["product_id"]: item["ships_from"] for item in read.json()["items"]}
        assert lines[lamp["id"]] == [{"location_id": str(shop), "location": "Lyon shop", "quantity": 3},
                                     {"location_id": str(main), "location": "Main stock", "quantity": 2}]
        assert lines[vase["id"]] == [{"location_id": str(main), "location": "Main stock", "quantity": 1}]
        assert (await customer.order(order["id"]))["status"] == "awaiting_payment"
        assert "ships_from" not in (await customer.order(order["id"]))["items"][0]  # staff only

    async def test_an_event_from_before_locations_leaves_the_lines_as_they_were(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform, staff: Staff) -> None:
        lamp = platform.product(price="30.00")
        order = await customer.placed(items=[{"product_id": lamp["id"], "quantity": 1}],
                                      shipping_address_id=platform.address(customer.owner_id))
        await harness.deliver(StockReserved(order_id=order["id"]))
        read = (await staff.client.get(f"/api/v1/staff/orders/{order['id']}", headers=staff.headers)).json()
        assert read["items"][0]["ships_from"] is None and read["status"] == "awaiting_payment"


class TestSharingSources:
    def test_two_lines_of_one_product_share_its_sources_in_line_order(self) -> None:
        product, here, there = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

        class Item:
            def __init__(self, quantity: int) -> None:
                self.id, self.product_id, self.variant_id, self.quantity = uuid.uuid4(), product, None, quantity

        first, second = Item(2), Item(3)
        shares = domain.ships_from([first, second], [
            StockSource(product_id=product, location_id=here, location="A", quantity=4),
            StockSource(product_id=product, location_id=there, location="B", quantity=1)])
        assert [(s["location"], s["quantity"]) for s in shares[first.id]] == [("A", 2)]
        assert [(s["location"], s["quantity"]) for s in shares[second.id]] == [("A", 2), ("B", 1)]
