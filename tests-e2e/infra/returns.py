"""Steps of the returns and order edits tests: two demo products in stock, a customer's order of
one unit of each, paid, shipped and delivered, and a paid order of two units and one."""

from __future__ import annotations

from typing import Any

import httpx
from infra.journeys import ADDRESS, pay_order, poll


async def two_products(api: httpx.AsyncClient) -> list[dict[str, Any]]:
    r = await api.get("/api/v1/products", params={"kind": "physical", "in_stock": "true", "limit": 50})
    products = [p for p in r.json()["results"] if not p["variants"] and p["stock_quantity"] >= 3]
    assert len(products) >= 2, "the demo catalog has two simple physical products in stock"
    return products[:2]


async def stock(api: httpx.AsyncClient, product_id: str) -> int:
    units: int = (await api.get(f"/api/v1/products/{product_id}")).json()["stock_quantity"]
    return units


async def paid_order(api: httpx.AsyncClient, auth: dict[str, str], products: list[dict[str, Any]]) -> dict[str, Any]:
    """The customer's paid order of two units of the first product and one of the second."""
    return dict(await pay_order(api, auth, await unpaid_order(api, auth, products, (2, 1))))


async def unpaid_order(api: httpx.AsyncClient, auth: dict[str, str], products: list[dict[str, Any]],
                       quantities: tuple[int, ...]) -> dict[str, Any]:
    """The customer's order of `quantities` of `products`, its stock held, awaiting payment."""
    for product, quantity in zip(products, quantities, strict=True):
        added = await api.post("/api/v1/cart/items", headers=auth, json={"product_id": product["id"],
                                                                         "quantity": quantity})
        assert added.status_code == 201, added.text
    address = (await api.post("/api/v1/addresses", headers=auth, json=ADDRESS)).json()
    order = (await api.post("/api/v1/orders", headers=auth, json={"shipping_address_id": address["id"]})).json()

    async def awaiting() -> dict[str, Any] | None:
        body: dict[str, Any] = (await api.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()
        return body if body["status"] == "awaiting_payment" else None

    return dict(await poll(awaiting, timeout=30, message="order awaiting payment"))


async def delivered_order(api: httpx.AsyncClient, auth: dict[str, str], as_staff: dict[str, str],
                          products: list[dict[str, Any]]) -> dict[str, Any]:
    """The customer's order of one unit of each product, paid, shipped and delivered."""
    for product in products:
        added = await api.post("/api/v1/cart/items", headers=auth, json={"product_id": product["id"], "quantity": 1})
        assert added.status_code == 201, added.text
    address = (await api.post("/api/v1/addresses", headers=auth, json=ADDRESS)).json()
    order = (await api.post("/api/v1/orders", headers=auth, json={"shipping_address_id": address["id"]})).json()

    async def awaiting() -> dict[str, Any] | None:
        body: dict[str, Any] = (await api.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()
        return body if body["status"] == "awaiting_payment" else None

    order = await pay_order(api, auth, await poll(awaiting, timeout=30, message="order awaiting payment"))
    for status in ("processing", "shipped", "delivered"):
        moved = await api.post(f"/api/v1/orders/{order['id']}/status", headers=as_staff,
                               json={"status": status, "tracking_number": "1Z999AA10123456784"})
        assert moved.status_code == 200, moved.text
    return dict(moved.json())
