"""S1 Marbelle's frontend, unchanged but for its base URL, against `/compat/marbelle` — both run modes.

Every route of the product's original API (S1) is called as the seed writes it (trailing slash, method, body, JWT bearer
or `X-Session-ID`), and the answer checked for the seed's `{success, message, data}` envelope, its
error shape `{success: false, message, errors}` and its status codes.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from infra.journeys import PASSWORD, latest_mail, poll, token_from
from infra.marbelle import USER_FIELDS, V1, bearer, failed, ok, register, verified_login

pytestmark = pytest.mark.e2e

ADDRESS_FIELDS = {"id", "label", "first_name", "last_name", "company", "address_line_1", "address_line_2", "city",
                  "state", "postal_code", "country", "phone", "is_primary", "created_at", "updated_at"}
PRODUCT_FIELDS = {"id", "name", "description", "price", "unit_of_measure", "category", "stock_quantity", "in_stock",
                  "sku", "images", "created_at", "updated_at"}
TOTALS = {"item_count", "subtotal", "tax_amount", "total"}


async def test_registration_verification_login_and_tokens(seed_client, api: httpx.AsyncClient) -> None:
    async with seed_client("marbelle") as s:
        email = await register(s)
        # account activation is required first
        body = failed(await s.post(f"{V1}/auth/login/", json={"email": email, "password": PASSWORD}), 403)
        assert body["code"] == "EMAIL_NOT_VERIFIED"
        assert ok(await s.post(f"{V1}/auth/resend-verification/", json={"email": email})) is None
        token = token_from(await latest_mail(api, email, "confirm your email"))
        assert ok(await s.post(f"{V1}/auth/verify-email/", json={"token": token}))["email"] == email
        failed(await s.post(f"{V1}/auth/verify-email/", json={"token": token}), 400)  # single use

        r = await s.post(f"{V1}/auth/login/", json={"email": email, "password": PASSWORD})
        data = ok(r)
        assert r.json()["message"] == "Login successful."
        assert set(data) == {"access", "refresh", "user"} and set(data["user"]) == USER_FIELDS
        failed(await s.post(f"{V1}/auth/login/", json={"email": email, "password": "wrong-password-1"}), 401)

        verified = ok(await s.get(f"{V1}/auth/verify-token/", headers=bearer(data)))
        assert verified == data["user"]  # the user, as the original answers (the app keeps it)
        failed(await s.get(f"{V1}/auth/verify-token/"), 401)

        r = await s.post(f"{V1}/auth/refresh-token/", json={"refresh": data["refresh"]})
        assert r.status_code == 200, r.text
        fresh = r.json()  # SimpleJWT's bare pair, no envelope
        assert set(fresh) == {"access", "refresh"} and fresh["refresh"] != data["refresh"]
        failed(await s.post(f"{V1}/auth/refresh-token/", json={"refresh": data["refresh"]}), 401)  # rotated

        r = await s.post(f"{V1}/auth/logout/", headers=bearer(fresh), json={"refresh": fresh["refresh"]})
        assert ok(r) is None
        failed(await s.get(f"{V1}/auth/user/", headers=bearer(fresh)), 401)  # blacklisted on logout


async def test_profile_password_and_email_change(seed_client, api: httpx.AsyncClient) -> None:
    async with seed_client("marbelle") as s:
        email, data = await verified_login(s, api)
        auth = bearer(data)
        profile = ok(await s.get(f"{V1}/auth/user/", headers=auth))
        assert set(profile) == USER_FIELDS and profile["email"] == email

        other = f"other-{uuid.uuid4().hex[:8]}@example.com"
        updated = ok(await s.put(f"{V1}/auth/user/", headers=auth,
                                 json={"last_name": "Smith", "email": other, "company_name": ""}))
        assert updated["last_name"] == "Smith" and updated["first_name"] == "John"  # partial
        assert updated["email"] == email  # email changes only through the email-change flow
        assert updated["is_business_customer"] is False  # company name decides

        body = failed(await s.post(f"{V1}/auth/change-password/", headers=auth, json={
            "current_password": PASSWORD, "new_password": "short", "new_password_confirm": "short"}), 400)
        assert any("password" in field for field in body["errors"])
        new_password = "another-horse-battery"
        renewed = ok(await s.post(f"{V1}/auth/change-password/", headers=auth, json={
            "current_password": PASSWORD, "new_password": new_password, "new_password_confirm": new_password}))
        # the session goes on with the pair the answer carries: the next page, and its refresh
        assert set(renewed) == {"access", "refresh"}
        assert ok(await s.get(f"{V1}/auth/user/", headers=bearer(renewed)))["email"] == email
        assert (await s.post(f"{V1}/auth/refresh-token/", json={"refresh": renewed["refresh"]})).status_code == 200
        data = ok(await s.post(f"{V1}/auth/login/", json={"email": email, "password": new_password}))

        # password reset: the same answer for unknown addresses, then the token from the mail
        ok(await s.post(f"{V1}/auth/password-reset/", json={"email": f"nobody-{uuid.uuid4().hex}@example.com"}))
        ok(await s.post(f"{V1}/auth/password-reset/", json={"email": email}))
        token = token_from(await latest_mail(api, email, "reset your password"))
        ok(await s.post(f"{V1}/auth/password-reset-confirm/", json={
            "token": token, "new_password": PASSWORD, "new_password_confirm": PASSWORD}))
        data = ok(await s.post(f"{V1}/auth/login/", json={"email": email, "password": PASSWORD}))

        new_email = f"new-{uuid.uuid4().hex[:10]}@example.com"
        r = await s.post(f"{V1}/auth/request-email-change/", headers=bearer(data),
                         json={"current_password": PASSWORD, "new_email": new_email})
        assert ok(r) is None
        assert r.json()["message"].startswith("Email change verification sent.")
        failed(await s.post(f"{V1}/auth/request-email-change/", headers=bearer(data),
                            json={"current_password": "wrong-password-1", "new_email": new_email}), 400)
        token = token_from(await latest_mail(api, new_email, "confirm your new email"))
        changed = ok(await s.post(f"{V1}/auth/confirm-email-change/", json={"token": token}))
        assert changed["email"] == new_email and set(changed) == USER_FIELDS
        failed(await s.post(f"{V1}/auth/confirm-email-change/", json={"token": token}), 400)  # single use
        await latest_mail(api, email, "your email address was changed")  # the old address is told
        ok(await s.post(f"{V1}/auth/login/", json={"email": new_email, "password": PASSWORD}))


def _address(label: str) -> dict[str, Any]:
    return {"label": label, "first_name": "John", "last_name": "Doe", "company": "Acme Corp",
            "address_line_1": "123 Main St", "address_line_2": "Apt 4B", "city": "New York", "state": "NY",
            "postal_code": "10001", "country": "USA", "phone": "+1234567890"}


@pytest.mark.modes("embedded", "distributed",
                   why="a revocation heard in the process (embedded) or broadcast to every gateway process (distributed)")
async def test_a_password_change_keeps_the_token_the_frontend_holds(seed_client, api: httpx.AsyncClient) -> None:
    """Marbelle's frontend ignores the pair the change answers and goes on with the token it holds (its
    original backend revoked nothing): that session stays signed in; the account's others end."""
    async with seed_client("marbelle") as s:
        email, data = await verified_login(s, api)
        elsewhere = ok(await s.post(f"{V1}/auth/login/", json={"email": email, "password": PASSWORD}))
        new_password = "another-horse-battery"
        ok(await s.post(f"{V1}/auth/change-password/", headers=bearer(data), json={
            "current_password": PASSWORD, "new_password": new_password, "new_password_confirm": new_password}))

        async def other_session_ended() -> bool:
            return (await s.get(f"{V1}/auth/user/", headers=bearer(elsewhere))).status_code == 401

        await poll(other_session_ended, timeout=30, message="the other session's token refused")
        failed(await s.post(f"{V1}/auth/refresh-token/", json={"refresh": elsewhere["refresh"]}), 401)
        # The frontend's own token and refresh token: still good, once the revocation was heard.
        assert ok(await s.get(f"{V1}/auth/user/", headers=bearer(data)))["email"] == email
        assert ok(await s.get(f"{V1}/auth/verify-token/", headers=bearer(data)))["email"] == email
        r = await s.post(f"{V1}/auth/refresh-token/", json={"refresh": data["refresh"]})
        assert r.status_code == 200, r.text
        assert ok(await s.get(f"{V1}/auth/user/", headers=bearer(r.json())))["email"] == email


async def test_address_management(seed_client, api: httpx.AsyncClient) -> None:
    async with seed_client("marbelle") as s:
        _, data = await verified_login(s, api)
        auth = bearer(data)
        assert ok(await s.get(f"{V1}/auth/addresses/", headers=auth)) == {"addresses": []}
        home = ok(await s.post(f"{V1}/auth/addresses/", headers=auth, json=_address("Home")), 201)
        assert set(home) == ADDRESS_FIELDS and home["is_primary"] is True  # the first is primary
        office = ok(await s.post(f"{V1}/auth/addresses/", headers=auth, json=_address("Office")), 201)
        assert office["is_primary"] is False
        body = failed(await s.post(f"{V1}/auth/addresses/", headers=auth, json=_address("Home")), 400)
        assert body["message"]  # labels are unique per user

        moved = ok(await s.put(f"{V1}/auth/addresses/{office['id']}/", headers=auth,
                               json={**_address("Office"), "city": "Boston"}))
        assert moved["city"] == "Boston"
        primary = ok(await s.patch(f"{V1}/auth/addresses/{office['id']}/set_primary/", headers=auth))
        assert primary["is_primary"] is True
        listed = ok(await s.get(f"{V1}/auth/addresses/", headers=auth))["addresses"]
        assert {a["label"]: a["is_primary"] for a in listed} == {"Home": False, "Office": True}
        assert all(set(a) == ADDRESS_FIELDS for a in listed)

        assert ok(await s.delete(f"{V1}/auth/addresses/{home['id']}/", headers=auth)) is None
        failed(await s.delete(f"{V1}/auth/addresses/{office['id']}/", headers=auth), 400)  # not the last one

        # another customer's address is not found
        _, stranger = await verified_login(s, api)
        failed(await s.put(f"{V1}/auth/addresses/{office['id']}/", headers=bearer(stranger),
                           json=_address("Mine")), 404)
        failed(await s.get(f"{V1}/auth/addresses/"), 401)


async def test_catalog(seed_client) -> None:
    async with seed_client("marbelle") as s:
        r = await s.get(f"{V1}/products/", params={"search": "marble"})
        assert r.status_code == 200
        page = r.json()
        assert set(page) == {"count", "next", "previous", "results"}  # a plain page, no envelope
        assert page["count"] >= 1 and all(set(p) == PRODUCT_FIELDS for p in page["results"])
        assert all("marble" in (p["name"] + p["description"] + p["sku"]).lower() for p in page["results"])

        r = await s.get(f"{V1}/products/", params={"ordering": "-price", "page_size": 2})
        page = r.json()
        prices = [Decimal(p["price"]) for p in page["results"]]
        assert prices == sorted(prices, reverse=True)
        assert page["next"] and "/compat/marbelle/api/v1/products/?" in page["next"]  # links stay in the profile
        follow = await s.get(page["next"])
        assert follow.status_code == 200 and follow.json()["previous"]

        product = next(p for p in (await s.get(f"{V1}/products/", params={"in_stock": "true"})).json()["results"]
                       if p["images"])
        assert product["in_stock"] is True and product["stock_quantity"] > 0
        assert product["images"][0]["image"].startswith("http")
        assert isinstance(product["id"], int)  # the seed's integer ids: the catalog's `number`
        detail = (await s.get(f"{V1}/products/{product['id']}/")).json()
        assert detail["id"] == product["id"] and set(detail) == PRODUCT_FIELDS
        missing = await s.get(f"{V1}/products/{uuid.uuid4()}/")
        assert missing.status_code == 404 and missing.json()["success"] is False

        r = await s.get(f"{V1}/products/", params={"min_price": "50", "max_price": "100"})
        assert all(Decimal("50") <= Decimal(p["price"]) <= Decimal("100") for p in r.json()["results"])

        categories = (await s.get(f"{V1}/categories/")).json()
        assert categories["count"] == len(categories["results"]) >= 1
        assert {"id", "name", "description", "product_count", "created_at"} == set(categories["results"][0])
        category = next(c for c in categories["results"] if c["product_count"] > 0)
        in_category = (await s.get(f"{V1}/categories/{category['id']}/products/")).json()
        assert in_category["count"] >= 1 and all(set(p) == PRODUCT_FIELDS for p in in_category["results"])
        filtered = (await s.get(f"{V1}/products/", params={"category": category["id"]})).json()
        assert filtered["count"] == in_category["count"]


async def _stocked_products(s: httpx.AsyncClient, n: int) -> list[dict[str, Any]]:
    r = await s.get(f"{V1}/products/", params={"in_stock": "true", "page_size": 50})
    # other journeys buy from the same demo catalog: keep to simple products with stock to spare
    products = [p for p in r.json()["results"] if p["stock_quantity"] >= 10 and Decimal(p["price"]) > 0]
    assert len(products) >= n
    return products[:n]


def _session(r: httpx.Response) -> str:
    session = r.headers.get("x-session-id")
    assert session, "guests get their session in X-Session-ID"
    return session


async def test_guest_cart_with_the_session_header(seed_client) -> None:
    async with seed_client("marbelle") as s:
        first, second = await _stocked_products(s, 2)
        s.cookies.clear()  # Safari: no cookies, only the header
        r = await s.get(f"{V1}/cart/")
        cart = ok(r)
        session = _session(r)
        assert cart["item_count"] == 0 and cart["items"] == [] and cart["total"] == "0.00"
        as_guest = {"X-Session-ID": session}

        s.cookies.clear()
        r = await s.post(f"{V1}/cart/items/", headers=as_guest, json={"product_id": first["id"], "quantity": 2})
        added = ok(r)
        assert _session(r) == session  # echoed back
        assert r.json()["message"] == f"Added 2 x {first['name']} to cart."
        assert set(added) == {"item", "cart_totals"} and set(added["cart_totals"]) == TOTALS
        item = added["item"]
        assert item["quantity"] == 2 and item["product"]["id"] == first["id"] and item["unit_price"] == first["price"]
        assert Decimal(item["subtotal"]) == Decimal(first["price"]) * 2
        subtotal = Decimal(first["price"]) * 2
        tax = (subtotal * Decimal("0.09")).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
        assert Decimal(added["cart_totals"]["tax_amount"]) == tax
        assert Decimal(added["cart_totals"]["total"]) == subtotal + tax

        s.cookies.clear()
        second_line = ok(await s.post(f"{V1}/cart/items/", headers=as_guest,
                                      json={"product_id": second["id"], "quantity": 1}))["item"]
        s.cookies.clear()
        updated = ok(await s.put(f"{V1}/cart/items/{item['id']}/", headers=as_guest, json={"quantity": 5}))
        assert updated["item"]["quantity"] == 5 and updated["cart_totals"]["item_count"] == 6

        s.cookies.clear()
        cart = ok(await s.get(f"{V1}/cart/", headers=as_guest))
        assert cart["item_count"] == 6 and len(cart["items"]) == 2
        line = next(i for i in cart["items"] if i["id"] == item["id"])
        assert {"id", "name", "sku", "stock_quantity", "in_stock", "image"} == set(line["product"])
        assert line["product"]["stock_quantity"] >= 10 and line["product"]["in_stock"] is True

        s.cookies.clear()
        body = failed(await s.put(f"{V1}/cart/items/{item['id']}/", headers=as_guest, json={"quantity": 100}), 400)
        assert "quantity" in body["errors"]
        s.cookies.clear()
        failed(await s.post(f"{V1}/cart/items/", headers=as_guest,
                            json={"product_id": first["id"], "quantity": first["stock_quantity"] + 1}), 400)

        s.cookies.clear()
        r = await s.delete(f"{V1}/cart/items/{second_line['id']}/remove/", headers=as_guest)
        assert r.json()["message"] == f"Removed {second['name']} from cart."
        assert ok(r)["cart_totals"]["item_count"] == 5
        s.cookies.clear()
        failed(await s.delete(f"{V1}/cart/items/{second_line['id']}/remove/", headers=as_guest), 404)

        # another visitor does not see this cart
        s.cookies.clear()
        assert ok(await s.get(f"{V1}/cart/"))["item_count"] == 0
        s.cookies.clear()
        cleared = ok(await s.delete(f"{V1}/cart/clear/", headers=as_guest))
        assert cleared == {"cart_totals": {"item_count": 0, "subtotal": "0.00", "tax_amount": "0.00",
                                           "total": "0.00"}}


async def test_journey_guest_cart_register_verify_login_merged_cart(seed_client, api: httpx.AsyncClient) -> None:
    """S1 only: guest cart with X-Session-ID → register → verify → login → merged cart; then /api/v1."""
    async with seed_client("marbelle") as s:
        first, second = await _stocked_products(s, 2)
        s.cookies.clear()
        r = await s.post(f"{V1}/cart/items/", json={"product_id": first["id"], "quantity": 3})
        session = _session(r)
        as_guest = {"X-Session-ID": session}

        email = await register(s, **as_guest)
        s.cookies.clear()
        # the seed merges when the customer signs in: until then the cart is the guest's
        assert ok(await s.get(f"{V1}/cart/", headers=as_guest))["item_count"] == 3
        token = token_from(await latest_mail(api, email, "confirm your email"))
        ok(await s.post(f"{V1}/auth/verify-email/", json={"token": token}))
        data = ok(await s.post(f"{V1}/auth/login/", headers=as_guest, json={"email": email, "password": PASSWORD}))
        auth = bearer(data)
        ok(await s.post(f"{V1}/cart/items/", headers=auth, json={"product_id": second["id"], "quantity": 1}))
        r = await s.get(f"{V1}/cart/", headers=auth)
        assert "x-session-id" not in r.headers  # a signed-in customer has no guest session

        async def merged() -> dict[str, Any] | None:
            cart = ok(await s.get(f"{V1}/cart/", headers=auth))
            return cart if cart["item_count"] == 4 else None

        cart = await poll(merged, message="the guest cart merged into the user's")
        assert {i["product"]["id"]: i["quantity"] for i in cart["items"]} == {first["id"]: 3, second["id"]: 1}

        # the same customer through the native API
        # the stone shop's storefront: the profile's, where the cart was filled
        native = await api.get("/api/v1/cart", headers={**auth, "X-Atelier-Storefront": "marbelle"})
        assert native.status_code == 200
        details = {p["id"]: await api.get(f"/api/v1/products/{p['id']}") for p in (first, second)}
        assert all(r.status_code == 200 for r in details.values()), [(r.status_code, r.text) for r in details.values()]
        uuids = {seed_id: r.json()["id"] for seed_id, r in details.items()}
        assert {i["product_id"]: i["quantity"] for i in native.json()["items"]} == {
            uuids[first["id"]]: 3, uuids[second["id"]]: 1}
        me = (await api.get("/api/v1/users/me", headers=auth)).json()
        assert me["email"] == email and me["id"] == data["user"]["id"] and me["is_verified"] is True


async def test_the_profile_schema_lists_every_seed_route(seed_client) -> None:
    async with seed_client("marbelle") as s:
        doc = (await s.get("/schema")).json()
        served = {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
        assert len(served) == 28 and "x-not-implemented" not in doc
        assert ("PATCH", "/api/v1/auth/addresses/{id}/set_primary/") in served
        assert ("DELETE", "/api/v1/cart/items/{item_id}/remove/") in served
