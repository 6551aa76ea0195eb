"""Tax classes through the gateway, in both modes (docs/api.md#money-and-tax): a book of the
`reduced` class beside a lamp of the standard one, in a zone with its own reduced rate. The cart
(before any address) taxes each line at its storefront's class rate; `GET /shipping-methods` and
`POST /orders` at the zone's, each line's tax its base × its rate (shipping at the standard rate);
the invoice states the tax per rate."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from infra.journeys import ADDRESS, customer, pay_order, poll, staff

pytestmark = pytest.mark.e2e

# France: 20 %, books 5.5 %, shipping taxed (a zone that taxes goods).
FRANCE = {"code": "france", "name": "France", "countries": ["FR"], "tax_rate": "0.20",
          "tax_rates": {"reduced": "0.055"}, "methods": [{"code": "colissimo", "name": "Colissimo", "amount": "5.00"}]}


async def test_each_line_is_taxed_at_its_classs_rate_and_invoiced_per_rate(api: httpx.AsyncClient) -> None:
    as_staff = await staff(api)
    slug = f"classes-{uuid.uuid4().hex[:8]}"
    on = {"X-Atelier-Storefront": slug}
    origin = f"https://{slug}.example"
    # The storefront's own rates (before an address): 20 %, books 10 %.
    r = await api.post("/api/v1/storefronts", headers=as_staff, json={
        "slug": slug, "name": "Classes", "origins": [origin], "frontend_url": origin, "currency": "USD",
        "tax": {"rate": "0.20", "tax_rates": {"reduced": "0.10"}}, "sells": ["physical"],
        "shipping_zones": [FRANCE]})
    assert r.status_code == 201, r.text
    products = {}
    for name, price, tax_class in (("Lamp", "40.00", "standard"), ("Book", "12.50", "reduced")):
        r = await api.post("/api/v1/products", headers=as_staff, json={
            "name": f"{name} {slug}", "sku": f"{name.upper()}-{slug}", "price": price, "currency": "USD",
            "stock_quantity": 10, "kind": "physical", "tax_class": tax_class, "storefronts": [slug]})
        assert r.status_code == 201, r.text
        assert r.json()["tax_class"] == tax_class
        products[name] = r.json()

    auth = {**await customer(api), **on}
    for product in products.values():
        async def added(product: dict[str, Any] = product) -> bool:  # the storefront reaches cart (an event away)
            r = await api.post("/api/v1/cart/items", headers=auth, json={"product_id": product["id"], "quantity": 1})
            return r.status_code == 201
        await poll(added, timeout=60, message=f"{product['name']} added to a cart of {slug}")

    async def cart_taxed() -> dict[str, Any] | None:
        # The book's class reaches the cart's read model with catalog's event (distributed: a moment later).
        cart: dict[str, Any] = (await api.get("/api/v1/cart", headers=auth)).json()
        return cart if cart["tax_amount"] == "9.25" else None
    # Before an address, the storefront's rates: 40.00 × 20 % + 12.50 × 10 % = 8.00 + 1.25.
    cart = await poll(cart_taxed, timeout=60, message="the cart taxed per class")
    assert (cart["subtotal"], cart["total"]) == ("52.50", "61.75")

    r = await api.post("/api/v1/addresses", headers=auth, json={**ADDRESS, "country": "FR"})
    assert r.status_code == 201, r.text
    address = r.json()["id"]

    async def listed() -> dict[str, Any] | None:
        r = await api.get("/api/v1/shipping-methods", headers=auth, params={"address_id": address})
        body = r.json() if r.status_code == 200 else []
        return body[0] if len(body) == 1 and body[0]["name"] == "Colissimo" else None
    method = await poll(listed, timeout=60, message="Colissimo listed")
    # France: (40.00 + 5.00 shipping) × 20 % = 9.00; 12.50 × 5.5 % = 0.6875 → 0.69.
    assert (method["price"], method["tax_amount"], method["total_amount"]) == ("5.00", "9.69", "67.19")
    r = await api.post("/api/v1/orders", headers=auth, json={
        "shipping_address_id": address, "shipping_method_id": method["id"], "expected_total": method["total_amount"]})
    assert r.status_code == 201, r.text
    order = r.json()
    assert (order["subtotal"], order["shipping_cost"], order["tax_amount"], order["total_amount"]) == (
        "52.50", "5.00", "9.69", method["total_amount"])
    assert sorted((i["sku"].split("-")[0], i["tax_rate"], i["tax_amount"]) for i in order["items"]) == [
        ("BOOK", "0.055", "0.69"), ("LAMP", "0.2", "8.00")]
    assert (order["tax_rate"], order["shipping_tax"]) == ("0.2", "1.00")

    async def awaiting_payment() -> dict[str, Any] | None:
        body: dict[str, Any] = (await api.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()
        return body if body["status"] == "awaiting_payment" else None
    await pay_order(api, auth, await poll(awaiting_payment, timeout=30, message="order awaiting payment"))
    r = await api.get(f"/api/v1/orders/{order['id']}/invoice", headers={**auth, "Accept": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json()["taxes"] == [
        {"rate": "0.2", "inclusive": False, "base": "45.00", "tax": "9.00"},
        {"rate": "0.055", "inclusive": False, "base": "12.50", "tax": "0.69"}]
