"""Cart → address → order → payment → signed webhook → paid, through the gateway in both modes."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from decimal import Decimal

import httpx
import pytest
from infra.journeys import PASSWORD, customer, latest_mail, login, poll, token_from

from atelier_testing import assert_error
from atelier_testing.platform import Platform

pytestmark = pytest.mark.e2e

ADDRESS = {"label": "Home", "type": "shipping", "first_name": "Grace", "last_name": "Hopper",
           "street_address": "1 Harbour Road", "city": "Tbilisi", "postal_code": "0105", "country": "GE",
           "phone": "+995555000111", "email": "grace@example.com"}


async def physical_product(api: httpx.AsyncClient, min_stock: int = 5) -> dict:
    r = await api.get("/api/v1/products", params={"kind": "physical", "in_stock": "true", "limit": 50})
    products = [p for p in r.json()["results"] if not p["variants"] and p["stock_quantity"] >= min_stock]
    assert products, "the demo catalog has a simple physical product in stock"
    return products[0]


async def stock_becomes(api: httpx.AsyncClient, product_id: str, expected: int) -> None:
    async def check() -> bool:
        return (await api.get(f"/api/v1/products/{product_id}")).json()["stock_quantity"] == expected

    await poll(check, message=f"stock of {product_id} at {expected}")


async def pay_locally(api: httpx.AsyncClient, checkout_url: str) -> None:
    assert (await api.get(checkout_url)).status_code == 200
    r = await api.post(f"{checkout_url}/pay", headers={"Accept": "application/json"})
    assert r.status_code == 200, r.text


async def order_with_status(api: httpx.AsyncClient, order_id: str, status: str, headers: dict | None = None) -> dict:
    async def check() -> dict | None:
        r = await api.get(f"/api/v1/orders/{order_id}", headers=headers)
        if r.status_code == 503:
            return None  # the service is (re)starting
        assert r.status_code == 200, r.text
        order = r.json()
        return order if order["status"] == status else None

    return await poll(check, timeout=30, message=f"order {status}")


async def place_from_cart(api: httpx.AsyncClient, headers: dict, product: dict, quantity: int, *,
                          label: str = "Home", email: str = "grace@example.com", **order: object) -> dict:
    """The buyer's cart of `quantity` × `product` ordered to a new address; `order`: more fields of
    `POST /orders` (`create_account`)."""
    r = await api.post("/api/v1/cart/items", headers=headers, json={"product_id": product["id"], "quantity": quantity})
    assert r.status_code == 201, r.text
    r = await api.post("/api/v1/addresses", headers=headers, json={**ADDRESS, "label": label, "email": email})
    assert r.status_code == 201, r.text
    r = await api.post("/api/v1/orders", headers=headers, json={"shipping_address_id": r.json()["id"], **order})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.mark.modes("embedded", "distributed",
                   why="the saga on the in-process bus (embedded) or through RabbitMQ across processes (distributed)")
async def test_guest_checkout_pays_registers_the_buyer_and_empties_the_cart(api: httpx.AsyncClient) -> None:
    """An anonymous buyer who asks for an account at checkout (the default storefront offers one,
    docs/storefronts.md#guest-accounts) pays; the order is paid, the buyer gets an account from the
    delivery email (a welcome mail to set a password) and finds the order there."""
    product = await physical_product(api)
    stock = product["stock_quantity"]
    email = f"guest-{uuid.uuid4().hex[:10]}@example.com"
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as guest:
        token = (await guest.get("/api/v1/cart")).headers["x-anonymous-token"]
        as_guest = {"X-Session-ID": token}
        order = await place_from_cart(guest, as_guest, product, 2, email=email, create_account=True)
        assert order["status"] == "pending" and order["order_number"].startswith("ORD-")
        assert order["register_buyer"] is True
        subtotal = Decimal(product["price"]) * 2
        assert Decimal(order["subtotal"]) == subtotal
        assert Decimal(order["total_amount"]) == subtotal + Decimal(order["tax_amount"]) + Decimal(order["shipping_cost"])
        assert order["shipping_address"]["city"] == "Tbilisi"

        async def cart_empty() -> bool:
            return (await guest.get("/api/v1/cart", headers=as_guest)).json()["item_count"] == 0

        await poll(cart_empty, message="cart cleared by the order")
        await order_with_status(guest, order["id"], "awaiting_payment", as_guest)  # catalog reserved the stock
        await stock_becomes(guest, product["id"], stock - 2)
        r = await guest.post("/api/v1/payments/checkout", headers=as_guest, json={
            "order_id": order["id"], "success_url": "http://localhost:3000/ok", "cancel_url": "http://localhost:3000/no"})
        assert r.status_code in (200, 201), r.text
        await pay_locally(guest, r.json()["checkout_url"])

    welcome = await latest_mail(api, email, "set your password")
    r = await api.post("/api/v1/auth/password-reset/confirm", json={
        "token": token_from(welcome), "new_password": PASSWORD, "new_password_confirm": PASSWORD})
    assert r.status_code == 200, r.text
    auth = {"Authorization": f"Bearer {(await login(api, email))['access']}"}
    paid = await order_with_status(api, order["id"], "paid", auth)
    statuses = [h["status"] for h in paid["status_history"]]
    assert statuses[0] == "pending" and statuses[-1] == "paid"
    assert statuses[:2] == ["pending", "awaiting_payment"]  # stock was reserved before the payment
    await stock_becomes(api, product["id"], stock - 2)  # the reservation is committed, not released
    stranger = await customer(api)
    assert (await api.get(f"/api/v1/orders/{order['id']}", headers=stranger)).status_code == 404


async def test_client_cannot_change_what_it_pays(api: httpx.AsyncClient) -> None:
    product = await physical_product(api)
    auth = await customer(api)
    address = (await api.post("/api/v1/addresses", headers=auth, json=ADDRESS)).json()
    r = await api.post("/api/v1/orders", headers=auth, json={
        "shipping_address_id": address["id"], "total_amount": "0.01", "subtotal": "0.01",
        "items": [{"product_id": product["id"], "quantity": 1, "unit_price": "0.01", "price": "0.01"}]})
    assert r.status_code == 201, r.text
    order = r.json()
    assert Decimal(order["items"][0]["unit_price"]) == Decimal(product["price"])
    assert Decimal(order["total_amount"]) > Decimal("0.01")
    r = await api.post("/api/v1/payments/intents", headers=auth, json={"order_id": order["id"], "amount": "0.01"})
    assert r.status_code in (200, 201), r.text
    assert Decimal(str(r.json()["amount"])) == Decimal(order["total_amount"])


@pytest.mark.modes("embedded", "distributed",
                   why="the saga on the in-process bus (embedded) or through RabbitMQ across processes (distributed)")
async def test_logged_in_checkout_shows_in_the_ledger_and_cancel_refunds(api: httpx.AsyncClient) -> None:
    product = await physical_product(api)
    stock = product["stock_quantity"]
    auth = await customer(api)
    order = await place_from_cart(api, auth, product, 1)
    await stock_becomes(api, product["id"], stock - 1)  # reserved for the order
    r = await api.post("/api/v1/payments/checkout", headers=auth, json={
        "order_id": order["id"], "success_url": "http://localhost:3000/ok", "cancel_url": "http://localhost:3000/no"})
    await pay_locally(api, r.json()["checkout_url"])
    await order_with_status(api, order["id"], "paid", auth)

    async def ledger_has_payment() -> bool:
        entries = (await api.get("/api/v1/billing/ledger", headers=auth)).json()["results"]
        return any(e["kind"] == "payment" for e in entries)

    await poll(ledger_has_payment, message="payment in the ledger")
    r = await api.post(f"/api/v1/orders/{order['id']}/cancel", headers=auth)
    assert r.status_code == 200, r.text
    refunded = await order_with_status(api, order["id"], "refunded", auth)
    assert [h["status"] for h in refunded["status_history"]][-2:] == ["cancelled", "refunded"]
    await stock_becomes(api, product["id"], stock)  # cancelling returned the stock


@pytest.mark.modes("embedded", "distributed",
                   why="parallel requests meet SQLite's one writer (embedded) or PostgreSQL's row locks (distributed)")
async def test_an_order_beyond_the_stock_is_rejected(api: httpx.AsyncClient) -> None:
    """Two customers race for the last units: one order reserves them, the other is rejected."""
    from infra.journeys import staff

    admin = await staff(api)
    sku = f"LAST-{uuid.uuid4().hex[:8]}"
    product = (await api.post("/api/v1/products", headers=admin, json={
        "name": f"Last slab {sku}", "sku": sku, "price": "300.00", "stock_quantity": 3, "kind": "physical"})).json()
    buyers = [await customer(api) for _ in range(3)]
    addresses = [(await api.post("/api/v1/addresses", headers=b, json=ADDRESS)).json()["id"] for b in buyers]
    responses = await asyncio.gather(*(api.post("/api/v1/orders", headers=b, json={
        "shipping_address_id": a, "items": [{"product_id": product["id"], "quantity": 2}]})
        for b, a in zip(buyers, addresses, strict=True)))
    placed = [(r.json()["id"], b) for r, b in zip(responses, buyers, strict=True) if r.status_code == 201]
    assert placed, [r.text for r in responses]

    async def decided() -> list[str] | None:
        statuses = [(await api.get(f"/api/v1/orders/{o}", headers=b)).json()["status"] for o, b in placed]
        return statuses if all(s in ("awaiting_payment", "rejected") for s in statuses) else None

    statuses = await poll(decided, message="every order reserved or rejected")
    assert statuses.count("awaiting_payment") == 1
    await stock_becomes(api, product["id"], 1)


async def test_shipped_order_cannot_be_cancelled(api: httpx.AsyncClient) -> None:
    from infra.journeys import staff

    product = await physical_product(api)
    auth = await customer(api)
    order = await place_from_cart(api, auth, product, 1)
    r = await api.post("/api/v1/payments/checkout", headers=auth, json={
        "order_id": order["id"], "success_url": "http://localhost:3000/ok", "cancel_url": "http://localhost:3000/no"})
    await pay_locally(api, r.json()["checkout_url"])
    await order_with_status(api, order["id"], "paid", auth)
    admin = await staff(api)
    for status in ("processing", "shipped"):
        r = await api.post(f"/api/v1/orders/{order['id']}/status", headers=admin,
                           json={"status": status, "tracking_number": "TRK-1"})
        assert r.status_code == 200, r.text
    r = await api.post(f"/api/v1/orders/{order['id']}/cancel", headers=auth)
    assert_error(r, 400, "ORDER_NOT_CANCELLABLE")
    assert (await api.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()["status"] == "shipped"


@pytest.mark.modes("embedded", "distributed",
                   why="the saga on the in-process bus (embedded) or through RabbitMQ across processes (distributed)")
async def test_paid_orders_wait_while_orders_is_down(distributed_platform: Platform) -> None:
    """Distributed mode: orders is stopped while payments takes webhooks; every order ends paid."""
    async with httpx.AsyncClient(base_url=distributed_platform.url, timeout=30) as api:
        product = await physical_product(api)
        auth = await customer(api)
        orders, checkouts = [], []
        for n in range(3):
            order = await place_from_cart(api, auth, product, 1, label=f"Home {n}")
            r = await api.post("/api/v1/payments/checkout", headers=auth, json={
                "order_id": order["id"], "success_url": "http://localhost:3000/ok",
                "cancel_url": "http://localhost:3000/no"})
            orders.append(order["id"])
            checkouts.append(r.json()["checkout_url"])
        children = distributed_platform.children()
        stopped = [children[role] for role in ("orders api", "orders consumer", "orders relay")]
        for pid in stopped:
            os.kill(pid, signal.SIGSTOP)
        try:
            await asyncio.gather(*(pay_locally(api, url) for url in checkouts))
        finally:
            # the paused processes die; `atelier up` starts them again, as an orchestrator would
            for pid in stopped:
                os.kill(pid, signal.SIGKILL)
        for order_id in orders:
            await order_with_status(api, order_id, "paid", auth)


async def test_digital_goods_cost_their_shown_price_and_plans_are_not_ordered(api: httpx.AsyncClient) -> None:
    """The price shown is the price charged (PACK_5 is 4.99 USD, tax included), and
    only what can be delivered is sold (a subscription plan is billed, never ordered or carted)."""
    as_customer = await customer(api)
    r = await api.post("/api/v1/orders", headers=as_customer, json={"items": [{"sku": "PACK_5"}]})
    assert r.status_code == 201, r.text
    order = r.json()
    # Its price includes its tax (9 %: 0.41), reported and not added.
    assert (order["subtotal"], order["tax_amount"], order["total_amount"]) == ("4.99", "0.41", "4.99")

    r = await api.post("/api/v1/orders", headers=as_customer, json={"items": [{"sku": "pro_monthly"}]})
    assert_error(r, 400, "NOT_PURCHASABLE")
    assert (await api.get("/api/v1/orders", headers=as_customer)).json()["count"] == 1  # the pack's only
    pricing = (await api.get("/api/v1/pricing")).json()
    plan = next(p for p in pricing["subscription_plans"] if p["sku"] == "pro_monthly")
    r = await api.post("/api/v1/cart/items", headers=as_customer, json={"product_id": plan["id"], "quantity": 1})
    assert_error(r, 400, "NOT_PURCHASABLE")
    assert (await api.get("/api/v1/cart", headers=as_customer)).json()["items"] == []
