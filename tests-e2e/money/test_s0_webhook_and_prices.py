"""Money's edge cases through the gateway, in both modes: S0's provider resending one payment,
an order paid by two provider transactions, a price changed between add-to-cart and checkout,
and a subscription's quota in the first read that shows the plan."""

from __future__ import annotations

import asyncio
import json
import uuid
from decimal import Decimal

import httpx
import pytest
from infra.journeys import customer, login, new_anonymous_token, poll, register_verified, simple_product_in_stock, staff

from atelier_testing.platform import Platform

pytestmark = pytest.mark.e2e

WEBHOOK = "/compat/storybook/api/orders/payment/webhook/"
ADDRESS = {"label": "Home", "type": "shipping", "first_name": "Nino", "last_name": "Beridze",
           "street_address": "5 Vake Park", "city": "Tbilisi", "postal_code": "0179", "country": "GE",
           "phone": "+995555000222", "email": "nino@example.com"}


def _secret(platform: Platform) -> dict[str, str]:
    secret = (platform.data_dir / "keys" / "webhook_secrets.local.secret").read_text().strip()
    return {"X-Webhook-Secret": secret, "Content-Type": "application/json"}


def _reserialised(body: dict, variant: int) -> bytes:
    ordered = dict(reversed(list(body.items()))) if variant % 2 else body
    separators = [(",", ":"), (", ", ": "), (",  ", " : "), (",\n", ":\t"), (" ,", ":")][variant % 5]
    return json.dumps(ordered, separators=separators).encode()


async def _awaiting_payment(api: httpx.AsyncClient, auth: dict[str, str]) -> dict:
    """A customer's order of one product, waiting for its payment."""
    product = await simple_product_in_stock(api)
    address = await api.post("/api/v1/addresses", headers=auth, json=ADDRESS)
    assert address.status_code == 201, address.text
    r = await api.post("/api/v1/orders", headers=auth, json={
        "items": [{"product_id": product["id"], "quantity": 1}], "shipping_address_id": address.json()["id"]})
    assert r.status_code == 201, r.text
    return await _order(api, r.json()["id"], auth, "awaiting_payment")


async def _order(api: httpx.AsyncClient, order_id: str, auth: dict[str, str], status: str) -> dict:
    async def check() -> dict | None:
        r = await api.get(f"/api/v1/orders/{order_id}", headers=auth)
        return r.json() if r.status_code == 200 and r.json()["status"] == status else None

    return await poll(check, timeout=60, message=f"order {status}")


async def _ledger(api: httpx.AsyncClient, auth: dict[str, str], order_id: str) -> list[tuple[str, str]]:
    entries = (await api.get("/api/v1/billing/ledger", headers=auth)).json()["results"]
    return sorted((e["kind"], e["amount"]) for e in entries if e["order_id"] == order_id)


@pytest.mark.modes("embedded", "distributed",
                   why="parallel requests meet SQLite's one writer (embedded) or PostgreSQL's row locks (distributed)")
async def test_s0_payment_resent_five_times_at_once_is_one_payment(api: httpx.AsyncClient,
                                                                    platform: Platform) -> None:
    auth = await customer(api)
    order = await _awaiting_payment(api, auth)
    body = {"order_id": order["id"], "status": "paid", "customer_id": None}
    responses = await asyncio.gather(*(api.post(WEBHOOK, content=_reserialised(body, v), headers=_secret(platform))
                                       for v in range(5)))
    assert [r.status_code for r in responses] == [200] * 5, [r.text for r in responses]
    assert sorted(r.json()["result"] for r in responses) == ["duplicate"] * 4 + ["processed"]
    paid = await _order(api, order["id"], auth, "paid")
    assert await _ledger(api, auth, order["id"]) == [("payment", order["total_amount"])]
    assert not any("refunded" in (h.get("note") or "") for h in paid["status_history"])


async def test_the_s0_customer_id_names_the_account_that_claims_the_order(api: httpx.AsyncClient,
                                                                          platform: Platform) -> None:
    """The seed: with `customer_id`, the anonymous order paid goes to that account (no account is
    registered from the delivery address)."""
    auth = await customer(api)
    customer_id = (await api.get("/api/v1/users/me", headers=auth)).json()["id"]
    guest = {"X-Anonymous-Token": await new_anonymous_token(api)}
    order = await _awaiting_payment(api, guest)
    body = {"order_id": order["id"], "status": "paid", "customer_id": customer_id}
    r = await api.post(WEBHOOK, content=json.dumps(body).encode(), headers=_secret(platform))
    assert r.status_code == 200 and r.json()["result"] == "processed", r.text

    async def claimed() -> dict | None:
        r = await api.get(f"/api/v1/orders/{order['id']}", headers=auth)
        return r.json() if r.status_code == 200 and r.json()["status"] == "paid" else None

    # Registering from the address would have given the order to that new account instead.
    await poll(claimed, timeout=60, message="the customer named by the provider owns the paid order")


async def test_two_provider_transactions_for_one_order_refund_the_second_once(api: httpx.AsyncClient,
                                                                              platform: Platform) -> None:
    auth = await customer(api)
    order = await _awaiting_payment(api, auth)
    for transaction in ("tx-a", "tx-b", "tx-b", "tx-a", "tx-b"):
        body = {"order_id": order["id"], "status": "paid", "transaction_id": f"{transaction}-{order['id'][:8]}"}
        r = await api.post(WEBHOOK, content=json.dumps(body).encode(), headers=_secret(platform))
        assert r.status_code == 200, r.text
    total = order["total_amount"]

    async def noted() -> dict | None:
        r = (await api.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()
        notes = [h.get("note") or "" for h in r["status_history"]]
        return r if any(n.startswith("Second payment") for n in notes) else None

    paid = await poll(noted, timeout=60, message="the second payment's refund noted on the order")
    assert paid["status"] == "paid"
    notes = [h.get("note") or "" for h in paid["status_history"]]
    assert [n for n in notes if "refunded" in n] == [f"Second payment of {total} {order['currency']} received; refunded"]
    assert await _ledger(api, auth, order["id"]) == sorted([("payment", total), ("payment", total),
                                                             ("refund", f"-{total}")])


async def test_a_price_changed_after_add_to_cart_is_never_charged_unseen(api: httpx.AsyncClient) -> None:
    """Staff raise a price 11.00 → 13.00 after the customer's cart showed 11.00: placing the order is
    409 PRICE_CHANGED with the line, the cart then shows 13.00, and the next attempt charges 13.00."""
    as_staff = await staff(api)
    sku = f"RACE-{uuid.uuid4().hex[:8].upper()}"
    r = await api.post("/api/v1/products", headers=as_staff, json={
        "name": f"Race {sku}", "sku": sku, "price": "11.00", "stock_quantity": 10, "kind": "physical"})
    assert r.status_code == 201, r.text
    product = r.json()
    auth = await customer(api)

    async def added() -> dict | None:  # the cart learns of a new product from catalog
        r = await api.post("/api/v1/cart/items", headers=auth, json={"product_id": product["id"], "quantity": 2})
        return r.json() if r.status_code == 201 else None

    cart = await poll(added, timeout=60, message="the new product in the cart")
    assert [(i["product_id"], i["unit_price"]) for i in cart["items"]] == [(product["id"], "11.00")]
    r = await api.patch(f"/api/v1/products/{product['id']}", headers=as_staff, json={"price": "13.00"})
    assert r.status_code == 200, r.text
    address = (await api.post("/api/v1/addresses", headers=auth, json=ADDRESS)).json()["id"]

    refused = await api.post("/api/v1/orders", headers=auth, json={"shipping_address_id": address})
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "PRICE_CHANGED" and error["details"]["items"] == [
        {"product_id": product["id"], "variant_id": None, "shown_unit_price": "11.00", "current_unit_price": "13.00"}]
    assert (await api.get("/api/v1/orders", headers=auth)).json()["count"] == 0
    shown = (await api.get("/api/v1/cart", headers=auth)).json()
    assert [(i["product_id"], i["unit_price"], i["quantity"]) for i in shown["items"]] == [(product["id"], "13.00", 2)]

    placed = await api.post("/api/v1/orders", headers=auth, json={"shipping_address_id": address})
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert [(i["product_id"], i["unit_price"]) for i in order["items"]] == [(product["id"], "13.00")]
    assert Decimal(order["subtotal"]) == Decimal(shown["subtotal"]) == Decimal("26.00")


@pytest.mark.modes("embedded", "distributed",
                   why="a price change reaches the cart in the process (embedded) or by an event across processes (distributed)")
async def test_adding_right_after_a_price_change_charges_only_what_the_cart_shows(api: httpx.AsyncClient) -> None:
    """The race of the issue: staff change the price and the customer adds the product at once, while
    the cart's read model may not have heard yet (it then shows the old price). Whichever way the
    race goes, the order charges the unit price the cart showed, after a 409 PRICE_CHANGED if needed."""
    as_staff = await staff(api)
    for attempt in range(3):
        sku = f"RACE{attempt}-{uuid.uuid4().hex[:8].upper()}"
        r = await api.post("/api/v1/products", headers=as_staff, json={
            "name": f"Race {sku}", "sku": sku, "price": "11.00", "stock_quantity": 10, "kind": "physical"})
        assert r.status_code == 201, r.text
        product = r.json()
        auth = await customer(api)
        address = (await api.post("/api/v1/addresses", headers=auth, json=ADDRESS)).json()["id"]
        warm = await api.post("/api/v1/cart/items", headers=await customer(api),
                              json={"product_id": product["id"], "quantity": 1})
        assert warm.status_code == 201, warm.text  # the cart's read model knows the product at 11.00
        changed, added = await asyncio.gather(
            api.patch(f"/api/v1/products/{product['id']}", headers=as_staff, json={"price": "13.00"}),
            api.post("/api/v1/cart/items", headers=auth, json={"product_id": product["id"], "quantity": 1}))
        assert changed.status_code == 200 and added.status_code == 201, (changed.text, added.text)
        shown = added.json()["items"][0]["unit_price"]
        placed = await api.post("/api/v1/orders", headers=auth, json={"shipping_address_id": address})
        if placed.status_code == 409:
            error = placed.json()["error"]
            assert error["code"] == "PRICE_CHANGED", error
            assert error["details"]["items"] == [{"product_id": product["id"], "variant_id": None,
                                                  "shown_unit_price": shown, "current_unit_price": "13.00"}]
            shown = (await api.get("/api/v1/cart", headers=auth)).json()["items"][0]["unit_price"]
            placed = await api.post("/api/v1/orders", headers=auth, json={"shipping_address_id": address})
        assert placed.status_code == 201, placed.text
        [item] = placed.json()["items"]
        # The price charged is the catalog's and the one the cart showed right before.
        assert item["unit_price"] == shown == "13.00"


async def test_the_plans_quota_shows_in_the_first_read_and_advance_takes_an_email(api: httpx.AsyncClient) -> None:
    email = f"quota-{uuid.uuid4().hex[:10]}@example.com"
    await register_verified(api, email)
    auth = {"Authorization": f"Bearer {(await login(api, email))['access']}"}
    r = await api.post("/api/v1/subscriptions/checkout", headers=auth, json={
        "plan_id": "pro_monthly", "success_url": "http://localhost:3000/ok", "cancel_url": "http://localhost:3000/no"})
    assert r.status_code == 200, r.text
    paid = await api.post(f"{r.json()['checkout_url']}/pay", headers={"Accept": "application/json"})
    assert paid.status_code == 200, paid.text
    # The very first reads after paying, no waiting: the plan with its quota.
    current = (await api.get("/api/v1/subscriptions/current", headers=auth)).json()
    assert (current["tier"], current["status"]) == ("pro", "active")
    assert current["quota"] == {"monthly": 200, "used": 0, "remaining": 200}
    me = (await api.get("/api/v1/users/me", headers=auth)).json()
    assert me["subscription"]["tier"] == "pro" and me["quota"] == {"monthly": 200, "used": 0, "remaining": 200}

    renewed = await api.post("/api/dev/subscriptions/advance", json={"email": email, "outcome": "paid"})
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["current_period_end"] != current["current_period_end"]
    history = (await api.get("/api/v1/subscriptions/history", headers=auth)).json()
    assert [i["status"] for i in history["results"]] == ["paid", "paid"]
    unknown = await api.post("/api/dev/subscriptions/advance", json={"email": "nobody-x@example.com"})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "NOT_FOUND"
