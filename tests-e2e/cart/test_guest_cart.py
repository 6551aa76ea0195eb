"""A guest fills a cart with only X-Session-ID, logs in, and finds one merged cart; an order takes
only its own lines out of the cart — both modes."""

from __future__ import annotations

import os
import signal
from collections.abc import Sequence
from decimal import Decimal

import httpx
import pytest
from infra.journeys import ADDRESS, login, new_anonymous_token, poll, register_verified

from atelier_testing.platform import Platform

pytestmark = pytest.mark.e2e


async def _physical_products(api: httpx.AsyncClient) -> list[dict]:
    r = await api.get("/api/v1/products", params={"kind": "physical", "in_stock": "true", "limit": 50})
    assert r.status_code == 200
    # other journeys buy from the same demo catalog: keep to products with stock to spare
    products = [p for p in r.json()["results"] if not p["variants"] and p["stock_quantity"] >= 5]
    assert len(products) >= 2, "the demo catalog has simple physical products"
    return products


async def test_guest_cart_merges_into_the_user_cart_on_login(api: httpx.AsyncClient) -> None:
    first, second = (await _physical_products(api))[:2]
    guest = await new_anonymous_token(api)
    as_guest = {"X-Session-ID": guest}
    r = await api.post("/api/v1/cart/items", headers=as_guest, json={"product_id": first["id"], "quantity": 2})
    assert r.status_code == 201, r.text
    r = await api.post("/api/v1/cart/items", headers=as_guest, json={"product_id": first["id"], "quantity": 1})
    cart = r.json()
    assert [i["quantity"] for i in cart["items"]] == [3]  # the same line accumulates
    price = Decimal(first["price"])
    assert Decimal(cart["subtotal"]) == price * 3
    assert Decimal(cart["tax_amount"]) == (price * 3 * Decimal("0.09")).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")

    account = await register_verified(api)
    tokens = await login(api, account["email"])
    as_user = {"Authorization": f"Bearer {tokens['access']}"}
    r = await api.post("/api/v1/cart/items", headers=as_user, json={"product_id": second["id"], "quantity": 1})
    assert r.status_code == 201
    # logging in again with the guest token claims the guest identity: carts merge
    await login(api, account["email"], **{"X-Anonymous-Token": guest})

    async def merged() -> dict | None:
        body = (await api.get("/api/v1/cart", headers=as_user)).json()
        return body if body["item_count"] == 4 else None

    cart = await poll(merged, message="carts merged")
    assert {i["product_id"]: i["quantity"] for i in cart["items"]} == {first["id"]: 3, second["id"]: 1}
    assert (await api.get("/api/v1/cart", headers=as_guest)).json()["item_count"] == 0


async def test_cart_refuses_more_than_the_stock(api: httpx.AsyncClient) -> None:
    products = [p for p in await _physical_products(api) if p["stock_quantity"] < 99]
    assert products, "the demo catalog has a product with fewer than 99 in stock"
    product = products[0]
    r = await api.post("/api/v1/cart/items", json={"product_id": product["id"], "quantity": product["stock_quantity"] + 1})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "INSUFFICIENT_STOCK"
    assert r.json()["error"]["details"]["available"] == product["stock_quantity"]


async def _order_then_keep_shopping(api: httpx.AsyncClient, paused: Sequence[int] = ()) -> None:
    """A guest orders their cart [A x1], then adds B x2 and A x2 at once. The cart's consumer hears
    `order.placed` whenever it does (after the adds while it is `paused`, then killed: `atelier up`
    starts it again): the order's one A leaves, what was added since stays."""
    first, second = (await _physical_products(api))[:2]
    as_guest = {"X-Session-ID": await new_anonymous_token(api)}
    r = await api.post("/api/v1/cart/items", headers=as_guest, json={"product_id": first["id"], "quantity": 1})
    assert r.status_code == 201, r.text
    address = (await api.post("/api/v1/addresses", headers=as_guest, json=ADDRESS)).json()
    for pid in paused:
        os.kill(pid, signal.SIGSTOP)
    try:
        r = await api.post("/api/v1/orders", headers=as_guest, json={"shipping_address_id": address["id"]})
        assert r.status_code == 201, r.text
        for product, quantity in ((second, 2), (first, 2)):
            r = await api.post("/api/v1/cart/items", headers=as_guest,
                               json={"product_id": product["id"], "quantity": quantity})
            assert r.status_code == 201, r.text
    finally:
        for pid in paused:
            os.kill(pid, signal.SIGKILL)

    async def ordered_line_left() -> dict | None:
        r = await api.get("/api/v1/cart", headers=as_guest)
        if r.status_code != 200:
            return None  # the cart service is (re)starting
        lines = {i["product_id"]: i["quantity"] for i in r.json()["items"]}
        return lines if lines == {first["id"]: 2, second["id"]: 2} else None

    await poll(ordered_line_left, timeout=60, message="the order's line out of the cart, the later ones kept")


async def test_an_order_takes_only_its_lines_out_of_the_cart(api: httpx.AsyncClient) -> None:
    await _order_then_keep_shopping(api)


async def test_an_order_heard_late_leaves_the_lines_added_since(distributed_platform: Platform) -> None:
    """Distributed mode: the cart's consumer is paused while the order is placed and the guest
    shops on, so the cart hears the order after the adds."""
    async with httpx.AsyncClient(base_url=distributed_platform.url, timeout=30) as api:
        await _order_then_keep_shopping(api, paused=[distributed_platform.children()["cart consumer"]])
