"""S1 Marbelle's real frontend (KiroVasilovski/marbelle, marbelle/frontend) against `/compat/marbelle`.

A contract test per call its API client makes (src/shared/api/apiConfig.ts and the services that
use it): the path, method, body and headers it sends, and the fields it reads from the answer, in
both run modes; the frontend is served from another site than the API, as the original was
(`Origin` of the marbelle storefront, CORS). Then a browser test: a page of ours
(`pages/marbelle.html`), served on another site, making the app's calls in the app's order.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from infra.frontend_pages import allow_origin
from infra.journeys import PASSWORD, latest_mail, poll, token_from
from infra.marbelle import USER_FIELDS, V1, bearer, failed, ok, register, verified_login

from atelier_testing.browser import chromium, offline_context, static_site
from atelier_testing.platform import Platform

pytestmark = pytest.mark.e2e

SITE = "http://localhost:3000"  # the demo marbelle storefront's origin and mail links
FROM_SITE = {"Origin": SITE, "Accept": "application/json"}
PAGE = Path(__file__).parent / "pages" / "marbelle.html"
# What the frontend reads (src/features/*/types): a product, a cart, a cart line.
PRODUCT_READ = {"id", "name", "description", "price", "unit_of_measure", "category", "stock_quantity", "in_stock",
                "sku", "images"}
IMAGE_READ = {"id", "image", "alt_text", "is_primary", "display_order"}
CART_READ = {"id", "item_count", "subtotal", "tax_amount", "total", "items"}
LINE_READ = {"id", "product", "quantity", "unit_price", "subtotal", "created_at"}
LINE_PRODUCT_READ = {"id", "name", "sku", "stock_quantity", "in_stock", "image"}


def exposed(r: httpx.Response) -> set[str]:
    return {h.strip().lower() for h in r.headers.get("access-control-expose-headers", "").split(",")}


def cross_site(r: httpx.Response) -> None:
    """What a browser on the frontend's site needs to read the answer (axios `withCredentials`)."""
    assert r.headers["access-control-allow-origin"] == SITE
    assert r.headers["access-control-allow-credentials"] == "true"


async def stocked(s: httpx.AsyncClient, n: int = 1) -> list[dict[str, Any]]:
    page = (await s.get(f"{V1}/products/", params={"in_stock": "true", "page_size": 50})).json()["results"]
    products = [p for p in page if p["stock_quantity"] >= 10]
    assert len(products) >= n
    return products[:n]


# -- catalog: productService (plain axios, no credentials) ----------------------------------------

async def test_product_list_detail_and_categories_as_the_catalog_pages_read_them(seed_client) -> None:
    async with seed_client("marbelle") as s:
        r = await s.get(f"{V1}/products/", headers=FROM_SITE)
        cross_site(r)
        page = r.json()
        assert {"count", "next", "previous", "results"} <= set(page) and page["results"]
        for product in page["results"]:
            assert set(product) >= PRODUCT_READ
            assert isinstance(product["id"], int)  # ProductCard links /products/{id}; the page does Number(id)
            assert all(set(i) >= IMAGE_READ for i in product["images"])
        product = next(p for p in page["results"] if p["images"])
        # useProductDetail: GET /products/${Number(id)}/
        detail = await s.get(f"{V1}/products/{int(str(product['id']))}/", headers=FROM_SITE)
        assert detail.status_code == 200 and detail.json()["id"] == product["id"]
        assert detail.json()["images"][0]["image"].startswith("http")
        nan = await s.get(f"{V1}/products/NaN/", headers=FROM_SITE)  # what a non-number id used to become
        assert nan.status_code == 404 and nan.json()["success"] is False

        categories = (await s.get(f"{V1}/categories/", headers=FROM_SITE)).json()
        assert categories["results"] and all({"id", "name", "description", "product_count", "created_at"}
                                             <= set(c) for c in categories["results"])
        category = next(c for c in categories["results"] if c["product_count"])
        in_category = (await s.get(f"{V1}/categories/{category['id']}/products/", headers=FROM_SITE)).json()
        assert in_category["results"] and all(isinstance(p["id"], int) for p in in_category["results"])


# -- cart: cartService through apiClient (X-Session-ID for guests) ---------------------------------

async def test_a_guest_cart_travels_in_the_exposed_session_header_across_sites(seed_client) -> None:
    async with seed_client("marbelle") as s:
        first, second = await stocked(s, 2)
        preflight = await s.options(f"{V1}/cart/items/", headers={
            "Origin": SITE, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-session-id"})
        assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == SITE

        s.cookies.clear()  # another site: the API's cookie is not sent, only the header
        r = await s.get(f"{V1}/cart/", headers=FROM_SITE)
        cross_site(r)
        assert "x-session-id" in exposed(r)  # else the app never sees its session
        session = r.headers["x-session-id"]
        guest = {**FROM_SITE, "X-Session-ID": session}

        s.cookies.clear()
        r = await s.post(f"{V1}/cart/items/", headers=guest, json={"product_id": first["id"], "quantity": 2})
        added = ok(r)
        assert r.headers["x-session-id"] == session
        assert set(added) == {"item", "cart_totals"} and set(added["item"]) >= LINE_READ
        assert added["item"]["product"]["id"] == first["id"]  # CartItem links /products/{id}
        s.cookies.clear()
        ok(await s.post(f"{V1}/cart/items/", headers=guest, json={"product_id": second["id"], "quantity": 1}))

        s.cookies.clear()
        cart = ok(await s.get(f"{V1}/cart/", headers=guest))
        assert set(cart) >= CART_READ and cart["item_count"] == 3
        assert all(set(i) >= LINE_READ and set(i["product"]) >= LINE_PRODUCT_READ for i in cart["items"])
        line = next(i for i in cart["items"] if i["product"]["id"] == first["id"])

        s.cookies.clear()  # updateCartItem: PUT /cart/items/{id}/ {quantity}
        ok(await s.put(f"{V1}/cart/items/{line['id']}/", headers=guest, json={"quantity": 4}))
        s.cookies.clear()  # removeCartItem: DELETE /cart/items/{id}/remove/
        ok(await s.delete(f"{V1}/cart/items/{line['id']}/remove/", headers=guest))
        s.cookies.clear()
        assert ok(await s.get(f"{V1}/cart/", headers=guest))["item_count"] == 1
        s.cookies.clear()  # clearCart: DELETE /cart/clear/
        ok(await s.delete(f"{V1}/cart/clear/", headers=guest))
        s.cookies.clear()
        assert ok(await s.get(f"{V1}/cart/", headers=guest))["items"] == []


async def test_the_guest_cart_is_the_guests_until_sign_in_merges_it(seed_client, api: httpx.AsyncClient) -> None:
    async with seed_client("marbelle") as s:
        (product,) = await stocked(s)
        s.cookies.clear()
        r = await s.post(f"{V1}/cart/items/", headers=FROM_SITE, json={"product_id": product["id"], "quantity": 2})
        guest = {**FROM_SITE, "X-Session-ID": r.headers["x-session-id"]}
        # RegisterForm: the guest's X-Session-ID goes along (the app has no token yet)
        s.cookies.clear()
        r = await s.post(f"{V1}/auth/register/", headers=guest, json={
            "first_name": "Ada", "last_name": "Stone", "email": (email := f"m-{uuid.uuid4().hex[:10]}@example.com"),
            "password": PASSWORD, "password_confirm": PASSWORD, "company_name": "", "phone": ""})
        assert set(ok(r, 201)) == USER_FIELDS
        assert r.headers["x-session-id"] == guest["X-Session-ID"]  # the same guest session
        s.cookies.clear()
        assert ok(await s.get(f"{V1}/cart/", headers=guest))["item_count"] == 2  # not emptied by sign-up

        token = token_from(await latest_mail(api, email, "confirm your email"))
        s.cookies.clear()
        ok(await s.post(f"{V1}/auth/verify-email/", headers=guest, json={"token": token}))
        s.cookies.clear()  # LoginForm: still no token, so X-Session-ID goes along
        data = ok(await s.post(f"{V1}/auth/login/", headers=guest, json={"email": email, "password": PASSWORD}))

        async def merged() -> dict[str, Any] | None:
            cart = ok(await s.get(f"{V1}/cart/", headers={**FROM_SITE, **bearer(data)}))
            return cart if cart["item_count"] == 2 else None

        cart = await poll(merged, message="the guest cart merged at sign-in")
        assert [(i["product"]["id"], i["quantity"]) for i in cart["items"]] == [(product["id"], 2)]


# -- authentication: authService and ApiClient's refresh -------------------------------------------

async def test_sign_in_verify_token_and_refresh_as_the_api_client_reads_them(seed_client, api: httpx.AsyncClient) -> None:
    async with seed_client("marbelle") as s:
        email, data = await verified_login(s, api)
        assert set(data) == {"access", "refresh", "user"} and set(data["user"]) == USER_FIELDS  # authService.login
        # AuthContext on load: GET /auth/verify-token/ → the User it stores as user_data
        r = await s.get(f"{V1}/auth/verify-token/", headers={**FROM_SITE, **bearer(data)})
        cross_site(r)
        user = ok(r)
        assert user == data["user"] and user["email"] == email and user["first_name"] == "John"
        assert user["date_joined"] and user["is_verified"] is True  # ProfilePage shows the date joined

        # ApiClient.refreshAccessToken: POST {refresh}, no bearer; reads response.data.access / .refresh
        r = await s.post(f"{V1}/auth/refresh-token/", headers=FROM_SITE, json={"refresh": data["refresh"]})
        cross_site(r)
        assert r.status_code == 200 and set(r.json()) == {"access", "refresh"}, r.text
        pair = r.json()
        assert ok(await s.get(f"{V1}/auth/user/", headers=bearer(pair)))["email"] == email  # the retry
        again = await s.post(f"{V1}/auth/refresh-token/", headers=FROM_SITE, json={"refresh": data["refresh"]})
        assert again.status_code == 401 and "access" not in again.json()  # rotated: the app signs out

        # an expired access token is a 401 (the app's cue to refresh), in the seed's error shape
        failed(await s.get(f"{V1}/auth/verify-token/", headers=bearer({"access": _expired(pair["access"])})), 401)

        ok(await s.post(f"{V1}/auth/logout/", headers=bearer(pair), json={}))  # authService.logout: body {}


async def test_password_reset_from_the_mail_link_at_the_apps_route(seed_client, api: httpx.AsyncClient) -> None:
    async with seed_client("marbelle") as s:
        email, _ = await verified_login(s, api)
        ok(await s.post(f"{V1}/auth/password-reset/", headers=FROM_SITE, json={"email": email}))
        mail = await latest_mail(api, email, "reset your password")
        link = re.search(r"https?://\S+token=[A-Za-z0-9_\-.]+", mail["text"])
        assert link and link.group(0).startswith(f"{SITE}/password-reset?token="), mail["text"]  # App.tsx's route
        new = "Granite-River-2027!"
        ok(await s.post(f"{V1}/auth/password-reset-confirm/", headers=FROM_SITE, json={
            "token": token_from(mail), "new_password": new, "new_password_confirm": new}))
        ok(await s.post(f"{V1}/auth/login/", json={"email": email, "password": new}))


async def test_resend_verification_and_the_verification_link(seed_client, api: httpx.AsyncClient) -> None:
    async with seed_client("marbelle") as s:
        email = await register(s)
        ok(await s.post(f"{V1}/auth/resend-verification/", headers=FROM_SITE, json={"email": email}))
        mail = await latest_mail(api, email, "confirm your email")
        assert f"{SITE}/verify-email?token=" in mail["text"]  # EmailVerifyPage reads ?token=
        user = ok(await s.post(f"{V1}/auth/verify-email/", json={"token": token_from(mail)}))
        assert user["email"] == email


# -- dashboard: dashboardService ------------------------------------------------------------------

async def test_profile_password_email_change_and_addresses_as_the_dashboard_reads_them(
        seed_client, api: httpx.AsyncClient) -> None:
    async with seed_client("marbelle") as s:
        _, data = await verified_login(s, api)
        auth = {**FROM_SITE, **bearer(data)}
        assert set(ok(await s.get(f"{V1}/auth/user/", headers=auth))) == USER_FIELDS
        # ProfileForm: PUT {first_name, last_name, phone, company_name} → the User it stores
        updated = ok(await s.put(f"{V1}/auth/user/", headers=auth, json={
            "first_name": "Jane", "last_name": "Doe", "phone": "+1234567899", "company_name": "Stoneworks"}))
        assert set(updated) == USER_FIELDS and updated["first_name"] == "Jane"
        address = {"label": "Home", "first_name": "Jane", "last_name": "Doe", "company": "", "address_line_1": "1 Quarry Rd",
                   "address_line_2": "", "city": "Carrara", "state": "MS", "postal_code": "54033", "country": "Italy",
                   "phone": "+390585000000"}
        assert ok(await s.get(f"{V1}/auth/addresses/", headers=auth)) == {"addresses": []}  # response.addresses
        home = ok(await s.post(f"{V1}/auth/addresses/", headers=auth, json=address), 201)
        office = ok(await s.post(f"{V1}/auth/addresses/", headers=auth, json={**address, "label": "Office"}), 201)
        assert ok(await s.put(f"{V1}/auth/addresses/{office['id']}/", headers=auth,
                              json={**address, "label": "Office", "city": "Pisa"}))["city"] == "Pisa"
        assert ok(await s.patch(f"{V1}/auth/addresses/{office['id']}/set_primary/", headers=auth, json={}))["is_primary"]
        ok(await s.delete(f"{V1}/auth/addresses/{home['id']}/", headers=auth))
        assert [a["label"] for a in ok(await s.get(f"{V1}/auth/addresses/", headers=auth))["addresses"]] == ["Office"]

        # PasswordPage: POST {current_password, new_password, new_password_confirm}
        new = "Basalt-Meadow-2028!"
        ok(await s.post(f"{V1}/auth/change-password/", headers=auth, json={
            "current_password": PASSWORD, "new_password": new, "new_password_confirm": new}))
        # which ends every other session: the page ignores the answer and goes on with the token it holds
        assert ok(await s.get(f"{V1}/auth/user/", headers=auth))["email"] == updated["email"]

        other = f"new-{uuid.uuid4().hex[:10]}@example.com"
        ok(await s.post(f"{V1}/auth/request-email-change/", headers=auth,
                        json={"current_password": new, "new_email": other}))
        mail = await latest_mail(api, other, "confirm your new email")
        assert f"{SITE}/confirm-email-change?token=" in mail["text"]  # App.tsx's route
        assert ok(await s.post(f"{V1}/auth/confirm-email-change/", json={"token": token_from(mail)}))["email"] == other


def _expired(access: str) -> str:
    """`access` with its `exp` in the past: the gateway refuses it as it refuses an expired one
    (the platform's access tokens live 15 minutes; a test does not wait for that)."""
    header, payload, signature = access.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["exp"] = int(time.time()) - 60
    changed = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{changed}.{signature}"


# -- the browser: a page of ours on another site, the app's calls in the app's order ----------------

async def test_the_apps_journeys_from_a_page_on_another_site(platform: Platform, api: httpx.AsyncClient) -> None:
    base = f"{platform.url}/compat/marbelle{V1}"  # 127.0.0.1; the page is on localhost: another site
    email = f"page-{uuid.uuid4().hex[:10]}@example.com"
    async with static_site({"/index.html": PAGE.read_text()}, host="localhost") as site:
        await allow_origin(api, "marbelle", site)
        async with chromium() as browser, offline_context(browser) as (context, watch):
            page = await context.new_page()
            await page.goto(f"{site}/?api={base}")

            # browse, product page, add to cart as a guest
            listed = await page.evaluate("marbelle.products()")
            product = next(p for p in listed["results"] if p["in_stock"] and p["stock_quantity"] >= 10)
            shown = await page.evaluate("(id) => marbelle.product(String(id))", product["id"])
            assert shown["name"] == product["name"]
            await page.evaluate("marbelle.categories()")
            await page.evaluate("marbelle.cart()")
            added = await page.evaluate("(id) => marbelle.addToCart(id, 2)", product["id"])
            assert added["item"]["product"]["id"] == product["id"]
            session = await page.evaluate("marbelle.stored('session_id')")
            assert session, "the page could not read X-Session-ID across sites"

            # the guest cart survives a reload (the session is in localStorage)
            await page.reload()
            assert (await page.evaluate("marbelle.cart()"))["item_count"] == 2

            # sign-up (the guest cart stays the guest's), the mail's link, sign-in (merged)
            await page.evaluate("(d) => marbelle.register(d)", {
                "first_name": "Ada", "last_name": "Stone", "email": email, "password": PASSWORD,
                "password_confirm": PASSWORD, "company_name": "", "phone": ""})
            assert (await page.evaluate("marbelle.cart()"))["item_count"] == 2
            await page.evaluate("(t) => marbelle.verifyEmail(t)",
                                token_from(await latest_mail(api, email, "confirm your email")))
            await page.evaluate("([e, p]) => marbelle.login(e, p)", [email, PASSWORD])

            async def merged() -> bool:
                cart = await page.evaluate("marbelle.cart()")
                return [(i["product"]["id"], i["quantity"]) for i in cart["items"]] == [(product["id"], 2)]

            await poll(merged, message="the guest cart merged at sign-in")

            # reload keeps the profile: verify-token answers the user the app stores
            await page.reload()
            user = await page.evaluate("marbelle.verifyToken()")
            assert user["email"] == email and (await page.evaluate("marbelle.stored('user_data')")) == user

            # the access token expires: a 401, one refresh (the bare pair), the call retried
            before = len(watch.console_errors)
            await page.evaluate("(t) => localStorage.setItem('access_token', JSON.stringify(t))",
                                _expired(await page.evaluate("marbelle.stored('access_token')")))
            assert (await page.evaluate("marbelle.profile()"))["email"] == email
            refreshed = await page.evaluate("marbelle.stored('access_token')")
            assert refreshed and "." in refreshed
            # Chromium logs the refused call's status in the console: exactly that one line, expected
            assert [e for e in watch.console_errors[before:]] == [
                "Failed to load resource: the server responded with a status of 401 (Unauthorized)"]
            del watch.console_errors[before:]

            # reset password from the mail's link, which opens the app's own route
            await page.evaluate("localStorage.removeItem('access_token'); localStorage.removeItem('refresh_token')")
            await page.evaluate("(e) => marbelle.requestPasswordReset(e)", email)
            mail = await latest_mail(api, email, "reset your password")
            path = re.search(r"https?://[^/\s]+(/password-reset\?token=[A-Za-z0-9_\-.]+)", mail["text"])
            assert path, mail["text"]
            await page.goto(f"{site}{path.group(1)}")
            token = await page.evaluate("marbelle.resetToken")
            assert token == token_from(mail)
            new = "Granite-River-2027!"
            await page.evaluate("([t, p]) => marbelle.confirmPasswordReset(t, p)", [token, new])
            assert (await page.evaluate("([e, p]) => marbelle.login(e, p)", [email, new]))["user"]["email"] == email
            watch.assert_clean()
