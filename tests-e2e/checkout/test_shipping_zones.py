"""Shipping zones, methods and tax by region through the gateway, in both modes: buyers in two
zones see different shipping and tax for the same cart and are charged exactly that, with the
method they chose recorded; an address outside every zone is refused and nothing is written; a
zone staff reprice shows and charges the new price."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from infra.journeys import customer, poll, staff

from atelier_common.contracts.identity import ShippingZone
from atelier_testing import assert_error

pytestmark = pytest.mark.e2e

ZONES: list[dict[str, Any]] = [
    # Shipping untaxed in both (tests-e2e/pricing/test_tax_rules.py holds the taxed default).
    {"code": "california", "name": "California", "regions": ["US-CA"], "tax_rate": "0.0725", "shipping_taxed": False,
     "methods": [{"code": "standard", "name": "Standard", "amount": "5.95"},
                 {"code": "express", "name": "Express", "amount": "14.95"}]},
    {"code": "us", "name": "United States", "countries": ["US"], "shipping_taxed": False,
     "methods": [{"code": "ground", "name": "Ground", "kind": "subtotal",
                  "tiers": [{"min": "0", "amount": "7.95"}, {"min": "100", "amount": "3.95"}]}]},
]
# Each (zone, method) code's id, as identity derives it for zones sent without ids and
# `GET /shipping-methods` lists it.
IDS = {(zone.code, method.code): str(method.id)
       for zone in map(ShippingZone.model_validate, ZONES) for method in zone.methods}
ADDRESS = {"label": "Home", "type": "shipping", "first_name": "Ada", "last_name": "King",
           "street_address": "1 Main Street", "postal_code": "90001", "phone": "+12135550100",
           "email": "ada@example.com"}


class Shop:
    """A storefront of its own (USD, 10 % tax added) with the two zones above and one product."""

    def __init__(self, api: httpx.AsyncClient) -> None:
        self.api = api
        self.slug = f"zones-{uuid.uuid4().hex[:8]}"
        self.on = {"X-Atelier-Storefront": self.slug}
        self.staff: dict[str, str] = {}
        self.product: dict[str, Any] = {}

    async def create(self) -> Shop:
        self.staff = {**await staff(self.api)}
        origin = f"https://{self.slug}.example"
        r = await self.api.post("/api/v1/storefronts", headers=self.staff, json={
            "slug": self.slug, "name": "Zoned", "origins": [origin], "frontend_url": origin, "currency": "USD",
            "tax": {"rate": "0.10", "inclusive": False}, "sells": ["physical"], "shipping_zones": ZONES})
        assert r.status_code == 201, r.text
        await poll(self._known, timeout=60, message=f"storefront {self.slug} known")
        r = await self.api.post("/api/v1/products", headers=self.staff, json={
            "name": f"Lamp {self.slug}", "sku": f"LAMP-{self.slug}", "price": "40.00", "currency": "USD",
            "stock_quantity": 50, "kind": "physical", "storefronts": [self.slug],
            "attributes": {"weight_grams": 600}})
        assert r.status_code == 201, r.text
        self.product = r.json()
        return self

    async def _known(self) -> bool:
        r = await self.api.get("/api/v1/storefront", headers=self.on)
        return r.status_code == 200 and r.json()["slug"] == self.slug

    async def buyer(self, quantity: int, **address: str) -> tuple[dict[str, str], str]:
        """A customer with `quantity` lamps in the cart here and an address (country, state) there."""
        auth = {**await customer(self.api), **self.on}
        r = await self.api.post("/api/v1/cart/items", headers=auth,
                                json={"product_id": self.product["id"], "quantity": quantity})
        assert r.status_code == 201, r.text
        r = await self.api.post("/api/v1/addresses", headers=auth, json={**ADDRESS, **address})
        assert r.status_code == 201, r.text
        return auth, r.json()["id"]

    async def methods(self, auth: dict[str, str], **query: str) -> list[dict[str, Any]]:
        r = await self.api.get("/api/v1/shipping-methods", headers=auth, params=query)
        assert r.status_code == 200, r.text
        body: list[dict[str, Any]] = r.json()
        return body

    async def methods_once_known(self, auth: dict[str, str], zone: str, **query: str) -> list[dict[str, Any]]:
        """The methods, once orders' copy of the storefront has its zones (an event away in the
        distributed mode): the zone's own ids."""
        async def ready() -> list[dict[str, Any]] | None:
            r = await self.api.get("/api/v1/shipping-methods", headers=auth, params=query)
            body: list[dict[str, Any]] = r.json()
            ids = {IDS[key] for key in IDS if key[0] == zone}
            return body if r.status_code == 200 and body and {m["id"] for m in body} <= ids else None
        return await poll(ready, timeout=60, message=f"the zone {zone} known to orders")


def _priced(methods: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    return [(m["id"], m["price"], m["tax_amount"], m["total_amount"]) for m in methods]


def _subtotal(method: dict[str, Any]) -> str:
    """The cart's subtotal a listed method's total stands on (no discount here)."""
    return str(Decimal(method["total_amount"]) - Decimal(method["tax_amount"]) - Decimal(method["price"]))


async def test_each_zone_its_shipping_and_tax_shown_then_charged_and_nowhere_else(api: httpx.AsyncClient) -> None:
    shop = await Shop(api).create()

    # California: its own 7.25 % on 40.00 (2.90) and two methods; the buyer picks express.
    californian, ca_address = await shop.buyer(1, country="US", state="CA", city="Los Angeles")
    shown = await shop.methods_once_known(californian, "california", country="US", region="CA")
    assert [_subtotal(m) for m in shown] == ["40.00", "40.00"]
    assert _priced(shown) == [(IDS["california", "standard"], "5.95", "2.90", "48.85"),
                              (IDS["california", "express"], "14.95", "2.90", "57.85")]
    # The address's own listing is the destination's.
    assert await shop.methods(californian, address_id=ca_address) == shown
    r = await api.post("/api/v1/orders", headers=californian,
                       json={"shipping_address_id": ca_address, "shipping_method_id": shown[1]["id"]})
    assert r.status_code == 201, r.text
    order = r.json()
    assert (order["total_amount"], order["tax_amount"], order["shipping_cost"]) == ("57.85", "2.90", "14.95")
    assert (order["shipping_method"], order["shipping_zone"], order["tax_rate"]) == (
        {"id": IDS["california", "express"], "name": "Express", "price": "14.95"}, "california", "0.0725")
    r = await api.get(f"/api/v1/orders/{order['id']}", headers=californian)
    assert r.status_code == 200 and r.json()["shipping_method"] == order["shipping_method"], r.text

    # New York: the US zone, the storefront's 10 % and the ground tier of 3 lamps (120.00: 3.95).
    new_yorker, ny_address = await shop.buyer(3, country="US", state="NY", city="New York")
    shown = await shop.methods_once_known(new_yorker, "us", country="US", region="NY")
    assert _priced(shown) == [(IDS["us", "ground"], "3.95", "12.00", "135.95")]
    r = await api.post("/api/v1/orders", headers=new_yorker, json={"shipping_address_id": ny_address})
    assert r.status_code == 201, r.text
    assert (r.json()["total_amount"], r.json()["shipping_method"], r.json()["shipping_zone"]) == (
        "135.95", {"id": IDS["us", "ground"], "name": "Ground", "price": "3.95"}, "us")

    # An address outside every zone: no option shown, the order refused, nothing written.
    londoner, gb_address = await shop.buyer(1, country="GB", city="London")
    assert await shop.methods(londoner, country="GB") == []
    assert await shop.methods(londoner, address_id=gb_address) == []
    for body in ({"shipping_address_id": gb_address}, {"shipping_address_id": gb_address, "shipping_method": "express"}):
        error = assert_error(await api.post("/api/v1/orders", headers=londoner, json=body), 400, "SHIPPING_NOT_AVAILABLE")
        assert error["details"] == {"zone": None}
    assert (await api.get("/api/v1/orders", headers=londoner)).json()["count"] == 0
    assert len((await api.get("/api/v1/cart", headers=londoner)).json()["items"]) == 1

    # Staff see the method on the order.
    r = await api.get(f"/api/v1/staff/orders/{order['id']}", headers=shop.staff)
    assert r.status_code == 200, r.text
    assert (r.json()["shipping_method"], r.json()["shipping_zone"], r.json()["tax_rate"]) == (
        {"id": IDS["california", "express"], "name": "Express", "price": "14.95"}, "california", "0.0725")

    # Staff reprice California's standard shipping: the methods show it, and the order charges it.
    repriced = [{**ZONES[0], "methods": [{**ZONES[0]["methods"][0], "amount": "3.95"}, ZONES[0]["methods"][1]]},
                ZONES[1]]
    r = await api.patch(f"/api/v1/storefronts/{shop.slug}", headers=shop.staff, json={"shipping_zones": repriced})
    assert r.status_code == 200, r.text
    second, second_address = await shop.buyer(1, country="us", state="us-ca", city="San Diego")

    async def repriced_shown() -> list[dict[str, Any]] | None:
        body = await shop.methods(second, country="US", region="CA")
        return body if body and body[0]["price"] == "3.95" else None

    shown = await poll(repriced_shown, timeout=60, message="the new price known to orders")
    # Ground is the rest of the US's: not offered in California.
    error = assert_error(await api.post("/api/v1/orders", headers=second, json={
        "shipping_address_id": second_address, "shipping_method": "ground"}), 400, "SHIPPING_METHOD_UNAVAILABLE")
    assert error["details"] == {"shipping_method": "ground", "zone": "california", "available": ["standard", "express"]}
    r = await api.post("/api/v1/orders", headers=second, json={"shipping_address_id": second_address})
    assert r.status_code == 201, r.text
    assert (r.json()["shipping_method"], r.json()["total_amount"]) == (
        {"id": IDS["california", "standard"], "name": "Standard", "price": "3.95"}, shown[0]["total_amount"])
    assert r.json()["total_amount"] == "46.85"
