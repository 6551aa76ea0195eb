"""Guest accounts (docs/storefronts.md#guest-accounts) through the gateway, in both modes: a guest who
pays on the default storefront ("offer") stays a guest unless they asked at checkout, and still
finds the order by signing up later; one who asked gets an account; on a "create" storefront every
paying guest gets one without asking."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from infra.journeys import PASSWORD, latest_mail, login, new_anonymous_token, pay_order, poll, staff, token_from

pytestmark = pytest.mark.e2e

ADDRESS = {"label": "Home", "type": "shipping", "first_name": "Grace", "last_name": "Hopper",
           "street_address": "1 Harbour Road", "city": "London", "postal_code": "SW1Y 4JH", "country": "GB",
           "phone": "+442079460000"}
WELCOME = "set your password"


async def _product(api: httpx.AsyncClient, on: dict[str, str]) -> dict[str, Any]:
    r = await api.get("/api/v1/products", headers=on, params={"kind": "physical", "in_stock": "true", "limit": 50})
    assert r.status_code == 200, r.text
    products = [p for p in r.json()["results"] if not p["variants"] and p["stock_quantity"] >= 3]
    assert products, "the demo catalog has a simple physical product in stock there"
    return products[0]


async def _order_status(api: httpx.AsyncClient, order_id: str, headers: dict[str, str], status: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        r = await api.get(f"/api/v1/orders/{order_id}", headers=headers)
        return r.json() if r.status_code == 200 and r.json()["status"] == status else None

    return await poll(check, timeout=60, message=f"order {order_id} {status}")


async def guest_pays(api: httpx.AsyncClient, *, on: dict[str, str] | None = None, product: dict[str, Any] | None = None,
                     **order: Any) -> tuple[str, dict[str, str], dict[str, Any]]:
    """A new guest orders one `product` (else a demo one) to an address with a new email and pays on
    the local checkout page: (the email, the guest's headers, the order once paid). `on`: the
    storefront's header; `order`: more of `POST /orders`."""
    on = on or {}
    email = f"guest-{uuid.uuid4().hex[:10]}@example.com"
    guest = {"X-Anonymous-Token": await new_anonymous_token(api), **on}
    product = product or await _product(api, on)
    r = await api.post("/api/v1/addresses", headers=guest, json={**ADDRESS, "email": email})
    assert r.status_code == 201, r.text
    r = await api.post("/api/v1/orders", headers=guest, json={
        "items": [{"product_id": product["id"], "quantity": 1}], "shipping_address_id": r.json()["id"], **order})
    assert r.status_code == 201, r.text
    placed = await _order_status(api, r.json()["id"], guest, "awaiting_payment")
    return email, guest, await pay_order(api, guest, placed)


async def accounts_named(api: httpx.AsyncClient, email: str) -> list[dict[str, Any]]:
    r = await api.get("/api/v1/staff/customers", headers=await staff(api), params={"q": email})
    assert r.status_code == 200, r.text
    return [c for c in r.json()["results"] if c["email"] == email]


async def finds_the_order_after_setting_a_password(api: httpx.AsyncClient, email: str, order_id: str) -> None:
    """The account made for the buyer: its welcome mail sets a password, and the paid order is theirs."""
    welcome = await latest_mail(api, email, WELCOME)
    r = await api.post("/api/v1/auth/password-reset/confirm", json={
        "token": token_from(welcome), "new_password": PASSWORD, "new_password_confirm": PASSWORD})
    assert r.status_code == 200, r.text
    auth = {"Authorization": f"Bearer {(await login(api, email))['access']}"}
    await _order_status(api, order_id, auth, "paid")
    [account] = await accounts_named(api, email)
    assert account["email"] == email


async def test_a_guest_who_does_not_ask_stays_a_guest_and_finds_the_order_on_signing_up(
        api: httpx.AsyncClient) -> None:
    """The default storefront offers: no account for a guest who did not ask. Signing up later from
    the same browser (its anonymous token) claims the order all the same."""
    email, guest, order = await guest_pays(api)
    assert order["register_buyer"] is False
    # The paid mail goes out after orders heard `order.paid`, which identity hears at the same time
    # and lets pass without a transaction: by then nobody was registered.
    await latest_mail(api, email, f"{order['order_number']}: paid")
    assert await accounts_named(api, email) == []
    mails = (await api.get("/api/dev/mailbox", params={"to": email})).json()["results"]
    assert not any(WELCOME in m["subject"].lower() for m in mails)

    # The guest signs up with the browser that ordered: the order becomes theirs.
    r = await api.post("/api/v1/auth/register", headers={"X-Anonymous-Token": guest["X-Anonymous-Token"]}, json={
        "email": email, "password": PASSWORD, "password_confirm": PASSWORD, "first_name": "Grace",
        "last_name": "Hopper"})
    assert r.status_code == 201, r.text
    r = await api.post("/api/v1/auth/verify-email", json={"token": token_from(await latest_mail(
        api, email, "confirm your email"))})
    assert r.status_code == 200, r.text
    auth = {"Authorization": f"Bearer {(await login(api, email))['access']}"}
    await _order_status(api, order["id"], auth, "paid")

    async def listed() -> list[str] | None:
        ids = [o["id"] for o in (await api.get("/api/v1/orders", headers=auth)).json()["results"]]
        return ids or None

    assert await poll(listed, timeout=60, message="the guest's order in the new account's list") == [order["id"]]


async def test_a_guest_who_asks_gets_an_account(api: httpx.AsyncClient) -> None:
    email, _guest, order = await guest_pays(api, create_account=True)
    assert order["register_buyer"] is True
    await finds_the_order_after_setting_a_password(api, email, order["id"])


async def test_on_a_create_storefront_every_paying_guest_gets_an_account(api: httpx.AsyncClient) -> None:
    slug = f"guests{uuid.uuid4().hex[:8]}"
    origin = f"https://{slug}.example"
    r = await api.post("/api/v1/storefronts", headers=await staff(api), json={
        "slug": slug, "name": "Every guest an account", "origins": [origin], "frontend_url": origin,
        "currency": "USD", "sells": ["physical"], "guest_accounts": "create"})
    assert r.status_code == 201, r.text
    assert r.json()["guest_accounts"] == "create"
    on = {"X-Atelier-Storefront": slug}

    async def known() -> bool:
        r = await api.get("/api/v1/storefront", headers=on)
        return r.status_code == 200 and r.json()["guest_accounts"] == "create"

    await poll(known, message=f"storefront {slug} known")
    r = await api.post("/api/v1/products", headers=await staff(api), json={
        "name": f"Slab of {slug}", "sku": f"GA-{slug}", "price": "40.00", "currency": "USD", "stock_quantity": 20,
        "kind": "physical", "storefronts": [slug]})
    assert r.status_code == 201, r.text
    product = r.json()

    async def listed() -> bool:
        r = await api.get("/api/v1/products", headers=on, params={"search": f"Slab of {slug}"})
        return product["id"] in {p["id"] for p in r.json()["results"]}

    await poll(listed, message=f"the product on {slug}")
    email, _guest, order = await guest_pays(api, on=on, product=product)  # no create_account
    assert order["storefront"] == slug and order["register_buyer"] is True
    await finds_the_order_after_setting_a_password(api, email, order["id"])
