"""Orders per storefront: an order belongs to the storefront it was placed on, which decides
its currency, tax, shipping and what it may sell; staff list one storefront's orders; identity
asks how many a storefront has; every event of an order names its storefront."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from prometheus_client import REGISTRY

from atelier_common.contracts.identity import StorefrontTax
from atelier_common.contracts.payments import OrderPaid
from atelier_testing import ServiceHarness, TestKeys
from atelier_testing.storefronts import add_storefront, make_storefront, on_storefront

from ..conftest import Customer, FakePlatform, Staff, assert_error


@pytest.fixture
def store_b(harness: ServiceHarness) -> str:
    """Storefront b: EUR, 20 % tax added, 7.50 shipping."""
    add_storefront(harness.app, make_storefront("b", currency="EUR",
                                                tax=StorefrontTax(rate=Decimal("0.20"), shipping_rate=Decimal("7.50"))))
    return "b"


@pytest.fixture
def store_a(harness: ServiceHarness) -> str:
    """Storefront a: EUR too, its own products."""
    add_storefront(harness.app, make_storefront("a", currency="EUR"))
    return "a"


def _money(order: dict[str, Any]) -> tuple[str, ...]:
    return tuple(order[k] for k in ("currency", "subtotal", "tax_amount", "shipping_cost", "total_amount"))


async def _all_orders(staff: Staff, query: str = "") -> dict[str, Any]:
    response = await staff.client.get(f"/api/v1/orders?all=true{query}", headers=staff.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class TestPlacingOnAStorefront:
    async def test_an_order_on_b_is_bs_with_its_currency_tax_and_shipping(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform, store_b: str,
            service_headers: dict[str, str]) -> None:
        lamp = platform.product(price="100.00", currency="EUR", storefronts=["b"])
        pack = platform.product(kind="credit_pack", price="10.00", currency="EUR")
        order = await customer.on(store_b).placed(items=[{"product_id": lamp["id"]}, {"product_id": pack["id"]}],
                                                  shipping_address_id=platform.address(customer.owner_id))
        # 20 % added on the lamp; the credit pack is digital: tax-inclusive, its 1.67 reported, not
        # added; b's 7.50 shipping.
        assert order["storefront"] == "b"
        assert _money(order) == ("EUR", "110.00", "21.67", "7.50", "137.50")
        # Read back anywhere: the detail, the list, the internal read payments and generation use.
        assert (await customer.on(store_b).order(order["id"]))["storefront"] == "b"
        internal = await harness.client.get(f"/internal/orders/{order['id']}", headers=service_headers)
        assert internal.json()["storefront"] == "b"
        listed = await customer.client.get("/api/v1/orders", headers=customer.on(store_b).headers)
        assert [(o["id"], o["storefront"]) for o in listed.json()["results"]] == [(order["id"], "b")]

    async def test_the_default_storefront_keeps_todays_totals(self, customer: Customer,
                                                              platform: FakePlatform) -> None:
        lamp = platform.product(price="100.00")
        order = await customer.placed(items=[{"product_id": lamp["id"]}],
                                      shipping_address_id=platform.address(customer.owner_id))
        assert order["storefront"] == "default"
        assert _money(order) == ("USD", "100.00", "9.00", "5.00", "114.00")
        # Before storefronts the default took any one currency of the catalog: it still does.
        pack = platform.product(kind="retry_pack", price="2.00", currency="GEL")
        assert _money(await customer.placed(items=[{"product_id": pack["id"]}])) == (
            "GEL", "2.00", "0.17", "0.00", "2.00")

    async def test_prices_including_tax_add_none_and_no_shipping_rate_keeps_the_setting(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> None:
        add_storefront(harness.app, make_storefront("c", currency="USD",
                                                    tax=StorefrontTax(rate=Decimal("0.10"), inclusive=True)))
        lamp = platform.product(price="100.00")
        order = await customer.on("c").placed(items=[{"product_id": lamp["id"]}],
                                              shipping_address_id=platform.address(customer.owner_id))
        # Nothing added; the 9.09 the price includes is reported.
        assert (order["storefront"], *_money(order)) == ("c", "USD", "100.00", "9.09", "5.00", "105.00")

    async def test_the_cart_of_the_storefront_is_the_one_ordered(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform, store_b: str) -> None:
        usd_lamp = platform.product(price="30.00")
        eur_lamp = platform.product(price="40.00", currency="EUR")
        platform.fill_cart(customer.owner_id, (usd_lamp, 1))
        platform.fill_cart(customer.owner_id, (eur_lamp, 2), storefront="b")
        order = await customer.on(store_b).placed(shipping_address_id=platform.address(customer.owner_id))
        assert [(i["product_id"], i["quantity"]) for i in order["items"]] == [(eur_lamp["id"], 2)]
        assert _money(order) == ("EUR", "80.00", "16.00", "7.50", "103.50")
        await harness.drain()
        [placed] = [e.data for e in harness.published("order.placed")]
        # Cart clears the cart of the storefront the event names.
        assert (placed["storefront"], placed["from_cart"], placed["currency"]) == ("b", True, "EUR")

    async def test_a_price_changed_in_bs_cart_reprices_bs_cart_only(
            self, customer: Customer, platform: FakePlatform, store_b: str) -> None:
        lamp = platform.product(price="40.00", currency="EUR")
        platform.fill_cart(customer.owner_id, (lamp, 1), storefront="b")
        platform.fill_cart(customer.owner_id, (lamp, 1))
        lamp["price"] = "45.00"
        assert_error(await customer.on(store_b).place(shipping_address_id=platform.address(customer.owner_id)),
                     409, "PRICE_CHANGED")
        assert platform.carts_of("b")[customer.owner_id][0]["unit_price"] == "45.00"
        assert platform.carts[customer.owner_id][0]["unit_price"] == "40.00"

    async def test_an_unknown_storefront_is_400(self, customer: Customer, platform: FakePlatform) -> None:
        pack = platform.product(kind="credit_pack")
        assert_error(await customer.on("nowhere").place(items=[{"product_id": pack["id"]}]),
                     400, "UNKNOWN_STOREFRONT")


class TestNothingSoldThatTheStorefrontDoesNotOffer:
    async def test_a_product_of_a_is_refused_on_b_and_nothing_is_written(
            self, harness: ServiceHarness, customer: Customer, staff: Staff, platform: FakePlatform,
            store_a: str, store_b: str) -> None:
        lamp = platform.product(price="100.00", currency="EUR", storefronts=["a"])
        address = platform.address(customer.owner_id)
        for reference in ({"product_id": lamp["id"]}, {"sku": lamp["sku"]}):
            error = assert_error(await customer.on(store_b).place(items=[reference], shipping_address_id=address),
                                 400, "PRODUCT_UNAVAILABLE")
            assert error["details"] == {"product": lamp["id"] if "product_id" in reference else lamp["sku"]}
        # From b's cart too (a line added before the product was scoped to a).
        platform.fill_cart(customer.owner_id, (lamp, 1), storefront="b")
        assert_error(await customer.on(store_b).place(shipping_address_id=address), 400, "PRODUCT_UNAVAILABLE")
        assert (await _all_orders(staff))["count"] == 0
        await harness.drain()
        assert harness.published("order.placed") == []
        # On a it sells.
        order = await customer.on(store_a).placed(items=[{"product_id": lamp["id"]}], shipping_address_id=address)
        assert order["storefront"] == "a"

    async def test_a_kind_the_storefront_does_not_sell_is_refused(self, harness: ServiceHarness,
                                                                  customer: Customer, platform: FakePlatform) -> None:
        add_storefront(harness.app, make_storefront("goods", currency="EUR", sells=["physical"]))
        pack = platform.product(kind="credit_pack", currency="EUR")
        assert_error(await customer.on("goods").place(items=[{"product_id": pack["id"]}]),
                     400, "PRODUCT_UNAVAILABLE")

    async def test_the_internal_create_applies_it_too(self, harness: ServiceHarness, platform: FakePlatform,
                                                      store_b: str, service_headers: dict[str, str]) -> None:
        pack = platform.product(kind="credit_pack", sku="PACK_A", currency="EUR", storefronts=["a"])
        response = await harness.client.post("/internal/orders", headers=service_headers, json={
            "owner_id": str(uuid.uuid4()), "storefront": "b", "items": [{"product_id": pack["id"]}]})
        assert_error(response, 400, "PRODUCT_UNAVAILABLE")

    async def test_a_price_in_another_currency_than_the_storefronts_is_refused(
            self, customer: Customer, platform: FakePlatform, store_b: str) -> None:
        pack = platform.product(kind="credit_pack", price="5.00", currency="USD")
        error = assert_error(await customer.on(store_b).place(items=[{"product_id": pack["id"]}]),
                             400, "CURRENCY_MISMATCH")
        assert error["details"] == {"currencies": ["USD"], "storefront": "b", "storefront_currency": "EUR"}


class TestInternalCreate:
    async def test_the_storefront_named_in_the_body(self, harness: ServiceHarness, platform: FakePlatform,
                                                    store_b: str, service_headers: dict[str, str]) -> None:
        platform.product(kind="credit_pack", sku="PACK_EUR", price="9.99", currency="EUR")
        platform.product(kind="credit_pack", sku="PACK_USD", price="4.99", currency="USD")
        owner = str(uuid.uuid4())
        on_b = await harness.client.post("/internal/orders", headers=service_headers, json={
            "owner_id": owner, "storefront": "b", "items": [{"sku": "PACK_EUR"}]})
        assert on_b.status_code == 201, on_b.text
        assert (on_b.json()["storefront"], *_money(on_b.json())) == ("b", "EUR", "9.99", "1.67", "0.00", "9.99")
        # Without one: the default, as before.
        plain = await harness.client.post("/internal/orders", headers=service_headers, json={
            "owner_id": owner, "items": [{"sku": "PACK_USD"}]})
        assert plain.status_code == 201, plain.text
        assert plain.json()["storefront"] == "default"
        await harness.drain()
        assert [e.data["storefront"] for e in harness.published("order.placed")] == ["b", "default"]

    @pytest.mark.parametrize(("storefront", "status", "code"), [
        ("nowhere", 400, "UNKNOWN_STOREFRONT"), ("", 400, "VALIDATION_ERROR"), (7, 400, "VALIDATION_ERROR")])
    async def test_a_bad_storefront_is_400(self, harness: ServiceHarness, platform: FakePlatform,
                                           service_headers: dict[str, str], storefront: Any, status: int,
                                           code: str) -> None:
        platform.product(kind="credit_pack", sku="PACK")
        response = await harness.client.post("/internal/orders", headers=service_headers, json={
            "owner_id": str(uuid.uuid4()), "storefront": storefront, "items": [{"sku": "PACK"}]})
        assert_error(response, status, code)


class TestListsByStorefront:
    async def test_a_customer_lists_the_storefronts_orders_and_reads_any_of_theirs(
            self, customer: Customer, platform: FakePlatform, store_b: str) -> None:
        usd = platform.product(kind="credit_pack", currency="USD")
        eur = platform.product(kind="credit_pack", currency="EUR")
        on_default = await customer.placed(items=[{"product_id": usd["id"]}])
        on_b = await customer.on(store_b).placed(items=[{"product_id": eur["id"]}])
        default_list = (await customer.client.get("/api/v1/orders", headers=customer.headers)).json()
        assert [o["id"] for o in default_list["results"]] == [on_default["id"]]
        b_list = (await customer.client.get("/api/v1/orders", headers=customer.on(store_b).headers)).json()
        assert [o["id"] for o in b_list["results"]] == [on_b["id"]]
        # The detail by id is the owner's on every storefront (a mail's link opens it).
        assert (await customer.order(on_b["id"]))["storefront"] == "b"
        assert (await customer.on(store_b).order(on_default["id"]))["storefront"] == "default"

    async def test_staff_filter_every_customers_orders_by_storefront(
            self, customer: Customer, other_customer: Customer, staff: Staff, platform: FakePlatform,
            store_b: str) -> None:
        usd = platform.product(kind="credit_pack", currency="USD")
        eur = platform.product(kind="credit_pack", currency="EUR")
        on_default = await customer.placed(items=[{"product_id": usd["id"]}])
        on_b = [await c.on(store_b).placed(items=[{"product_id": eur["id"]}]) for c in (customer, other_customer)]
        everything = await _all_orders(staff)
        assert everything["count"] == 3
        b_only = await _all_orders(staff, "&storefront=b")
        assert {o["id"] for o in b_only["results"]} == {o["id"] for o in on_b}
        assert {o["storefront"] for o in b_only["results"]} == {"b"}
        assert [o["id"] for o in (await _all_orders(staff, "&storefront=default"))["results"]] == [on_default["id"]]
        assert (await _all_orders(staff, "&storefront=gone"))["count"] == 0  # a deleted one's are still listed

    async def test_only_staff_filter_by_storefront(self, customer: Customer, staff: Staff) -> None:
        assert_error(await customer.client.get("/api/v1/orders?storefront=b", headers=customer.headers),
                     403, "PERMISSION_DENIED")
        for query in ("storefront=", f"storefront={'x' * 65}"):
            assert_error(await staff.client.get(f"/api/v1/orders?all=true&{query}", headers=staff.headers),
                         400, "VALIDATION_ERROR")


class TestStorefrontCounts:
    async def test_orders_and_unpaid_orders_of_a_storefront(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform, store_b: str,
            service_headers: dict[str, str]) -> None:
        eur = platform.product(kind="credit_pack", price="3.00", currency="EUR")
        usd = platform.product(kind="credit_pack", price="3.00", currency="USD")
        waiting, paid, cancelled = [await customer.on(store_b).placed(items=[{"product_id": eur["id"]}])
                                    for _ in range(3)]
        await customer.placed(items=[{"product_id": usd["id"]}])
        await harness.deliver(OrderPaid(order_id=paid["id"], owner_id=customer.owner_id, amount=Decimal("3.00"),
                                        currency="EUR", payment_id=uuid.uuid4(), provider="local"))
        assert (await customer.cancel(cancelled["id"])).status_code == 200
        response = await harness.client.get("/internal/storefronts/b/orders", headers=service_headers)
        assert response.status_code == 200, response.text
        assert response.json() == {"orders": 3, "unpaid": 1}
        assert (await harness.client.get("/internal/storefronts/default/orders", headers=service_headers)
                ).json() == {"orders": 1, "unpaid": 1}
        assert (await harness.client.get("/internal/storefronts/never/orders", headers=service_headers)
                ).json() == {"orders": 0, "unpaid": 0}
        assert waiting["status"] == "pending"

    async def test_the_service_credential_is_required(self, harness: ServiceHarness, test_keys: TestKeys) -> None:
        for headers in ({}, test_keys.staff_headers()):
            assert_error(await harness.client.get("/internal/storefronts/b/orders", headers=headers),
                         401, "AUTHENTICATION_REQUIRED")


class TestEventsNameTheStorefront:
    async def test_placed_status_changed_and_cancelled(self, harness: ServiceHarness, customer: Customer,
                                                       staff: Staff, platform: FakePlatform, store_b: str) -> None:
        lamp = platform.product(price="10.00", currency="EUR")
        address = platform.address(customer.owner_id)
        cancelled = await customer.on(store_b).placed(items=[{"product_id": lamp["id"]}], shipping_address_id=address)
        moved = await customer.on(store_b).placed(items=[{"product_id": lamp["id"]}], shipping_address_id=address)
        assert (await customer.cancel(cancelled["id"])).status_code == 200
        await harness.deliver(OrderPaid(order_id=moved["id"], owner_id=customer.owner_id, amount=Decimal("19.50"),
                                        currency="EUR", payment_id=uuid.uuid4(), provider="local"))
        await staff.moved(moved["id"], "processing")
        await staff.moved(moved["id"], "cancelled")
        await harness.drain()
        for event_type, count in (("order.placed", 2), ("order.status_changed", 6), ("order.cancelled", 2)):
            events = harness.published(event_type)
            assert [e.data["storefront"] for e in events] == ["b"] * count, event_type


class TestOrdersPlacedMetric:
    async def test_counted_by_storefront_and_currency_once_committed(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform, store_b: str) -> None:
        def placed(storefront: str, currency: str) -> float:
            return REGISTRY.get_sample_value("atelier_orders_placed_total",
                                             {"storefront": storefront, "currency": currency}) or 0.0

        before = placed("b", "EUR"), placed("default", "USD")
        eur = platform.product(kind="credit_pack", currency="EUR")
        usd = platform.product(kind="credit_pack", currency="USD")
        for _ in range(2):
            await customer.on(store_b).placed(items=[{"product_id": eur["id"]}])
        await customer.placed(items=[{"product_id": usd["id"]}])
        # A refused order is not counted.
        assert_error(await customer.on(store_b).place(items=[{"product_id": usd["id"]}]), 400, "CURRENCY_MISMATCH")
        assert (placed("b", "EUR") - before[0], placed("default", "USD") - before[1]) == (2, 1)
        text = (await harness.client.get("/metrics")).text
        assert 'atelier_orders_placed_total{currency="EUR",storefront="b"}' in text


async def test_a_request_without_a_storefront_is_the_default_storefronts(harness: ServiceHarness,
                                                                         customer: Customer,
                                                                         platform: FakePlatform) -> None:
    pack = platform.product(kind="credit_pack")
    assert (await customer.placed(items=[{"product_id": pack["id"]}]))["storefront"] == "default"
    headers = {**customer.headers, **on_storefront("default")}
    listed = await customer.client.get("/api/v1/orders", headers=headers)
    assert listed.json()["count"] == 1
