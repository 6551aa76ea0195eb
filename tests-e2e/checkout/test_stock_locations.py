"""Stock locations through the gateway (distributed: catalog and orders apart, over RabbitMQ):
staff stock a shop that ships to the customer's country first; an order larger than the shop's units is split across the shop and the default location,
staff see where each line ships from, and a return and a cancellation each give every location
back the units it gave."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from infra.journeys import ADDRESS, customer, pay_order, poll, staff

pytestmark = pytest.mark.e2e

LOCATIONS = "/api/v1/staff/locations"
DEFAULT = "00000000-0000-4000-8000-00000000d0c1"


async def _units(api: httpx.AsyncClient, as_staff: dict[str, str], product: dict[str, Any]) -> dict[str, int]:
    r = await api.get(f"{LOCATIONS}/stock/{product['id']}", headers=as_staff)
    assert r.status_code == 200, r.text
    [item] = r.json()["items"]
    return {u["location_id"]: u["quantity"] for u in item["locations"] if u["quantity"]}


async def _units_become(api: httpx.AsyncClient, as_staff: dict[str, str], product: dict[str, Any],
                        wanted: dict[str, int], message: str) -> None:
    async def there() -> bool:
        return await _units(api, as_staff, product) == wanted

    await poll(there, timeout=40, message=message)


async def _order(api: httpx.AsyncClient, auth: dict[str, str], product: dict[str, Any], quantity: int) -> dict[str, Any]:
    added = await api.post("/api/v1/cart/items", headers=auth, json={"product_id": product["id"], "quantity": quantity})
    assert added.status_code == 201, added.text
    address = (await api.post("/api/v1/addresses", headers=auth, json={**ADDRESS, "label": uuid.uuid4().hex[:8]})).json()
    placed = await api.post("/api/v1/orders", headers=auth, json={"shipping_address_id": address["id"]})
    assert placed.status_code == 201, placed.text

    async def awaiting() -> dict[str, Any] | None:
        body: dict[str, Any] = (await api.get(f"/api/v1/orders/{placed.json()['id']}", headers=auth)).json()
        return body if body["status"] == "awaiting_payment" else None

    return dict(await poll(awaiting, timeout=30, message="order awaiting payment"))


async def test_an_order_split_across_two_locations_gives_each_its_units_back(api: httpx.AsyncClient) -> None:
    as_staff, auth, suffix = await staff(api), await customer(api), uuid.uuid4().hex[:8]
    r = await api.post("/api/v1/products", headers=as_staff, json={
        "name": f"Portland slab {suffix}", "sku": f"E2E-LOC-{suffix}", "price": "20.00", "stock_quantity": 6,
        "kind": "physical"})
    assert r.status_code == 201, r.text
    product = r.json()
    r = await api.post(LOCATIONS, headers=as_staff, json={
        "name": f"London shop {suffix}", "kind": "shop", "country": "GB", "ships_to": [ADDRESS["country"]],
        "priority": 1})
    assert r.status_code == 201, r.text
    shop = r.json()["id"]
    r = await api.post("/api/v1/staff/stock-transfers", headers=as_staff, json={
        "product": product["id"], "from_location_id": DEFAULT, "to_location_id": shop, "quantity": 3,
        "reason": "stock the shop"})
    assert r.status_code == 201, r.text
    assert await _units(api, as_staff, product) == {shop: 3, DEFAULT: 3}

    # 5 units: the shop's 3 first (it ships to the address's country, priority 1), then 2 of the default's.
    order = await _order(api, auth, product, 5)
    assert await _units(api, as_staff, product) == {DEFAULT: 1}
    assert (await api.get(f"/api/v1/products/{product['id']}")).json()["stock_quantity"] == 1

    async def ships_from() -> list[dict[str, Any]] | None:
        body = (await api.get(f"/api/v1/staff/orders/{order['id']}", headers=as_staff)).json()
        return body["items"][0]["ships_from"]

    shown = await poll(ships_from, timeout=30, message="where the line ships from")
    assert sorted((s["location_id"], s["quantity"]) for s in shown) == sorted([(shop, 3), (DEFAULT, 2)])

    # Paid, delivered, returned whole and resaleable: each location has its units again.
    order = await pay_order(api, auth, order)
    for status in ("processing", "shipped", "delivered"):
        moved = await api.post(f"/api/v1/orders/{order['id']}/status", headers=as_staff,
                               json={"status": status, "tracking_number": "1Z999AA10123456784"})
        assert moved.status_code == 200, moved.text
    [item] = order["items"]
    ret = await api.post(f"/api/v1/orders/{order['id']}/returns", headers=auth, json={
        "items": [{"order_item_id": item["id"], "quantity": 5}], "reason": "Wrong colour"})
    assert ret.status_code == 201, ret.text
    received = await api.post(f"/api/v1/staff/returns/{ret.json()['id']}/receive", headers=as_staff, json={
        "items": [{"order_item_id": item["id"], "quantity": 5, "resaleable": True}], "refund_shipping": False})
    assert received.status_code == 200, received.text
    await _units_become(api, as_staff, product, {shop: 3, DEFAULT: 3}, "the return back at both locations")

    # Another split order, cancelled while it awaits payment: the same.
    again = await _order(api, auth, product, 4)
    assert await _units(api, as_staff, product) == {DEFAULT: 2}
    r = await api.post(f"/api/v1/orders/{again['id']}/cancel", headers=auth)
    assert r.status_code == 200, r.text
    await _units_become(api, as_staff, product, {shop: 3, DEFAULT: 3}, "the cancellation back at both locations")
    assert (await api.get(f"/api/v1/products/{product['id']}")).json()["stock_quantity"] == 6
