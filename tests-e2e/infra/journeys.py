"""Steps that many journeys share: a verified, logged-in customer; the staff login; the mailbox."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from atelier_testing import poll_until
from atelier_testing.mail import token_from
from atelier_testing.platform import STAFF_EMAIL, STAFF_PASSWORD

PASSWORD = "correct-horse-battery"


async def poll(check, *, timeout: float = 20.0, interval: float = 0.1, message: str = "condition"):
    """`poll_until` with the end-to-end defaults: a whole platform's events take more hops than one service's."""
    return await poll_until(check, timeout=timeout, interval=interval, message=message)


async def generation_tier_is(api: httpx.AsyncClient, auth: dict[str, str], tier: str, timeout: float = 20.0) -> None:
    """Wait until generation itself holds the caller at `tier`: a plan's end reaches it by
    `subscription.changed`, after payments shows it, and a job is generation's to pay."""
    async def holds() -> bool:
        return (await api.get("/api/v1/me/usage", headers=auth)).json()["subscription_tier"] == tier

    await poll(holds, timeout=timeout, message=f"generation holds the {tier} tier")


async def latest_mail(api: httpx.AsyncClient, to: str, subject_contains: str = "") -> dict[str, Any]:
    async def find() -> dict[str, Any] | None:
        r = await api.get("/api/dev/mailbox", params={"to": to})
        assert r.status_code == 200, r.text
        for mail in r.json()["results"]:
            if subject_contains.lower() in mail["subject"].lower():
                return mail
        return None

    return await poll(find, message=f"mail to {to}")


async def register_verified(api: httpx.AsyncClient, email: str | None = None, **extra: Any) -> dict[str, Any]:
    email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
    r = await api.post("/api/v1/auth/register", json={
        "email": email, "password": PASSWORD, "password_confirm": PASSWORD,
        "first_name": "Ada", "last_name": "Lovelace", **extra})
    assert r.status_code == 201, r.text
    mail = await latest_mail(api, email, "confirm your email")
    r = await api.post("/api/v1/auth/verify-email", json={"token": token_from(mail)})
    assert r.status_code == 200, r.text
    return {"email": email, "user": r.json()}


async def login(api: httpx.AsyncClient, email: str, password: str = PASSWORD, **headers: str) -> dict[str, Any]:
    r = await api.post("/api/v1/auth/login", json={"email": email, "password": password}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def customer(api: httpx.AsyncClient) -> dict[str, str]:
    """Authorization headers of a fresh verified customer."""
    account = await register_verified(api)
    tokens = await login(api, account["email"])
    return {"Authorization": f"Bearer {tokens['access']}"}


# Staff's headers per platform, reused for a few minutes: many tests act as staff one after another,
# and one sign-in (an Argon2 check) serves them all.
_STAFF: dict[str, tuple[float, dict[str, str]]] = {}
STAFF_REUSE_SECONDS = 300  # well within the access token's 15 minutes


async def staff(api: httpx.AsyncClient) -> dict[str, str]:
    key = str(api.base_url)
    signed_in = _STAFF.get(key)
    if signed_in is None or time.monotonic() - signed_in[0] > STAFF_REUSE_SECONDS:
        tokens = await login(api, STAFF_EMAIL, STAFF_PASSWORD)
        signed_in = _STAFF[key] = (time.monotonic(), {"Authorization": f"Bearer {tokens['access']}"})
    return dict(signed_in[1])


def forget_staff() -> None:
    """Sign the staff account in again next time (a test retired the key its token was signed with)."""
    _STAFF.clear()


async def new_anonymous_token(api: httpx.AsyncClient) -> str:
    """What the gateway mints for a first-time visitor (a client without the cookie)."""
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as fresh:
        # The first request that needs an owner mints it (a catalog read gets none).
        return (await fresh.get("/api/v1/cart")).headers["x-anonymous-token"]


async def simple_product_in_stock(api: httpx.AsyncClient, min_stock: int = 3) -> dict[str, Any]:
    """A demo product without variants with at least `min_stock` units left."""
    r = await api.get("/api/v1/products", params={"kind": "physical", "in_stock": "true", "limit": 50})
    products = [p for p in r.json()["results"] if not p["variants"] and p["stock_quantity"] >= min_stock]
    assert products, "the demo catalog has a simple physical product in stock"
    return products[0]


ADDRESS = {"label": "Home", "type": "shipping", "first_name": "Ada", "last_name": "King",
           "street_address": "12 St James's Square", "city": "London", "postal_code": "SW1Y 4JH", "country": "GB",
           "phone": "+442079460000", "email": "ada@example.com"}


async def paid_order(api: httpx.AsyncClient, auth: dict[str, str]) -> dict[str, Any]:
    """A customer's order of one demo product, paid through the local provider's checkout."""
    return await pay_order(api, auth, await order_awaiting_payment(api, auth))


async def order_awaiting_payment(api: httpx.AsyncClient, auth: dict[str, str]) -> dict[str, Any]:
    """A customer's order of one demo product, placed and not paid yet."""
    product = await simple_product_in_stock(api)
    assert (await api.post("/api/v1/cart/items", headers=auth,
                           json={"product_id": product["id"], "quantity": 1})).status_code == 201
    address = (await api.post("/api/v1/addresses", headers=auth, json=ADDRESS)).json()
    order = (await api.post("/api/v1/orders", headers=auth, json={"shipping_address_id": address["id"]})).json()
    return await poll(lambda: _order_in(api, auth, order["id"], "awaiting_payment"), timeout=30,
                      message="order awaiting payment")


async def pay_order(api: httpx.AsyncClient, auth: dict[str, str], order: dict[str, Any]) -> dict[str, Any]:
    """Pay an order awaiting payment through the local provider's checkout; the order once paid."""
    r = await api.post("/api/v1/payments/checkout", headers=auth, json={
        "order_id": order["id"], "success_url": "http://localhost:3000/ok", "cancel_url": "http://localhost:3000/no"})
    assert r.status_code == 200, r.text
    assert (await api.post(f"{r.json()['checkout_url']}/pay", headers={"Accept": "application/json"})).status_code == 200
    return await poll(lambda: _order_in(api, auth, order["id"], "paid"), timeout=30, message="order paid")


async def _order_in(api: httpx.AsyncClient, auth: dict[str, str], order_id: str, status: str) -> dict[str, Any] | None:
    r = await api.get(f"/api/v1/orders/{order_id}", headers=auth)
    return r.json() if r.status_code == 200 and r.json()["status"] == status else None


# -- customer groups: staff put customers in them; price lists name them -----------------------------

GROUPS = "/api/v1/staff/customer-groups"


async def customer_group(api: httpx.AsyncClient, admin: dict[str, str], code: str,
                         storefront: str = "default") -> dict[str, Any]:
    """The group `code` on `storefront`, made by the admin unless another test made it already."""
    made = await api.post(GROUPS, headers=admin, json={"storefront": storefront, "code": code, "name": code.title()})
    if made.status_code == 201:
        return dict(made.json())
    assert made.status_code == 409, made.text
    listed = (await api.get(GROUPS, headers=admin, params={"storefront": storefront})).json()["results"]
    return next(group for group in listed if group["code"] == code)


async def join_group(api: httpx.AsyncClient, admin: dict[str, str], group: dict[str, Any],
                     *customers: str) -> dict[str, Any]:
    """Put customers (e-mails or ids) in `group`; their next refresh carries it."""
    added = await api.post(f"{GROUPS}/{group['id']}/members", headers=admin, json={"customers": list(customers)})
    assert added.status_code == 200, added.text
    return dict(added.json())


async def price_list(api: httpx.AsyncClient, admin: dict[str, str], **body: Any) -> dict[str, Any]:
    """A price list, made as soon as catalog heard of its group (`customer_group.changed`, an event away)."""
    async def made() -> httpx.Response | None:
        response = await api.post("/api/v1/staff/price-lists", headers=admin, json=body)
        if response.status_code == 400 and "customer_group" in response.text:
            return None
        return response

    response = await poll(made, message=f"catalog knows the group {body.get('customer_group')}")
    assert response.status_code == 201, response.text
    return dict(response.json())


async def group_known_to_catalog(api: httpx.AsyncClient, admin: dict[str, str], code: str,
                                 storefront: str = "default") -> dict[str, Any]:
    """`customer_group`, once catalog heard of it too (price lists may name it): a throwaway inactive
    list is made and deleted."""
    group = await customer_group(api, admin, code, storefront)
    probe = await price_list(api, admin, name=f"probe {uuid.uuid4().hex[:8]}", storefront=storefront, currency="USD",
                             customer_group=code, is_active=False)
    deleted = await api.delete(f"/api/v1/staff/price-lists/{probe['id']}", headers=admin)
    assert deleted.status_code == 204, deleted.text
    return group


async def refreshed_auth(api: httpx.AsyncClient, tokens: dict[str, Any], **headers: str) -> dict[str, str]:
    """The customer's headers after a refresh (`tokens` takes the new pair): what a client does after a 401."""
    response = await api.post("/api/v1/auth/refresh", json={"refresh": tokens["refresh"]}, headers=headers)
    assert response.status_code == 200, response.text
    tokens.update(response.json())
    return {"Authorization": f"Bearer {tokens['access']}"}
