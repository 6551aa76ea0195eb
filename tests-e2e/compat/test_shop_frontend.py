"""S3 shop: the calls an SPA built from the seed's API guide makes, one contract test each (both
run modes), and its journeys in headless Chromium from a page of our own on another site
(pages/shop.html: the guide's calls in the guide's order).

The mail links are the seed's own SPA routes (`{FRONTEND_URL}/verify-email/<token>`,
`/reset-password/<token>`, its users/tasks.py) on the shop storefront's `frontend_url`; the page
they open calls `GET /auth/verify-email/<token>/` or `POST /auth/password/reset/confirm/`.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from infra.frontend_pages import allow_origin, mail_link, page_files, wait_status
from infra.identity_steps import visitor_client
from infra.journeys import PASSWORD, poll

from atelier_testing.browser import chromium, offline_context, static_site
from atelier_testing.platform import Platform

pytestmark = pytest.mark.e2e

V1 = "/api/v1"
SITE = "http://localhost:3104"  # the shop storefront's frontend_url (the demo storefronts)
VERIFY_LINK = rf"{SITE}(/verify-email/[A-Za-z0-9_\-.]+)"
RESET_LINK = rf"{SITE}(/reset-password/[A-Za-z0-9_\-.]+)"
NEW_PASSWORD = "An0ther-Passw0rd!"


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def failed(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code and isinstance(body["error"], str) and "details" in body, body
    return body


def bearer(access: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access}"}


async def register(s: httpx.AsyncClient) -> str:
    email = f"spa-{uuid.uuid4().hex[:10]}@example.com"
    body = ok(await s.post(f"{V1}/auth/register/", json={
        "email": email, "password": PASSWORD, "password_confirm": PASSWORD, "first_name": "John",
        "last_name": "Doe", "phone_number": "+1234567890"}), 201)
    assert body["user"]["email"] == email
    return email


async def verified(s: httpx.AsyncClient, api: httpx.AsyncClient) -> tuple[str, dict[str, Any]]:
    email = await register(s)
    path = await mail_link(api, email, "confirm your email", VERIFY_LINK)
    assert ok(await s.get(f"{V1}/auth/verify-email/{path.rsplit('/', 1)[1]}/")) == \
        {"message": "Email verified successfully"}
    return email, ok(await s.post(f"{V1}/auth/login/", json={"email": email, "password": PASSWORD}))


async def test_verification_link_and_get_verify_email(seed_client, api: httpx.AsyncClient) -> None:
    async with seed_client("shop") as s:
        email = await register(s)
        failed(await s.post(f"{V1}/auth/login/", json={"email": email, "password": PASSWORD}), 403, "email_not_verified")
        path = await mail_link(api, email, "confirm your email", VERIFY_LINK)  # the shop's site, its route
        token = path.rsplit("/", 1)[1]
        assert ok(await s.get(f"{V1}/auth/verify-email/{token}/")) == {"message": "Email verified successfully"}
        failed(await s.get(f"{V1}/auth/verify-email/{token}/"), 400, "invalid_token")  # single use
        failed(await s.get(f"{V1}/auth/verify-email/not-a-token/"), 400, "invalid_token")
        login = ok(await s.post(f"{V1}/auth/login/", json={"email": email, "password": PASSWORD}))
        assert set(login["tokens"]) == {"access", "refresh"} and login["user"]["is_verified"] is True


async def test_login_refresh_me(seed_client, api: httpx.AsyncClient) -> None:
    async with seed_client("shop") as s:
        email, login = await verified(s, api)
        pair = ok(await s.post(f"{V1}/auth/refresh/", json={"refresh": login["tokens"]["refresh"]}))
        assert pair["access"] and pair["refresh"] != login["tokens"]["refresh"]  # rotated: the SPA keeps the new one
        me = ok(await s.get(f"{V1}/auth/me/", headers=bearer(pair["access"])))
        assert me["email"] == email and me["is_verified"] is True and me["phone_number"] == "+1234567890"
        failed(await s.post(f"{V1}/auth/refresh/", json={"refresh": login["tokens"]["refresh"]}), 401, "invalid_token")


async def test_password_change(seed_client, api: httpx.AsyncClient) -> None:
    async with seed_client("shop") as s:
        email, login = await verified(s, api)
        auth = bearer(login["tokens"]["access"])
        failed(await s.post(f"{V1}/auth/password/change/", headers=auth, json={
            "old_password": "wrong-Passw0rd!", "new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD}),
            400, "invalid_password")
        failed(await s.post(f"{V1}/auth/password/change/", headers=auth, json={
            "old_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_confirm": "different-Passw0rd!"}),
            400, "validation_error")
        body = ok(await s.post(f"{V1}/auth/password/change/", headers=auth, json={
            "old_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD}))
        assert body["message"] == "Password changed successfully"
        # Every session ends with the change: the answer carries the caller's new pair.
        assert ok(await s.get(f"{V1}/auth/me/", headers=bearer(body["tokens"]["access"])))["email"] == email
        failed(await s.post(f"{V1}/auth/login/", json={"email": email, "password": PASSWORD}), 401,
               "invalid_credentials")
        ok(await s.post(f"{V1}/auth/login/", json={"email": email, "password": NEW_PASSWORD}))
        failed(await s.post(f"{V1}/auth/password/change/", json={}), 401, "not_authenticated")


async def test_password_reset_from_the_mail_link(seed_client, api: httpx.AsyncClient) -> None:
    async with seed_client("shop") as s:
        email, _ = await verified(s, api)
        for who in (email, "nobody-here@example.com"):  # the same answer either way
            assert ok(await s.post(f"{V1}/auth/password/reset/", json={"email": who})) == \
                {"message": "If the email exists, a password reset link has been sent."}
        failed(await s.post(f"{V1}/auth/password/reset/", json={"email": "not an email"}), 400, "validation_error")
        path = await mail_link(api, email, "reset", RESET_LINK)
        token = path.rsplit("/", 1)[1]
        mismatch = failed(await s.post(f"{V1}/auth/password/reset/confirm/", json={
            "token": token, "new_password": NEW_PASSWORD, "new_password_confirm": "different-Passw0rd!"}),
            400, "validation_error")
        assert "new_password_confirm" in mismatch["details"]
        assert ok(await s.post(f"{V1}/auth/password/reset/confirm/", json={
            "token": token, "new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD})) == \
            {"message": "Password reset successfully"}
        failed(await s.post(f"{V1}/auth/password/reset/confirm/", json={
            "token": token, "new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD}), 400, "invalid_token")
        ok(await s.post(f"{V1}/auth/login/", json={"email": email, "password": NEW_PASSWORD}))


async def test_product_filters_of_the_guide_and_the_seed(seed_client) -> None:
    async with seed_client("shop") as s:
        everything = ok(await s.get(f"{V1}/products/", params={"page_size": 100}))
        prices = sorted(Decimal(p["price"]) for p in everything["results"])
        assert len(set(prices)) >= 3, prices
        middle = prices[len(prices) // 2]

        async def results(**params: Any) -> list[dict[str, Any]]:
            page = ok(await s.get(f"{V1}/products/", params={**params, "page_size": 100}))
            assert page["count"] == len(page["results"]) > 0, params
            return page["results"]

        for low, high in (("min_price", "max_price"), ("price_min", "price_max")):  # the guide's, the filter set's
            below = await results(**{high: str(middle)})
            above = await results(**{low: str(middle)})
            assert all(Decimal(p["price"]) <= middle for p in below) and len(below) < len(everything["results"])
            assert all(Decimal(p["price"]) >= middle for p in above) and len(above) < len(everything["results"])
        assert all(p["is_in_stock"] for p in await results(in_stock="true"))
        assert len(await results(in_stock="false")) == everything["count"]  # the seed's filter ignores false
        assert all(p["is_featured"] for p in await results(featured="true"))
        category = ok(await s.get(f"{V1}/products/categories/"))["results"][0]
        assert await results(category=category["slug"])
        word = everything["results"][0]["name"].split()[0]
        assert await results(search=word)
        assert any(word in p["name"] for p in await results(name=word))
        descending = [Decimal(p["price"]) for p in await results(ordering="-price")]
        assert descending == sorted(descending, reverse=True)
        second = ok(await s.get(f"{V1}/products/", params={"page": 2, "page_size": 1}))
        assert len(second["results"]) == 1 and "/compat/shop/api/v1/products/" in second["previous"]


# -- the journeys in Chromium ---------------------------------------------------------------------


ADDRESS = {"address_type": "shipping", "full_name": "John Doe", "phone_number": "+1234567890",
           "street_address": "456 Oak Ave", "city": "Los Angeles", "state": "CA", "country": "USA",
           "zip_code": "90001", "is_default": True}


async def test_spa_journeys_in_chromium(stripe_platform: Platform, stripe_server: Any) -> None:
    """Sign-up → verify (mail link) → sign-in → reload → refresh → browse with filters → product →
    cart → checkout paid with Stripe → change password → reset password (mail link), on another site."""
    api_base = f"{stripe_platform.url}/compat/shop{V1}"
    email = f"spa-{uuid.uuid4().hex[:10]}@example.com"
    async with visitor_client(stripe_platform.url) as api, static_site(page_files("shop"), host="localhost") as site, \
            chromium() as browser, offline_context(browser) as (context, watch):
        await allow_origin(api, "shop", site)
        page = await context.new_page()
        await page.goto(f"{site}/?api={api_base}")
        await wait_status(page, "ready")

        await page.evaluate("([e, p]) => shop.register(e, p, 'John', 'Doe', '+1234567890')", [email, PASSWORD])
        await page.goto(site + await mail_link(api, email, "confirm your email", VERIFY_LINK))
        await wait_status(page, "Email verified successfully")
        signed_in = await page.evaluate("([e, p]) => shop.login(e, p)", [email, PASSWORD])
        assert signed_in["me"]["email"] == email and signed_in["answer"]["user"]["is_verified"] is True

        await page.reload()
        await wait_status(page, "signed-in")
        assert await page.text_content("#user") == email
        refreshed = await page.evaluate("shop.refresh()")
        assert refreshed["pair"]["access"] != signed_in["answer"]["tokens"]["access"] and refreshed["me"]["email"] == email

        everything = await page.evaluate("shop.products({page_size: 100})")
        prices = sorted(Decimal(p["price"]) for p in everything["results"])
        cheap = await page.evaluate("(p) => shop.products({price_max: p, ordering: 'price', in_stock: 'true'})",
                                    str(prices[len(prices) // 2]))
        assert 0 < cheap["count"] < everything["count"]
        assert all(Decimal(p["price"]) <= prices[len(prices) // 2] and p["is_in_stock"] for p in cheap["results"])
        product = next(p for p in cheap["results"] if p["quantity"] >= 2)
        detail = await page.evaluate("(s) => shop.product(s)", product["slug"])
        assert detail["id"] == product["id"] and {"variants", "reviews", "description", "sku"} <= set(detail)
        wished = await page.evaluate("(s) => shop.toggleWishlist(s)", product["slug"])
        assert wished["answer"]["in_wishlist"] is True
        assert [w["product"]["id"] for w in wished["wishlist"]["results"]] == [product["id"]]

        assert (await page.evaluate("(id) => shop.addToCart(id, 2)", product["id"]))["quantity"] == 2
        cart = await page.evaluate("shop.cart()")
        assert [i["product"]["id"] for i in cart["items"]] == [product["id"]] and cart["total_items"] == 2
        checkout = await page.evaluate("(a) => shop.checkout(a)", ADDRESS)
        order = checkout["order"]
        assert order["status"] == "pending" and Decimal(order["subtotal"]) == 2 * Decimal(product["price"])
        stripe_server.fake.succeed_intent(checkout["intent"]["payment_intent_id"])  # Stripe.js pays
        paid = await page.evaluate("([o, i]) => shop.confirmPayment(o, i)",
                                   [order["id"], checkout["intent"]["payment_intent_id"]])
        assert paid == {"message": "Payment confirmed successfully", "order_id": order["id"]}

        async def processing() -> dict[str, Any] | None:  # the order page, refreshed: orders hears the payment
            shown = await page.evaluate("(id) => shop.order(id)", order["id"])
            return shown if shown["status"] == "processing" else None

        shown = await poll(processing, timeout=30, message="the order processing")
        assert shown["shipping_address"]["zip_code"] == ADDRESS["zip_code"]
        assert (await page.evaluate("shop.orders()"))["results"][0]["id"] == order["id"]
        assert [a["id"] for a in (await page.evaluate("shop.addresses()"))["results"]] == [checkout["address"]["id"]]

        changed = await page.evaluate("([a, b]) => shop.changePassword(a, b)", [PASSWORD, NEW_PASSWORD])
        assert changed["answer"]["message"] == "Password changed successfully" and changed["me"]["email"] == email

        await page.evaluate("(e) => shop.requestReset(e)", email)
        await page.goto(site + await mail_link(api, email, "reset", RESET_LINK))
        await wait_status(page, "reset-form")
        assert (await page.evaluate("(p) => shop.confirmReset(p)", PASSWORD))["message"] == "Password reset successfully"
        assert (await page.evaluate("([e, p]) => shop.login(e, p)", [email, PASSWORD]))["me"]["email"] == email
        assert (await page.evaluate("shop.logout()"))["message"] == "Logout successful"
        watch.assert_clean()
