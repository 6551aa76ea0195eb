"""Tax as tax offices apply it, through the gateway in both modes: the total `GET /shipping-methods`
lists for a method is the total `POST /orders` charges (an automatic promotion lowering the taxed
base and deciding the free-over threshold), shipping taxed with the goods where the zone says so,
and a tax-inclusive zone reporting the tax its prices hold (docs/api.md#money-and-tax); and the cart
as the checkout: sent to an address by a method (`PUT /cart/shipping`), it shows each line's
discount and tax, shipping and the total `POST /orders` from it then charges."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from infra.journeys import customer, poll, staff

pytestmark = pytest.mark.e2e

ADDRESS = {"label": "Home", "type": "shipping", "first_name": "Ada", "last_name": "King",
           "street_address": "1 Main Street", "postal_code": "90001", "city": "Somewhere",
           "phone": "+12135550100", "email": "ada@example.com"}
ZONES: list[dict[str, Any]] = [
    # California: 7.25 % on the goods, shipping untaxed; standard free over 75.00.
    {"code": "california", "name": "California", "regions": ["US-CA"], "tax_rate": "0.0725", "shipping_taxed": False,
     "methods": [{"code": "standard", "name": "Standard", "amount": "5.95", "free_over": "75"}]},
    # France: 20 % VAT on the goods and, by default, on shipping.
    {"code": "france", "name": "France", "countries": ["FR"], "tax_rate": "0.20",
     "methods": [{"code": "colissimo", "name": "Colissimo", "amount": "5.00"}]},
    # Germany here: prices include 7.25 %; shipping free.
    {"code": "inclusive", "name": "Inclusive", "countries": ["DE"], "tax_rate": "0.0725", "tax_inclusive": True,
     "methods": [{"code": "free", "name": "Free", "amount": "0.00"}]},
]


class Shop:
    def __init__(self, api: httpx.AsyncClient) -> None:
        self.api = api
        self.slug = f"tax-{uuid.uuid4().hex[:8]}"
        self.on = {"X-Atelier-Storefront": self.slug}
        self.product: dict[str, Any] = {}

    async def create(self) -> Shop:
        as_staff = await staff(self.api)
        origin = f"https://{self.slug}.example"
        r = await self.api.post("/api/v1/storefronts", headers=as_staff, json={
            "slug": self.slug, "name": "Taxed", "origins": [origin], "frontend_url": origin, "currency": "USD",
            "tax": {"rate": "0.10", "inclusive": False}, "sells": ["physical"], "shipping_zones": ZONES})
        assert r.status_code == 201, r.text
        r = await self.api.post("/api/v1/products", headers=as_staff, json={
            "name": f"Lamp {self.slug}", "sku": f"LAMP-{self.slug}", "price": "40.00", "currency": "USD",
            "stock_quantity": 50, "kind": "physical", "storefronts": [self.slug]})
        assert r.status_code == 201, r.text
        self.product = r.json()
        # 10 % off every order of 60.00 or more, without a code.
        r = await self.api.post("/api/v1/staff/promotions", headers=as_staff, json={
            "storefront": self.slug, "name": "Ten off", "kind": "percentage", "value": "10", "min_subtotal": "60"})
        assert r.status_code == 201, r.text
        return self

    async def buyer(self, quantity: int, **address: str) -> tuple[dict[str, str], str]:
        auth = {**await customer(self.api), **self.on}

        async def added() -> bool:  # the storefront and its product reach cart (an event away, distributed)
            r = await self.api.post("/api/v1/cart/items", headers=auth,
                                    json={"product_id": self.product["id"], "quantity": quantity})
            return r.status_code == 201
        await poll(added, timeout=60, message=f"the product added to a cart of {self.slug}")
        r = await self.api.post("/api/v1/addresses", headers=auth, json={**ADDRESS, **address})
        assert r.status_code == 201, r.text
        return auth, r.json()["id"]

    async def listed(self, auth: dict[str, str], address_id: str, zone_method: str) -> dict[str, Any]:
        """The one method listed at the address, once orders knows the storefront's zones."""
        async def ready() -> dict[str, Any] | None:
            r = await self.api.get("/api/v1/shipping-methods", headers=auth, params={"address_id": address_id})
            body = r.json() if r.status_code == 200 else []
            return body[0] if len(body) == 1 and body[0]["name"] == zone_method else None
        found: dict[str, Any] = await poll(ready, timeout=60, message=f"{zone_method} listed")
        return found

    async def order(self, auth: dict[str, str], address_id: str, method: dict[str, Any]) -> dict[str, Any]:
        r = await self.api.post("/api/v1/orders", headers=auth, json={
            "shipping_address_id": address_id, "shipping_method_id": method["id"],
            "expected_total": method["total_amount"]})
        assert r.status_code == 201, r.text
        order: dict[str, Any] = r.json()
        return order


def _money(order: dict[str, Any]) -> tuple[str, ...]:
    return tuple(order[k] for k in ("subtotal", "discount", "shipping_cost", "tax_amount", "tax_included",
                                    "total_amount"))


async def test_the_total_listed_for_a_method_is_the_total_charged(api: httpx.AsyncClient) -> None:
    shop = await Shop(api).create()
    auth, address = await shop.buyer(2, country="US", state="CA")
    # 2 × 40.00 = 80.00, less 10 % = 72.00: below the 75.00 free-over, so standard costs 5.95; tax
    # 7.25 % on 72.00 = 5.22 (not on 80.00), shipping untaxed: 83.17.
    method = await shop.listed(auth, address, "Standard")
    assert (method["price"], method["discount"], method["tax_amount"], method["total_amount"]) == (
        "5.95", "8.00", "5.22", "83.17")
    order = await shop.order(auth, address, method)
    assert _money(order) == ("80.00", "8.00", "5.95", "5.22", "0.00", "83.17")
    assert [(i["discount_amount"], i["tax_amount"], i["tax_rate"]) for i in order["items"]] == [
        ("8.00", "5.22", "0.0725")]


async def test_a_total_other_than_the_one_shown_is_refused_and_nothing_is_written(api: httpx.AsyncClient) -> None:
    shop = await Shop(api).create()
    auth, address = await shop.buyer(2, country="US", state="CA")
    method = await shop.listed(auth, address, "Standard")
    r = await api.post("/api/v1/orders", headers=auth, json={
        "shipping_address_id": address, "shipping_method_id": method["id"], "expected_total": "85.80"})
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert (error["code"], error["details"]) == ("PRICE_CHANGED", {"shown_total": "85.80", "current_total": "83.17"})
    assert (await api.get("/api/v1/orders", headers=auth)).json()["results"] == []


async def test_shipping_is_taxed_with_the_goods_where_the_zone_says(api: httpx.AsyncClient) -> None:
    shop = await Shop(api).create()
    auth, address = await shop.buyer(1, country="FR")
    # 40.00 (below the promotion's minimum) + 5.00 shipping, both at 20 %: 9.00.
    method = await shop.listed(auth, address, "Colissimo")
    assert (method["tax_amount"], method["total_amount"]) == ("9.00", "54.00")
    order = await shop.order(auth, address, method)
    assert _money(order) == ("40.00", "0.00", "5.00", "9.00", "0.00", "54.00")
    assert order["shipping_tax"] == "1.00"


async def test_a_tax_inclusive_zone_reports_the_tax_its_prices_hold(api: httpx.AsyncClient) -> None:
    shop = await Shop(api).create()
    auth, address = await shop.buyer(1, country="DE")
    # 40.00 with 7.25 % included: 40 × 0.0725 / 1.0725 = 2.70, nothing added.
    method = await shop.listed(auth, address, "Free")
    assert (method["tax_amount"], method["total_amount"]) == ("2.70", "40.00")
    order = await shop.order(auth, address, method)
    assert _money(order) == ("40.00", "0.00", "0.00", "2.70", "2.70", "40.00")
    assert order["items"][0]["tax_inclusive"] is True


async def _ship_cart(api: httpx.AsyncClient, auth: dict[str, str], **choice: str) -> dict[str, Any]:
    """The cart once orders prices it for `choice` (orders learns the storefront's zones an event away)."""
    async def priced() -> dict[str, Any] | None:
        r = await api.put("/api/v1/cart/shipping", headers=auth, json=choice)
        return r.json() if r.status_code == 200 and r.json()["shipping"]["methods"] else None
    cart: dict[str, Any] = await poll(priced, timeout=60, message=f"the cart priced for {choice}")
    return cart


async def test_the_cart_shows_what_its_order_charges(api: httpx.AsyncClient) -> None:
    shop = await Shop(api).create()
    auth, address = await shop.buyer(2, country="US", state="CA")
    cart = await _ship_cart(api, auth, address_id=address)
    # As `GET /shipping-methods` lists it: 72.00 after 10 %, 5.95 shipping untaxed, 5.22 tax.
    assert (cart["subtotal"], cart["discount_total"], cart["tax_amount"], cart["total"]) == (
        "80.00", "8.00", "5.22", "83.17")
    [line] = cart["items"]
    assert (line["discount"], line["tax_rate"], line["tax_amount"]) == ("8.00", "0.0725", "5.22")
    shipping = cart["shipping"]
    assert (shipping["address_id"], shipping["country"], shipping["region"], shipping["zone"]) == (
        address, "US", "CA", "california")
    assert (shipping["method_name"], shipping["cost"], shipping["tax_amount"], shipping["problem"]) == (
        "Standard", "5.95", "0.00", None)
    listed = await shop.listed(auth, address, "Standard")
    assert shipping["methods"] == [listed] and shipping["method_id"] == listed["id"]
    # The order names neither address nor method: it ships where the cart does, at the cart's total.
    r = await api.post("/api/v1/orders", headers=auth, json={"expected_total": cart["total"]})
    assert r.status_code == 201, r.text
    order = r.json()
    assert _money(order) == ("80.00", "8.00", "5.95", "5.22", "0.00", "83.17")
    assert (order["shipping_method"]["name"], order["shipping_address"]["postal_code"]) == ("Standard", "90001")


async def test_a_destination_before_an_address_then_without_one(api: httpx.AsyncClient) -> None:
    shop = await Shop(api).create()
    auth, _ = await shop.buyer(1, country="US", state="CA")
    # A country to price by, with no address yet: France taxes the goods and the shipping at 20 %.
    cart = await _ship_cart(api, auth, country="FR")
    assert (cart["tax_amount"], cart["total"], cart["shipping"]["cost"], cart["shipping"]["tax_amount"]) == (
        "9.00", "54.00", "5.00", "1.00")
    assert cart["items"][0]["tax_amount"] == "8.00"
    # An order still needs an address to ship to.
    r = await api.post("/api/v1/orders", headers=auth, json={})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "ADDRESS_REQUIRED"), r.text
    # Forgotten: the storefront's own rate (10 %) and no shipping.
    r = await api.delete("/api/v1/cart/shipping", headers=auth)
    assert r.status_code == 200, r.text
    assert (r.json()["shipping"], r.json()["tax_amount"], r.json()["total"]) == (None, "4.00", "44.00")


async def test_a_choice_that_does_not_do_is_refused_and_changes_nothing(api: httpx.AsyncClient) -> None:
    shop = await Shop(api).create()
    auth, address = await shop.buyer(1, country="US", state="CA")
    chosen = await _ship_cart(api, auth, address_id=address)
    _, someone_elses = await shop.buyer(1, country="FR")
    refusals = [({"address_id": someone_elses}, 404, "ADDRESS_NOT_FOUND"),
                ({"country": "JP"}, 400, "SHIPPING_NOT_AVAILABLE"),
                ({"address_id": address, "method_id": str(uuid.uuid4())}, 400, "SHIPPING_METHOD_UNAVAILABLE"),
                ({"address_id": address, "country": "FR"}, 400, "VALIDATION_ERROR"),
                ({}, 400, "VALIDATION_ERROR")]
    for body, status, code in refusals:
        r = await api.put("/api/v1/cart/shipping", headers=auth, json=body)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), (body, r.text)
    assert (await api.get("/api/v1/cart", headers=auth)).json() == chosen


async def test_a_discount_lowers_the_taxed_base(api: httpx.AsyncClient) -> None:
    # 50.00 at 9 % with 10.00 off: the tax is on 40.00 (3.60), not on 50.00 (4.50).
    as_staff = await staff(api)
    slug = f"base-{uuid.uuid4().hex[:8]}"
    on = {"X-Atelier-Storefront": slug}
    r = await api.post("/api/v1/storefronts", headers=as_staff, json={
        "slug": slug, "name": "Base", "origins": [f"https://{slug}.example"], "frontend_url": f"https://{slug}.example",
        "currency": "USD", "tax": {"rate": "0.09", "shipping_rate": "0"}, "sells": ["physical"]})
    assert r.status_code == 201, r.text
    r = await api.post("/api/v1/products", headers=as_staff, json={
        "name": f"Vase {slug}", "sku": f"VASE-{slug}", "price": "50.00", "currency": "USD", "stock_quantity": 5,
        "kind": "physical", "storefronts": [slug]})
    assert r.status_code == 201, r.text
    product = r.json()
    r = await api.post("/api/v1/staff/promotions", headers=as_staff, json={
        "storefront": slug, "name": "Ten off", "kind": "fixed", "value": "10", "code": "TEN"})
    assert r.status_code == 201, r.text
    auth = {**await customer(api), **on}

    async def added() -> bool:
        return (await api.post("/api/v1/cart/items", headers=auth,
                               json={"product_id": product["id"], "quantity": 1})).status_code == 201
    await poll(added, timeout=60, message="the vase in the cart")

    async def applied() -> dict[str, Any] | None:
        r = await api.post("/api/v1/cart/promotion-code", headers=auth, json={"code": "ten"})
        return r.json() if r.status_code == 200 else None
    cart = await poll(applied, timeout=60, message="the code applied")
    assert (cart["subtotal"], cart["discount_total"], cart["tax_amount"], cart["total"]) == (
        "50.00", "10.00", "3.60", "43.60")
    r = await api.post("/api/v1/addresses", headers=auth, json={**ADDRESS, "country": "US", "state": "NY"})
    assert r.status_code == 201, r.text
    r = await api.post("/api/v1/orders", headers=auth, json={"shipping_address_id": r.json()["id"],
                                                             "expected_total": cart["total"]})
    assert r.status_code == 201, r.text
    assert _money(r.json()) == ("50.00", "10.00", "0.00", "3.60", "0.00", "43.60")
