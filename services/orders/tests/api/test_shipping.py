"""Shipping zones and methods at checkout: the shipping address's zone picks the methods and
the tax rate, the order records what it shipped by (`shipping_method` `{id, name, price}`), nothing is sold that
cannot be delivered, and `GET /shipping-methods` shows the very totals the order is charged."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import col

from atelier_common.contracts.identity import ShippingZone, StorefrontTax
from atelier_orders.models import Order
from atelier_orders.pricing import destinations
from atelier_testing import ServiceHarness, TestKeys
from atelier_testing.storefronts import add_storefront, make_storefront

from ..conftest import Customer, FakePlatform, Staff, assert_error
from ..events.test_saga import paid

ZONES: list[dict[str, Any]] = [
    {"code": "california", "name": "California", "regions": ["US-CA"], "tax_rate": "0.0725", "shipping_taxed": False,
     "methods": [{"code": "standard", "name": "Standard (3-5 days)", "amount": "5.95", "free_over": "75"},
                 {"code": "express", "name": "Express", "amount": "14.95"}]},
    {"code": "us", "name": "United States", "countries": ["US"],
     "methods": [{"code": "standard", "name": "Standard (3-7 days)", "kind": "subtotal",
                  "tiers": [{"min": "0", "amount": "7.95"}, {"min": "50", "amount": "4.95"}]}]},
    {"code": "uk", "name": "United Kingdom", "countries": ["GB"], "tax_rate": "0.20",
     "methods": [{"code": "tracked", "name": "Tracked", "kind": "weight",
                  "tiers": [{"min": "0", "amount": "9.00"}, {"min": "1000", "amount": "12.00"}]}]},
]
MONEY = ("subtotal", "tax_amount", "shipping_cost", "total_amount")


def _id(zone: int, method: int) -> str:
    """The id of ZONES[zone]'s method `method`, as GET /shipping-methods lists it."""
    return str(ShippingZone.model_validate(ZONES[zone]).methods[method].id)


STANDARD, EXPRESS, TRACKED = _id(0, 0), _id(0, 1), _id(2, 0)


@pytest.fixture
def zoned(harness: ServiceHarness) -> str:
    """Storefront z: USD, 9 % tax added, the three zones above and no rest of the world."""
    add_storefront(harness.app, make_storefront("z", currency="USD", tax=StorefrontTax(rate=Decimal("0.09")),
                                                shipping_zones=[ShippingZone.model_validate(z) for z in ZONES]))
    return "z"


def _money(body: dict[str, Any]) -> tuple[str, ...]:
    return tuple(body[key] for key in MONEY)


async def _methods(customer: Customer, **query: str) -> list[dict[str, Any]]:
    response = await customer.client.get("/api/v1/shipping-methods", params=query, headers=customer.headers)
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


async def _count(staff: Staff) -> int:
    response = await staff.client.get("/api/v1/orders?all=true&storefront=z", headers=staff.headers)
    assert response.status_code == 200, response.text
    count: int = response.json()["count"]
    return count


class TestPlacing:
    async def test_the_zones_first_method_and_tax_are_charged_and_recorded(
            self, customer: Customer, platform: FakePlatform, zoned: str) -> None:
        lamp = platform.product(price="30.00")
        order = await customer.on(zoned).placed(items=[{"product_id": lamp["id"]}], shipping_address_id=(
            platform.address(customer.owner_id, country="US", state="CA")))
        # 7.25 % of 30.00 = 2.175 → 2.18 (half up); California's standard 5.95.
        assert _money(order) == ("30.00", "2.18", "5.95", "38.13")
        assert (order["shipping_method"], order["shipping_zone"], order["tax_rate"]) == (
            {"id": STANDARD, "name": "Standard (3-5 days)", "price": "5.95"}, "california", "0.0725")
        assert (await customer.on(zoned).order(order["id"]))["shipping_method"] == order["shipping_method"]

    async def test_order_placed_names_the_method(self, harness: ServiceHarness, customer: Customer,
                                                 platform: FakePlatform, zoned: str) -> None:
        lamp = platform.product(price="30.00")
        await customer.on(zoned).placed(items=[{"product_id": lamp["id"]}], shipping_method="express",
                                        shipping_address_id=platform.address(customer.owner_id, country="US",
                                                                             state="CA"))
        await harness.drain()
        assert [e.data["shipping_method"] for e in harness.published("order.placed")] == ["express"]

    async def test_a_method_chosen_is_charged_and_recorded(
            self, customer: Customer, platform: FakePlatform, staff: Staff, zoned: str) -> None:
        lamp = platform.product(price="30.00")
        order = await customer.on(zoned).placed(
            items=[{"product_id": lamp["id"]}], shipping_method="express",
            shipping_address_id=platform.address(customer.owner_id, country="US", state="CA"))
        assert (order["shipping_method"], order["shipping_cost"], order["total_amount"]) == (
            {"id": EXPRESS, "name": "Express", "price": "14.95"}, "14.95", "47.13")
        response = await staff.client.get(f"/api/v1/staff/orders/{order['id']}", headers=staff.headers)
        assert response.status_code == 200, response.text
        assert (response.json()["shipping_method"], response.json()["shipping_zone"]) == (
            {"id": EXPRESS, "name": "Express", "price": "14.95"}, "california")
        assert "shipping_method_name" not in response.json()

    async def test_another_zone_another_price_and_rate(self, customer: Customer, platform: FakePlatform,
                                                       zoned: str) -> None:
        lamp = platform.product(price="30.00", attributes={"weight_grams": 600})
        order = await customer.on(zoned).placed(items=[{"product_id": lamp["id"], "quantity": 2}],
                                                shipping_address_id=platform.address(customer.owner_id, country="GB"))
        # 1200 g: the 1000 g tier; the UK's 20 %, on the goods and (a zone that taxes goods) on shipping:
        # (60.00 + 12.00) × 20 % = 14.40.
        assert _money(order) == ("60.00", "14.40", "12.00", "86.40")
        assert (order["shipping_tax"], order["items"][0]["tax_amount"]) == ("2.40", "12.00")
        assert (order["shipping_zone"], order["shipping_method"], order["tax_rate"]) == (
            "uk", {"id": TRACKED, "name": "Tracked", "price": "12.00"}, "0.2")
        # The US outside California: the storefront's own 9 % (on the goods and the shipping: the zone
        # taxes goods and says nothing of shipping) and the subtotal tier 50+.
        order = await customer.on(zoned).placed(items=[{"product_id": lamp["id"], "quantity": 2}],
                                                shipping_address_id=platform.address(customer.owner_id, country="US",
                                                                                     state="NY"))
        assert _money(order) == ("60.00", "5.85", "4.95", "70.80")

    async def test_an_address_no_zone_covers_is_400_and_nothing_is_written(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform, staff: Staff,
            zoned: str) -> None:
        lamp = platform.product(price="30.00")
        error = assert_error(await customer.on(zoned).place(
            items=[{"product_id": lamp["id"]}], shipping_address_id=platform.address(customer.owner_id)),
            400, "SHIPPING_NOT_AVAILABLE")
        assert error["details"] == {"zone": None}
        assert await _count(staff) == 0
        await harness.drain()
        assert harness.published("order.placed") == []

    async def test_a_method_the_zone_does_not_offer_is_400_with_those_it_does(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform, staff: Staff,
            zoned: str) -> None:
        lamp = platform.product(price="30.00")
        address = platform.address(customer.owner_id, country="US", state="TX")
        error = assert_error(await customer.on(zoned).place(items=[{"product_id": lamp["id"]}],
                                                            shipping_method="express", shipping_address_id=address),
                             400, "SHIPPING_METHOD_UNAVAILABLE")
        assert error["details"] == {"shipping_method": "express", "zone": "us", "available": ["standard"]}
        assert await _count(staff) == 0

    async def test_a_digital_order_needs_no_zone_and_ignores_a_method(
            self, customer: Customer, platform: FakePlatform, zoned: str) -> None:
        pack = platform.product(kind="credit_pack", price="10.00", attributes={"credits": 5})
        order = await customer.on(zoned).placed(items=[{"product_id": pack["id"]}], shipping_method="express")
        # Its price includes its tax (the storefront's 9 %: 10 × 0.09 / 1.09 = 0.83), reported, not added.
        assert (*_money(order), order["tax_included"], order["shipping_method"], order["shipping_zone"]) == (
            "10.00", "0.83", "0.00", "10.00", "0.83", None, None)

    async def test_a_storefront_without_zones_is_unchanged_and_refuses_a_method(
            self, customer: Customer, platform: FakePlatform) -> None:
        lamp = platform.product(price="100.00")
        address = platform.address(customer.owner_id)
        order = await customer.placed(items=[{"product_id": lamp["id"]}], shipping_address_id=address)
        assert _money(order) == ("100.00", "9.00", "5.00", "114.00")
        assert (order["shipping_method"], order["shipping_zone"], order["tax_rate"]) == (None, None, "0.09")
        assert_error(await customer.place(items=[{"product_id": lamp["id"]}], shipping_method="standard",
                                          shipping_address_id=address), 400, "SHIPPING_METHOD_UNAVAILABLE")

    async def test_the_invoice_names_the_method_and_the_rate(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform, zoned: str) -> None:
        lamp = platform.product(price="30.00")
        order = await customer.on(zoned).placed(items=[{"product_id": lamp["id"]}], shipping_address_id=(
            platform.address(customer.owner_id, country="US", state="CA")))
        await harness.deliver(paid(order))
        response = await customer.client.get(f"/api/v1/orders/{order['id']}/invoice",
                                             headers={**customer.headers, "Accept": "application/json"})
        assert response.status_code == 200, response.text
        assert (response.json()["shipping_method_name"], response.json()["tax_rate"]) == (
            "Standard (3-5 days)", "0.0725")
        pdf = await customer.client.get(f"/api/v1/orders/{order['id']}/invoice.pdf", headers=customer.headers)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


class TestTaxClasses:
    async def test_each_line_is_taxed_at_its_classs_rate_in_the_zone_and_invoiced_per_rate(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform) -> None:
        # France: 20 %, books 5.5 %; the storefront's own reduced rate (10 %) does not apply there.
        add_storefront(harness.app, make_storefront("r", currency="EUR", tax=StorefrontTax(
            rate=Decimal("0.10"), tax_rates={"reduced": Decimal("0.10")}), shipping_zones=[ShippingZone.model_validate(
                {"code": "fr", "name": "France", "countries": ["FR"], "tax_rate": "0.20",
                 "tax_rates": {"reduced": "0.055"},
                 "methods": [{"code": "colissimo", "name": "Colissimo", "amount": "5.00"}]})]))
        lamp = platform.product(price="40.00", currency="EUR")
        book, guide = (platform.product(price=price, currency="EUR", tax_class="reduced") for price in ("2.10", "4.10"))
        bread = platform.product(price="9.00", currency="EUR", tax_class="zero")
        platform.fill_cart(customer.owner_id, (lamp, 1), (book, 1), (guide, 1), (bread, 1), storefront="r")
        shopper = customer.on("r")
        [method] = await _methods(shopper, country="FR")
        order = await shopper.placed(shipping_address_id=platform.address(customer.owner_id, country="FR"))
        # (40.00 + 5.00 shipping) × 20 % = 9.00; 6.20 of books × 5.5 % = 0.341 → 0.34 once; bread untaxed.
        assert _money(order) == ("55.20", "9.34", "5.00", "69.54") and method["total_amount"] == "69.54"
        assert [(i["tax_rate"], i["tax_amount"]) for i in order["items"]] == [
            ("0.2", "8.00"), ("0.055", "0.12"), ("0.055", "0.22"), ("0", "0.00")]
        assert (order["tax_rate"], order["shipping_tax"]) == ("0.2", "1.00")  # shipping at the standard rate
        await harness.deliver(paid(order))
        response = await customer.client.get(f"/api/v1/orders/{order['id']}/invoice",
                                             headers={**customer.headers, "Accept": "application/json"})
        assert response.status_code == 200, response.text
        assert response.json()["taxes"] == [
            {"rate": "0.2", "inclusive": False, "base": "45.00", "tax": "9.00"},
            {"rate": "0.055", "inclusive": False, "base": "6.20", "tax": "0.34"},
            {"rate": "0", "inclusive": False, "base": "9.00", "tax": "0.00"}]

    async def test_the_carts_quote_taxes_the_discounted_lines_at_their_classs_rate(
            self, harness: ServiceHarness, test_keys: TestKeys, service_headers: dict[str, str]) -> None:
        add_storefront(harness.app, make_storefront("q", currency="USD", tax=StorefrontTax(
            rate=Decimal("0.20"), tax_rates={"reduced": Decimal("0.055")})))
        response = await harness.client.post("/api/v1/staff/promotions", headers=test_keys.staff_headers("merchandiser"),
                                             json={"name": "Ten off", "kind": "percentage", "value": "10",
                                                   "code": "TEN", "storefront": "q"})
        assert response.status_code == 201, response.text
        quote = await harness.client.post("/internal/promotions/quote", headers=service_headers, json={
            "storefront": "q", "owner_id": str(uuid.uuid4()), "code": "ten", "lines": [
                {"product_id": str(uuid.uuid4()), "unit_price": "50.00", "quantity": 1},
                {"product_id": str(uuid.uuid4()), "unit_price": "20.00", "quantity": 1, "tax_class": "reduced"}]})
        assert quote.status_code == 200, quote.text
        # 10 % off each: 45.00 at 20 % = 9.00, 18.00 at 5.5 % = 0.99.
        assert (quote.json()["discount_total"], quote.json()["tax_amount"], quote.json()["total"]) == (
            "7.00", "9.99", "72.99")


class TestShippingMethods:
    async def test_each_method_with_the_total_the_order_is_then_charged(
            self, customer: Customer, platform: FakePlatform, zoned: str) -> None:
        lamp = platform.product(price="40.00")
        platform.fill_cart(customer.owner_id, (lamp, 2), storefront=zoned)
        shopper = customer.on(zoned)
        methods = await _methods(shopper, country="US", region="CA")
        # California's methods; 80.00 ships free by standard (over 75); California's 7.25 %: 5.80.
        assert [(m["id"], m["price"], m["tax_amount"], m["total_amount"]) for m in methods] == [
            (STANDARD, "0.00", "5.80", "85.80"), (EXPRESS, "14.95", "5.80", "100.75")]
        # The older code still orders a method: the one listed with that total.
        order = await shopper.placed(shipping_method="express", shipping_address_id=platform.address(
            customer.owner_id, country="US", state="CA"))
        assert (order["total_amount"], order["shipping_zone"], order["tax_rate"], order["currency"],
                order["subtotal"]) == ("100.75", "california", "0.0725", "USD", "80.00")
        assert order["shipping_method"] == {"id": EXPRESS, "name": "Express", "price": "14.95"}

    async def test_elsewhere_other_methods_and_none_where_it_does_not_ship(
            self, customer: Customer, platform: FakePlatform, zoned: str) -> None:
        lamp = platform.product(price="40.00")
        platform.fill_cart(customer.owner_id, (lamp, 1), storefront=zoned)
        shopper = customer.on(zoned)
        uk = await _methods(shopper, country="gb")
        # 40.00 + 9.00 shipping, both taxed at the UK's 20 %: 58.80.
        assert [(m["id"], m["name"], m["total_amount"]) for m in uk] == [(TRACKED, "Tracked", "58.80")]
        assert await _methods(shopper, country="GE") == []

    async def test_without_zones_the_one_charge(self, customer: Customer, platform: FakePlatform) -> None:
        lamp = platform.product(price="100.00")
        platform.fill_cart(customer.owner_id, (lamp, 1))
        methods = await _methods(customer, country="GE")
        assert methods == [{"id": None, "name": None, "price": "5.00", "tax_amount": "9.00", "discount": "0.00",
                            "total_amount": "114.00"}]

    async def test_an_empty_cart_or_no_destination_is_400(self, customer: Customer, zoned: str) -> None:
        response = await customer.client.get("/api/v1/shipping-methods", params={"country": "US"},
                                             headers=customer.on(zoned).headers)
        assert_error(response, 400, "CART_EMPTY")
        response = await customer.client.get("/api/v1/shipping-methods", headers=customer.on(zoned).headers)
        assert_error(response, 400, "VALIDATION_ERROR")

    async def test_the_old_route_is_gone(self, customer: Customer) -> None:
        response = await customer.client.get("/api/v1/shipping-options", params={"country": "US"},
                                             headers=customer.headers)
        assert response.status_code == 404, response.text

    @staticmethod
    async def _two_lamps_to_california(customer: Customer, platform: FakePlatform,
                                       zoned: str) -> tuple[Customer, str, httpx.Response]:
        """Two 40.00 lamps in the cart on `zoned`: (the shopper there, a Californian address, the
        methods listed for it)."""
        lamp = platform.product(price="40.00")
        platform.fill_cart(customer.owner_id, (lamp, 2), storefront=zoned)
        shopper = customer.on(zoned)
        address = platform.address(customer.owner_id, country="US", state="CA")
        response = await customer.client.get("/api/v1/shipping-methods", params={"address_id": str(address)},
                                             headers=shopper.headers)
        return shopper, address, response

    async def test_the_methods_at_an_address_priced_for_the_cart(
            self, customer: Customer, platform: FakePlatform, zoned: str) -> None:
        shopper, _, response = await self._two_lamps_to_california(customer, platform, zoned)
        assert response.status_code == 200, response.text
        california = ShippingZone.model_validate(ZONES[0])
        assert [(m["id"], m["name"], m["price"], m["total_amount"]) for m in response.json()] == [
            (str(california.methods[0].id), "Standard (3-5 days)", "0.00", "85.80"),
            (str(california.methods[1].id), "Express", "14.95", "100.75")]
        by_country = await customer.client.get("/api/v1/shipping-methods", params={"country": "US", "region": "CA"},
                                               headers=shopper.headers)
        assert by_country.json() == response.json()

    async def test_nowhere_is_an_empty_list_and_anothers_address_404(
            self, customer: Customer, platform: FakePlatform, zoned: str) -> None:
        lamp = platform.product(price="40.00")
        platform.fill_cart(customer.owner_id, (lamp, 1), storefront=zoned)
        shopper = customer.on(zoned)
        nowhere = platform.address(customer.owner_id, country="GE")
        response = await customer.client.get("/api/v1/shipping-methods", params={"address_id": str(nowhere)},
                                             headers=shopper.headers)
        assert (response.status_code, response.json()) == (200, [])
        theirs = platform.address(uuid.uuid4(), country="US", state="CA")
        response = await customer.client.get("/api/v1/shipping-methods", params={"address_id": str(theirs)},
                                             headers=shopper.headers)
        assert response.status_code == 404, response.text

    async def test_an_order_ships_by_the_method_id_listed(
            self, customer: Customer, platform: FakePlatform, zoned: str) -> None:
        shopper, address, response = await self._two_lamps_to_california(customer, platform, zoned)
        express = response.json()[1]
        order = await shopper.placed(shipping_method_id=express["id"], shipping_address_id=address)
        assert (order["shipping_cost"], order["total_amount"]) == ("14.95", express["total_amount"])


class TestOrderMethodId:
    async def test_an_order_placed_before_the_id_was_kept_shows_the_same_id(
            self, harness: ServiceHarness, customer: Customer, platform: FakePlatform, zoned: str) -> None:
        lamp = platform.product(price="30.00")
        order = await customer.on(zoned).placed(items=[{"product_id": lamp["id"]}], shipping_method="express",
                                                shipping_address_id=platform.address(customer.owner_id, country="US",
                                                                                     state="CA"))
        async with harness.runtime.db.transaction() as session:
            await session.execute(update(Order).where(col(Order.id) == uuid.UUID(order["id"]))
                                  .values(shipping_method_id=None))
        assert (await customer.on(zoned).order(order["id"]))["shipping_method"] == {
            "id": EXPRESS, "name": "Express", "price": "14.95"}


def test_a_method_id_from_its_codes() -> None:
    """Orders placed before the id was kept: the id the storefront's zones give the method."""
    assert str(destinations.shipping_method_id("california", "express")) == EXPRESS
    # Staff's zones and methods are coded by their ids.
    zone, method = uuid.uuid4(), uuid.uuid4()
    assert destinations.shipping_method_id(str(zone), str(method)) == method
    staff_zone = ShippingZone.model_validate({"id": str(zone), "code": str(zone), "name": "Staff's",
                                              "methods": [{"code": "post", "name": "Post"}]})
    assert destinations.shipping_method_id(str(zone), "post") == staff_zone.methods[0].id
    assert destinations.shipping_method_id(None, None) is None
