"""GET /api/v1/orders and /orders/{id}: own orders only (another owner's is a 404), ordering, pages."""

from __future__ import annotations

import uuid

from atelier_testing import ServiceHarness, TestKeys

from ..conftest import Customer, FakePlatform, assert_error


async def _orders(customer: Customer, platform: FakePlatform, *prices: str) -> list[dict]:
    placed = []
    for price in prices:
        pack = platform.product(kind="credit_pack", price=price)
        placed.append(await customer.placed(items=[{"product_id": pack["id"]}]))
    return placed


class TestListOrders:
    async def test_only_my_orders_newest_first(self, customer: Customer, other_customer: Customer,
                                               platform: FakePlatform) -> None:
        mine = await _orders(customer, platform, "1.00", "2.00")
        await _orders(other_customer, platform, "3.00")
        response = await customer.client.get("/api/v1/orders", headers=customer.headers)
        assert response.status_code == 200
        body = response.json()
        assert body["count"] == 2
        assert [o["id"] for o in body["results"]] == [mine[1]["id"], mine[0]["id"]]
        first = body["results"][0]
        assert {"order_number", "status", "total_amount", "item_count", "created_at"} <= set(first)
        assert "status_history" not in first and "items" not in first

    async def test_a_line_counts_the_units_of_every_item(self, customer: Customer, platform: FakePlatform) -> None:
        # The list sums the quantities beside each order (`queries._SUMMARY_COLUMNS`), as the order does.
        packs = [platform.product(kind="credit_pack", price="1.00") for _ in range(2)]
        placed = await customer.placed(items=[{"product_id": packs[0]["id"], "quantity": 3},
                                              {"product_id": packs[1]["id"], "quantity": 2}])
        await customer.placed(items=[{"product_id": packs[0]["id"]}])
        body = (await customer.client.get("/api/v1/orders", headers=customer.headers)).json()
        assert [line["item_count"] for line in body["results"]] == [1, 5]
        assert placed["item_count"] == 5

    async def test_ordering_by_total_amount_and_pages(self, customer: Customer, platform: FakePlatform) -> None:
        placed = await _orders(customer, platform, "3.00", "1.00", "2.00")
        by_total = sorted(placed, key=lambda o: o["total_amount"])
        response = await customer.client.get("/api/v1/orders?ordering=total_amount&page=1&page_size=2",
                                              headers=customer.headers)
        body = response.json()
        assert [o["id"] for o in body["results"]] == [o["id"] for o in by_total[:2]]
        assert body["count"] == 3 and body["next"] and body["previous"] is None
        response = await customer.client.get("/api/v1/orders?ordering=-total_amount&limit=1",
                                              headers=customer.headers)
        assert [o["id"] for o in response.json()["results"]] == [by_total[-1]["id"]]
        response = await customer.client.get("/api/v1/orders?ordering=created_at", headers=customer.headers)
        assert [o["id"] for o in response.json()["results"]] == [o["id"] for o in placed]

    async def test_filter_by_status(self, customer: Customer, platform: FakePlatform) -> None:
        first, _second = await _orders(customer, platform, "1.00", "2.00")
        assert (await customer.cancel(first["id"])).status_code == 200
        response = await customer.client.get("/api/v1/orders?status=cancelled", headers=customer.headers)
        assert [o["id"] for o in response.json()["results"]] == [first["id"]]

    async def test_an_unknown_ordering_or_status_is_400(self, customer: Customer) -> None:
        for query in ("ordering=price", "ordering=-", "status=lost", "limit=0", "limit=101"):
            assert_error(await customer.client.get(f"/api/v1/orders?{query}", headers=customer.headers),
                         400, "VALIDATION_ERROR")

    async def test_staff_may_list_every_customers_orders(self, customer: Customer, other_customer: Customer,
                                                         platform: FakePlatform, test_keys: TestKeys) -> None:
        await _orders(customer, platform, "1.00")
        await _orders(other_customer, platform, "2.00")
        staff = test_keys.staff_headers()
        response = await customer.client.get("/api/v1/orders?all=true", headers=staff)
        assert response.json()["count"] == 2
        assert (await customer.client.get("/api/v1/orders", headers=staff)).json()["count"] == 0
        assert_error(await customer.client.get("/api/v1/orders?all=true", headers=customer.headers),
                     403, "PERMISSION_DENIED")

    async def test_no_token_is_401(self, harness: ServiceHarness) -> None:
        assert_error(await harness.client.get("/api/v1/orders"), 401, "AUTHENTICATION_REQUIRED")


class TestGetOrder:
    async def test_detail_has_items_addresses_and_history(self, customer: Customer, platform: FakePlatform) -> None:
        lamp = platform.product()
        placed = await customer.placed(items=[{"product_id": lamp["id"]}],
                                       shipping_address_id=platform.address(customer.owner_id))
        order = await customer.order(placed["id"])
        assert set(order) >= {"id", "order_number", "status", "subtotal", "tax_amount", "shipping_cost", "discount",
                              "total_amount", "currency", "items", "shipping_address", "billing_address",
                              "status_history", "tracking_number", "created_at"}
        assert order == placed
        assert "owner_id" not in order  # internal only

    async def test_another_owners_order_is_404(self, customer: Customer, other_customer: Customer,
                                               anonymous: Customer, platform: FakePlatform) -> None:
        [order] = await _orders(customer, platform, "1.00")
        for stranger in (other_customer, anonymous):
            assert_error(await stranger.get(order["id"]), 404, "NOT_FOUND")

    async def test_unknown_and_malformed_ids_are_404(self, customer: Customer) -> None:
        for ref in (str(uuid.uuid4()), "garbage"):
            assert_error(await customer.get(ref), 404, "NOT_FOUND")

    async def test_staff_may_read_any_order(self, customer: Customer, platform: FakePlatform,
                                            test_keys: TestKeys) -> None:
        [order] = await _orders(customer, platform, "1.00")
        response = await customer.client.get(f"/api/v1/orders/{order['id']}", headers=test_keys.staff_headers())
        assert response.status_code == 200

    async def test_a_trailing_slash_is_answered(self, customer: Customer, platform: FakePlatform) -> None:
        [order] = await _orders(customer, platform, "1.00")
        response = await customer.client.get(f"/api/v1/orders/{order['id']}/", headers=customer.headers)
        assert response.status_code == 200
