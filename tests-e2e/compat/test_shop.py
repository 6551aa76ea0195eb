"""S3 shop's frontend, unchanged but for its base URL, against `/compat/shop` — both run modes.

Every route of the product's original API (S3) is called as the seed writes it (trailing slash, method, body, bearer
token) and the answer checked for the seed's bare shapes, its `{error, code, details}` errors and
its status codes (201 on creation, 204 on deletes). The journey pays through Stripe PaymentIntents
(the fake Stripe server) and reads the order back through `/api/v1`.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from infra.identity_steps import visitor_client
from infra.journeys import PASSWORD, latest_mail, poll
from infra.stripe import fake_stripe

from atelier_testing.platform import Platform

pytestmark = pytest.mark.e2e

V1 = "/api/v1"
PROFILE_FIELDS = {"id", "email", "first_name", "last_name", "phone_number", "is_verified", "created_at"}
ADDRESS_FIELDS = {"id", "address_type", "full_name", "phone_number", "street_address", "apartment", "city", "state",
                  "country", "zip_code", "is_default", "created_at"}
SUMMARY_FIELDS = {"id", "name", "slug", "price", "compare_price", "quantity", "is_in_stock", "is_featured",
                  "discount_percentage", "category", "images", "average_rating", "review_count"}
ORDER_FIELDS = {"id", "order_number", "status", "subtotal", "tax", "shipping_cost", "discount", "total_amount", "items",
                "shipping_address", "billing_address", "created_at"}
ADDRESS = {"address_type": "shipping", "full_name": "John Doe", "phone_number": "+1234567890",
           "street_address": "456 Oak Ave", "city": "Los Angeles", "state": "CA", "country": "USA",
           "zip_code": "90001", "is_default": True}


def failed(r: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert isinstance(body["error"], str) and isinstance(body["code"], str) and "details" in body, body
    assert body["code"] == body["code"].lower()
    if code is not None:
        assert body["code"] == code, body
    return body


def bearer(access: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access}"}


async def register(s: httpx.AsyncClient) -> str:
    email = f"shop-{uuid.uuid4().hex[:10]}@example.com"
    r = await s.post(f"{V1}/auth/register/", json={
        "email": email, "password": PASSWORD, "password_confirm": PASSWORD, "first_name": "John",
        "last_name": "Doe", "phone_number": "+1234567890"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["message"].startswith("User registered successfully")
    assert set(body["user"]) == {"id", "email", "first_name", "last_name"} and body["user"]["email"] == email
    return email


async def follow_verification_link(api: httpx.AsyncClient, email: str) -> None:
    """The S3 user clicks the link in the verification mail: the shop's page `/verify-email/<token>`,
    which calls the seed's `GET /auth/verify-email/<token>/`."""
    link = (await latest_mail(api, email, "confirm your email"))["text"]
    token = re.search(r"http://localhost:3104/verify-email/([A-Za-z0-9_\-.]+)", link)
    assert token, link
    async with httpx.AsyncClient(base_url=str(api.base_url).rstrip("/") + "/compat/shop", timeout=30) as s:
        r = await s.get(f"{V1}/auth/verify-email/{token.group(1)}/")
    assert r.json() == {"message": "Email verified successfully"}, r.text


async def signed_in(s: httpx.AsyncClient, api: httpx.AsyncClient) -> tuple[str, dict[str, Any]]:
    email = await register(s)
    await follow_verification_link(api, email)
    r = await s.post(f"{V1}/auth/login/", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return email, r.json()


async def test_authentication_and_profile(seed_client, api: httpx.AsyncClient) -> None:
    async with seed_client("shop") as s:
        email = await register(s)
        failed(await s.post(f"{V1}/auth/login/", json={"email": email, "password": PASSWORD}), 403,
               "email_not_verified")
        body = failed(await s.post(f"{V1}/auth/register/", json={"email": "not-an-email", "password": "x"}), 400,
                      "validation_error")
        assert "email" in body["details"]
        await follow_verification_link(api, email)
        r = await s.post(f"{V1}/auth/login/", json={"email": email, "password": PASSWORD})
        assert r.status_code == 200
        login = r.json()
        assert login["message"] == "Login successful" and set(login["tokens"]) == {"refresh", "access"}
        assert set(login["user"]) == {"id", "email", "first_name", "last_name", "is_verified"}
        assert login["user"]["is_verified"] is True
        failed(await s.post(f"{V1}/auth/login/", json={"email": email, "password": "wrong-password-1"}), 401)

        refreshed = (await s.post(f"{V1}/auth/refresh/", json={"refresh": login["tokens"]["refresh"]})).json()
        assert refreshed["access"] and refreshed["refresh"] != login["tokens"]["refresh"]
        failed(await s.post(f"{V1}/auth/refresh/", json={"refresh": login["tokens"]["refresh"]}), 401)
        auth = bearer(refreshed["access"])

        me = (await s.get(f"{V1}/auth/me/", headers=auth)).json()
        assert set(me) == PROFILE_FIELDS and me["phone_number"] == "+1234567890" and me["email"] == email
        r = await s.put(f"{V1}/auth/me/", headers=auth, json={"first_name": "Jane", "phone_number": "+0987654321",
                                                              "email": "elsewhere@example.com"})
        assert r.status_code == 200
        assert r.json()["first_name"] == "Jane" and r.json()["last_name"] == "Doe"  # partial
        assert r.json()["phone_number"] == "+0987654321" and r.json()["email"] == email  # email cannot change
        failed(await s.get(f"{V1}/auth/me/"), 401, "not_authenticated")

        # The password changed from another session (a fresh sign-in): that one goes on, this one ends.
        mine = bearer((await s.post(f"{V1}/auth/login/", json={"email": email, "password": PASSWORD})).json()[
            "tokens"]["access"])
        r = await s.post(f"{V1}/auth/password/", headers=mine,
                         json={"old_password": PASSWORD, "new_password": "Another-Pass-123"})
        assert r.status_code == 200 and r.json()["message"] == "Password changed successfully"

        async def revoked() -> httpx.Response | None:  # the gateway hears identity.token_revoked (an event)
            r = await s.get(f"{V1}/auth/me/", headers=auth)
            return r if r.status_code == 401 else None

        failed(await poll(revoked, message="the other session ended"), 401, "invalid_token")  # other sessions end
        assert (await s.get(f"{V1}/auth/me/", headers=mine)).status_code == 200  # the caller's goes on
        auth = bearer(r.json()["tokens"]["access"])
        failed(await s.post(f"{V1}/auth/password/", headers=auth,
                            json={"old_password": "wrong-password-1", "new_password": "Another-Pass-456"}), 400)
        login = (await s.post(f"{V1}/auth/login/", json={"email": email, "password": "Another-Pass-123"})).json()
        auth = bearer(login["tokens"]["access"])

        r = await s.post(f"{V1}/auth/logout/", headers=auth, json={"refresh": login["tokens"]["refresh"]})
        assert r.status_code == 200 and r.json() == {"message": "Logout successful"}
        failed(await poll(revoked, message="the logged-out token refused"), 401, "invalid_token")  # blacklisted
        failed(await s.post(f"{V1}/auth/refresh/", json={"refresh": login["tokens"]["refresh"]}), 401)


async def test_addresses(seed_client, api: httpx.AsyncClient) -> None:
    async with seed_client("shop") as s:
        _, login = await signed_in(s, api)
        auth = bearer(login["tokens"]["access"])
        r = await s.post(f"{V1}/auth/me/addresses/", headers=auth, json=ADDRESS)
        assert r.status_code == 201, r.text
        created = r.json()
        assert set(created) == ADDRESS_FIELDS
        assert created["full_name"] == "John Doe" and created["zip_code"] == "90001" and created["apartment"] is None
        billing = (await s.post(f"{V1}/auth/me/addresses/", headers=auth, json={
            **ADDRESS, "address_type": "billing", "is_default": False, "apartment": "Apt 4B"})).json()
        assert billing["address_type"] == "billing" and billing["apartment"] == "Apt 4B"
        failed(await s.post(f"{V1}/auth/me/addresses/", headers=auth, json={**ADDRESS, "address_type": "home"}), 400)
        listed = (await s.get(f"{V1}/auth/me/addresses/", headers=auth)).json()
        assert listed["count"] == 2 and set(listed) == {"count", "next", "previous", "results"}
        assert {a["id"]: a["is_default"] for a in listed["results"]} == {created["id"]: True, billing["id"]: False}


async def test_catalog_reviews_and_wishlist(seed_client, api: httpx.AsyncClient) -> None:
    async with seed_client("shop") as s:
        tree = (await s.get(f"{V1}/products/categories/")).json()
        assert tree["results"] and set(tree["results"][0]) == {"id", "name", "slug", "description", "image", "children"}
        parent = next(c for c in tree["results"] if c["children"])

        page = (await s.get(f"{V1}/products/", params={"category": parent["slug"], "page_size": 5,
                                                      "ordering": "-created_at"})).json()
        assert page["count"] >= 1 and all(set(p) == SUMMARY_FIELDS for p in page["results"])
        names = {c["name"] for c in [parent, *parent["children"]]}
        assert all(p["category"]["name"] in names for p in page["results"])  # descendants included

        page = (await s.get(f"{V1}/products/", params={"min_price": "1", "max_price": "500", "in_stock": "true",
                                                      "ordering": "price", "page": 1, "page_size": 3})).json()
        prices = [Decimal(p["price"]) for p in page["results"]]
        assert prices == sorted(prices) and all(Decimal(1) <= p <= Decimal(500) for p in prices)
        assert all(p["is_in_stock"] for p in page["results"])
        if page["next"]:
            assert "/compat/shop/api/v1/products/?" in page["next"]

        with_variants = next(p for p in (await s.get(f"{V1}/products/", params={"page_size": 100})).json()["results"]
                             if p["category"])
        detail = (await s.get(f"{V1}/products/{with_variants['slug']}/")).json()
        assert SUMMARY_FIELDS - {"review_count"} <= set(detail)
        assert {"description", "sku", "variants", "reviews", "created_at", "weight", "dimensions"} <= set(detail)
        failed(await s.get(f"{V1}/products/no-such-product-{uuid.uuid4().hex[:6]}/"), 404, "not_found")

        _, login = await signed_in(s, api)
        auth = bearer(login["tokens"]["access"])
        slug = detail["slug"]
        failed(await s.post(f"{V1}/products/{slug}/reviews/", json={"rating": 5, "title": "t", "comment": "c"}), 401)
        r = await s.post(f"{V1}/products/{slug}/reviews/", headers=auth,
                         json={"rating": 5, "title": "Excellent!", "comment": "Very satisfied."})
        assert r.status_code == 201, r.text
        mine = r.json()
        assert set(mine) == {"id", "user", "rating", "title", "comment", "is_verified_purchase", "is_approved",
                             "created_at"}
        assert mine["is_verified_purchase"] is False and mine["rating"] == 5
        failed(await s.post(f"{V1}/products/{slug}/reviews/", headers=auth,
                            json={"rating": 4, "title": "Again", "comment": "Twice"}), 409)
        failed(await s.post(f"{V1}/products/{slug}/reviews/", headers=auth,
                            json={"rating": 6, "title": "Too good", "comment": "x"}), 400, "validation_error")
        reviews = (await s.get(f"{V1}/products/{slug}/reviews/")).json()
        assert mine["id"] in [x["id"] for x in reviews["results"]]

        r = await s.post(f"{V1}/products/{slug}/wishlist/", headers=auth)
        assert r.status_code == 201 and r.json() == {"message": "Product added to wishlist", "in_wishlist": True}
        wishlist = (await s.get(f"{V1}/products/wishlist/me/", headers=auth, params={"page": 1})).json()
        assert wishlist["count"] == 1 and wishlist["results"][0]["product"]["slug"] == slug
        assert set(wishlist["results"][0]["product"]) == {"id", "name", "slug", "price", "quantity", "is_in_stock"}
        r = await s.post(f"{V1}/products/{slug}/wishlist/", headers=auth)
        assert r.status_code == 200 and r.json() == {"message": "Product removed from wishlist", "in_wishlist": False}


async def stocked(s: httpx.AsyncClient, minimum: int = 10) -> dict[str, Any]:
    page = (await s.get(f"{V1}/products/", params={"in_stock": "true", "page_size": 100})).json()
    # other journeys buy from the same demo catalog: a simple product with stock to spare
    for p in page["results"]:
        detail = (await s.get(f"{V1}/products/{p['slug']}/")).json()
        if not detail["variants"] and p["quantity"] >= minimum and Decimal(p["price"]) > 0:
            return p
    raise AssertionError("the demo catalog has a simple product in stock")


async def test_cart(seed_client, api: httpx.AsyncClient) -> None:
    async with seed_client("shop") as s:
        product = await stocked(s)
        _, login = await signed_in(s, api)
        auth = bearer(login["tokens"]["access"])
        failed(await s.get(f"{V1}/cart/"), 401)
        r = await s.post(f"{V1}/cart/items/", headers=auth, json={"product_id": product["id"], "quantity": 2})
        assert r.status_code == 201, r.text
        line = r.json()
        assert set(line) == {"id", "product", "variant", "quantity", "price", "total_price"}
        assert line["product"] == {"id": product["id"], "name": product["name"]} and line["variant"] is None
        assert Decimal(line["total_price"]) == Decimal(product["price"]) * 2
        r = await s.post(f"{V1}/cart/items/", headers=auth, json={"product_id": product["id"], "quantity": 2})
        assert r.status_code == 200
        assert r.json() == {"message": "Item quantity updated", "quantity": 4,
                            "total_price": str(Decimal(product["price"]) * 4)}
        body = failed(await s.post(f"{V1}/cart/items/", headers=auth,
                                   json={"product_id": product["id"], "quantity": product["quantity"] + 1}), 409,
                      "stock_unavailable")
        assert body["details"]["available"] == product["quantity"]

        cart = (await s.get(f"{V1}/cart/", headers=auth)).json()
        assert set(cart) == {"id", "items", "total_items", "subtotal", "created_at", "updated_at"}
        assert cart["total_items"] == 4 and cart["items"][0]["product"]["slug"] == product["slug"]
        r = await s.put(f"{V1}/cart/items/{line['id']}/", headers=auth, json={"quantity": 3})
        assert r.status_code == 200 and r.json()["quantity"] == 3
        failed(await s.put(f"{V1}/cart/items/{line['id']}/", headers=auth, json={"quantity": 0}), 400)
        r = await s.delete(f"{V1}/cart/items/{line['id']}/", headers=auth)
        assert r.status_code == 204 and r.content == b""
        failed(await s.delete(f"{V1}/cart/items/{line['id']}/", headers=auth), 404)
        await s.post(f"{V1}/cart/items/", headers=auth, json={"product_id": product["id"], "quantity": 1})
        r = await s.post(f"{V1}/cart/clear/", headers=auth)
        assert r.status_code == 200 and r.json() == {"message": "Cart cleared successfully"}
        assert (await s.get(f"{V1}/cart/", headers=auth)).json()["total_items"] == 0


async def checkout(s: httpx.AsyncClient, auth: dict[str, str], product: dict[str, Any]) -> dict[str, Any]:
    assert (await s.post(f"{V1}/cart/items/", headers=auth, json={"product_id": product["id"],
                                                                  "quantity": 1})).status_code == 201
    address = (await s.post(f"{V1}/auth/me/addresses/", headers=auth, json=ADDRESS)).json()
    r = await s.post(f"{V1}/orders/", headers=auth, json={"shipping_address_id": address["id"],
                                                          "billing_address_id": address["id"]})
    assert r.status_code == 201, r.text
    order = r.json()
    assert set(order) == ORDER_FIELDS and order["status"] == "pending"
    assert order["order_number"].startswith("ORD-")
    assert order["items"][0]["product_name"] == product["name"] and order["items"][0]["price"] == product["price"]
    assert order["shipping_address"]["zip_code"] == "90001" and order["shipping_address"]["full_name"] == "John Doe"
    total = Decimal(order["subtotal"]) + Decimal(order["tax"]) + Decimal(order["shipping_cost"])
    assert Decimal(order["total_amount"]) == total - Decimal(order["discount"])
    return order


async def test_orders_cancel_and_an_unpaid_intent(seed_client, api: httpx.AsyncClient) -> None:
    async with seed_client("shop") as s:
        product = await stocked(s)
        _, login = await signed_in(s, api)
        auth = bearer(login["tokens"]["access"])
        order = await checkout(s, auth, product)

        async def cart_cleared() -> bool:  # the order empties the cart when cart hears order.placed
            return not (await s.get(f"{V1}/cart/", headers=auth)).json()["items"]

        await poll(cart_cleared, timeout=60, message="the cart emptied by the order")
        # With something in the cart, an address that is not the buyer's is the refusal.
        assert (await s.post(f"{V1}/cart/items/", headers=auth, json={"product_id": product["id"],
                                                                      "quantity": 1})).status_code == 201
        failed(await s.post(f"{V1}/orders/", headers=auth, json={"shipping_address_id": str(uuid.uuid4())}), 404,
               "address_not_found")

        listed = (await s.get(f"{V1}/orders/", headers=auth, params={"page": 1, "ordering": "-created_at"})).json()
        assert listed["count"] == 1 and listed["results"][0]["id"] == order["id"]
        assert set(listed["results"][0]) == {"id", "order_number", "status", "total_amount", "item_count",
                                             "created_at", "updated_at"}
        assert listed["results"][0]["item_count"] == 1
        detail = (await s.get(f"{V1}/orders/{order['id']}/", headers=auth)).json()
        assert detail["status_history"][0]["status"] == "pending" and detail["tracking_number"] is None
        assert detail["status"] in ("pending", "processing")  # awaiting payment shows as pending

        r = await s.post(f"{V1}/payments/create-intent/", headers=auth, json={"order_id": order["id"]})
        assert r.status_code == 200, r.text
        intent = r.json()
        assert set(intent) == {"client_secret", "payment_intent_id"} and intent["client_secret"]
        body = failed(await s.post(f"{V1}/payments/confirm/", headers=auth, json={
            "order_id": order["id"], "payment_intent_id": intent["payment_intent_id"]}), 400)
        assert body["status"] == "requires_payment_method"  # the seed's "Payment not completed" answer

        r = await s.post(f"{V1}/orders/{order['id']}/cancel/", headers=auth)
        assert r.status_code == 200, r.text
        assert r.json()["message"] == "Order cancelled successfully" and r.json()["order"]["status"] == "cancelled"
        failed(await s.post(f"{V1}/orders/{order['id']}/cancel/", headers=auth), 400)

        _, stranger = await signed_in(s, api)
        failed(await s.get(f"{V1}/orders/{order['id']}/", headers=bearer(stranger["tokens"]["access"])), 404)


# -- the journey, with Stripe PaymentIntents -----------------------------------------------------


async def test_journey_register_cart_order_intent_confirm_processing(stripe_platform: Platform,
                                                                     stripe_server: Any) -> None:
    """S3 only: register → cart → order → intent → (Stripe.js pays) → confirm → `processing`; then /api/v1."""
    async with visitor_client(f"{stripe_platform.url}/compat/shop") as s, \
            visitor_client(stripe_platform.url) as api:
        product = await stocked(s)
        _, login = await signed_in(s, api)
        auth = bearer(login["tokens"]["access"])
        order = await checkout(s, auth, product)
        intent = (await s.post(f"{V1}/payments/create-intent/", headers=auth, json={"order_id": order["id"]})).json()
        stripe_intent = stripe_server.fake.intents[intent["payment_intent_id"]]
        assert stripe_intent["amount"] == int(Decimal(order["total_amount"]) * 100)  # from the order, in cents
        stripe_server.fake.succeed_intent(intent["payment_intent_id"])  # the customer pays with Stripe.js

        r = await s.post(f"{V1}/payments/confirm/", headers=auth, json={
            "order_id": order["id"], "payment_intent_id": intent["payment_intent_id"]})
        assert r.status_code == 200, r.text
        assert r.json() == {"message": "Payment confirmed successfully", "order_id": order["id"]}

        async def processing() -> dict[str, Any] | None:
            detail = (await s.get(f"{V1}/orders/{order['id']}/", headers=auth)).json()
            return detail if detail["status"] == "processing" else None

        detail = await poll(processing, timeout=30, message="order processing")
        assert detail["status_history"][-1]["status"] == "processing"

        # Stripe's own event for the same intent, at the product's old webhook URL: accepted, no second effect
        event = fake_stripe().FakeStripe.event("payment_intent.succeeded", stripe_intent)
        payload = json.dumps(event)
        signature = fake_stripe().StripeWebhooks.sign(payload, fake_stripe().WEBHOOK_SECRET, int(time.time()))
        r = await s.post(f"{V1}/payments/webhook/", content=payload.encode(),
                         headers={"X-Stripe-Signature": signature, "Content-Type": "application/json"})
        assert r.status_code == 200 and r.json() == {"status": "success"}
        bad = await s.post(f"{V1}/payments/webhook/", content=payload.encode(),
                           headers={"X-Stripe-Signature": "t=1,v1=forged", "Content-Type": "application/json"})
        assert bad.status_code == 400 and bad.json()["error"]

        # the same customer and order through the native API
        native = (await api.get(f"/api/v1/orders/{order['id']}", headers=auth)).json()
        assert native["status"] == "paid" and native["order_number"] == order["order_number"]
        assert [h["status"] for h in native["status_history"]].count("paid") == 1
        assert (await api.get("/api/v1/users/me", headers=auth)).json()["id"] == login["user"]["id"]
