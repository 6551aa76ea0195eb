"""Steps of the back-office journeys (#36): staffers with a role, and a customer's paid order."""

from __future__ import annotations

from typing import Any

import httpx
from infra.journeys import login, poll, register_verified, simple_product_in_stock

ADDRESS = {"label": "Home", "type": "shipping", "first_name": "Ada", "last_name": "King",
           "street_address": "12 St James's Square", "city": "London", "postal_code": "SW1Y 4JH", "country": "GB",
           "phone": "+442079460000", "email": "ada@example.com"}


async def staffer_account(api: httpx.AsyncClient, admin: dict[str, str], role: str) -> dict[str, Any]:
    """A new verified account that the admin made a `role` staffer: `{email, user}`."""
    account = await register_verified(api)
    made = await api.post("/api/v1/staff/accounts", headers=admin, json={"email": account["email"], "roles": [role]})
    assert made.status_code == 200, made.text
    return account


async def staffer(api: httpx.AsyncClient, admin: dict[str, str], role: str) -> dict[str, str]:
    """Authorization headers of a new `role` staffer."""
    account = await staffer_account(api, admin, role)
    tokens = await login(api, account["email"])  # after the change: the token carries the role
    return {"Authorization": f"Bearer {tokens['access']}"}


async def paid_order(api: httpx.AsyncClient, auth: dict[str, str]) -> dict[str, Any]:
    """The customer (`auth`) buys one demo product and pays through the local checkout."""
    product = await simple_product_in_stock(api)
    assert (await api.post("/api/v1/cart/items", headers=auth,
                           json={"product_id": product["id"], "quantity": 1})).status_code == 201
    address = (await api.post("/api/v1/addresses", headers=auth, json=ADDRESS)).json()
    order = (await api.post("/api/v1/orders", headers=auth, json={"shipping_address_id": address["id"]})).json()

    async def status_is(wanted: str) -> dict | None:
        r = await api.get(f"/api/v1/orders/{order['id']}", headers=auth)
        return r.json() if r.status_code == 200 and r.json()["status"] == wanted else None

    await poll(lambda: status_is("awaiting_payment"), timeout=30, message="order awaiting payment")
    r = await api.post("/api/v1/payments/checkout", headers=auth, json={
        "order_id": order["id"], "success_url": "http://localhost:3000/ok", "cancel_url": "http://localhost:3000/no"})
    assert r.status_code == 200, r.text
    assert (await api.post(f"{r.json()['checkout_url']}/pay", headers={"Accept": "application/json"})).status_code == 200
    return await poll(lambda: status_is("paid"), timeout=30, message="order paid")
