"""S0 storybook's frontend, unchanged but for its base URL, against `/compat/storybook` — both run modes.

Every route of the product's original API (S0) is called as the seed's frontend would: logged in by the session cookie
(with the frontend's Origin), or anonymous with the `anon_token` cookie; answers are checked for
DRF's shapes (`{"detail"}` errors, per-field 400s) and the seed's status codes. The journey is the
anonymous book → print order → provider webhook with `X-Webhook-Secret` → auto-registered buyer,
then read back through `/api/v1`.
"""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import httpx
import pytest
from infra.journeys import PASSWORD, latest_mail, login, poll, token_from
from PIL import Image

from atelier_testing.platform import Platform

pytestmark = pytest.mark.e2e

FRONTEND = {"Origin": "http://127.0.0.1:3000"}  # the demo storybook storefront's origin (CSRF; Marbelle has localhost:3000)
P = "/api/product"
ADDRESS = {"label": "Home", "type": "shipping", "first_name": "Nino", "last_name": "Beridze",
           "street_address": "5 Vake Park", "city": "Tbilisi", "postal_code": "0179", "country": "GE",
           "phone": "+995555000222"}


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json() if r.content else None


def drf_error(r: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert isinstance(body["detail"], str) and "error" not in body, body
    if code is not None:
        assert body["code"] == code, body
    return body


def webhook_secret(platform: Platform) -> str:
    return (platform.data_dir / "keys" / "webhook_secrets.local.secret").read_text().strip()


async def logged_in(s: httpx.AsyncClient, api: httpx.AsyncClient) -> dict[str, Any]:
    """Register through S0 (the storybook storefront logs the new customer in, as the seed does),
    log out, log in again: the session cookie is set each time."""
    email = f"story-{uuid.uuid4().hex[:10]}@example.com"
    r = await s.post("/api/customer/register/", headers=FRONTEND, json={
        "username": f"u{uuid.uuid4().hex[:10]}", "password": PASSWORD, "email": email, "first_name": "Nino",
        "last_name": "Beridze", "phone": "+995555000111"})
    created = ok(r, 201)
    assert created["loggedIn"] is True and created["user"]["email"] == email
    assert "sessionid" in s.cookies and "HttpOnly" in r.headers["set-cookie"]
    assert ok(await s.get("/api/customer/status/"))["loggedIn"] is True
    assert ok(await s.post("/api/customer/logout/", headers=FRONTEND)) == {"loggedIn": False}
    # The verification mail still goes out (the address can be proven later); login needs no proof here.
    assert await latest_mail(api, email, "confirm your email")
    r = await s.post("/api/customer/login/", headers=FRONTEND, json={"username": email, "password": PASSWORD})
    body = ok(r)
    assert body["loggedIn"] is True and body["user"]["email"] == email
    assert "sessionid" in s.cookies and "HttpOnly" in r.headers["set-cookie"]
    return body["user"]


async def registered_by_username(s: httpx.AsyncClient) -> dict[str, Any]:
    """Register as the seed and its frontend do: a username and a password, nothing else."""
    username = f"u{uuid.uuid4().hex[:10]}"
    created = ok(await s.post("/api/customer/register/", headers=FRONTEND,
                              json={"username": username, "password": PASSWORD}), 201)
    assert created["loggedIn"] is True and created["user"]["username"] == username
    return created["user"]


async def finished(s: httpx.AsyncClient, path: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        version = ok(await s.get(path))
        assert version["status"] != "FAILED", version
        return version if version["status"] in ("SUCCESS", "COMPLETED") else None

    return await poll(check, timeout=90, message=f"{path} completed")


async def test_session_cookie_login_status_profile_and_csrf(seed_client, api: httpx.AsyncClient) -> None:
    async with seed_client("storybook") as s:
        assert ok(await s.get("/api/customer/status/")) == {"loggedIn": False}
        drf_error(await s.get("/api/customer/user/"), 401, "authentication_required")
        drf_error(await s.post("/api/customer/login/", headers=FRONTEND,
                               json={"username": "nobody@example.com", "password": "wrong-password-1"}), 401)
        me = await logged_in(s, api)
        status = ok(await s.get("/api/customer/status/"))  # the cookie alone
        assert status["loggedIn"] is True and status["user"]["id"] == me["id"]
        assert ok(await s.get("/api/customer/user/"))["email"] == me["email"]

        edited = ok(await s.put("/api/customer/edit/", headers=FRONTEND,
                                json={"first_name": "Nina", "phone": "+995555000333", "email": me["email"]}))
        assert edited["first_name"] == "Nina" and edited["phone"] == "+995555000333"
        body = drf_error(await s.put("/api/customer/edit/", headers=FRONTEND, json={"password": "new-one-123"}), 400)
        assert "current_password" in body  # the platform's proof, beside the seed's fields

        # CSRF: a request riding on the session cookie from another origin, or from none, is refused
        drf_error(await s.put("/api/customer/edit/", headers={"Origin": "https://evil.example"},
                              json={"first_name": "Mallory"}), 403, "csrf_failed")
        drf_error(await s.put("/api/customer/edit/", json={"first_name": "Mallory"}), 403, "csrf_failed")
        drf_error(await s.post("/api/customer/logout/", headers={"Origin": "https://evil.example"}), 403)
        assert ok(await s.get("/api/customer/user/"))["first_name"] == "Nina"

        assert ok(await s.post("/api/customer/logout/", headers=FRONTEND)) == {"loggedIn": False}
        assert ok(await s.get("/api/customer/status/")) == {"loggedIn": False}
        drf_error(await s.get("/api/customer/user/"), 401)


async def test_register_with_a_username_and_a_password_then_sign_in_read_and_edit(seed_client) -> None:
    """The seed's register body needs only `username` and `password` (its frontend sends no more):
    the account has no email, signs in by its username, and reads and edits its profile."""
    async with seed_client("storybook") as s:
        me = await registered_by_username(s)
        assert (me["email"], me["first_name"], me["last_name"]) == (None, "", "")
        assert ok(await s.get("/api/customer/status/"))["loggedIn"] is True
        assert ok(await s.get("/api/customer/user/"))["username"] == me["username"]
        drf_error(await s.post("/api/customer/register/", headers=FRONTEND,
                               json={"username": me["username"].upper(), "password": PASSWORD}), 409,
                  "username_taken")
        drf_error(await s.post("/api/customer/register/", headers=FRONTEND, json={"password": PASSWORD}), 400)
        assert ok(await s.post("/api/customer/logout/", headers=FRONTEND)) == {"loggedIn": False}

        body = ok(await s.post("/api/customer/login/", headers=FRONTEND,
                               json={"username": me["username"], "password": PASSWORD}))
        assert body["loggedIn"] is True and body["user"]["id"] == me["id"]
        edited = ok(await s.put("/api/customer/edit/", headers=FRONTEND, json={
            "username": f"{me['username']}x", "first_name": "Nino", "last_name": "Beridze",
            "phone": "+995555000444"}))
        assert (edited["username"], edited["first_name"], edited["phone"]) == (
            f"{me['username']}x", "Nino", "+995555000444")
        assert ok(await s.get("/api/customer/user/"))["last_name"] == "Beridze"
        drf_error(await s.post("/api/customer/login/", headers=FRONTEND,
                               json={"username": me["username"], "password": PASSWORD}), 401)


async def test_edit_changes_the_password_and_the_email_with_the_current_password(
        seed_client, api: httpx.AsyncClient) -> None:
    """`PUT /api/customer/edit/` with the seed's `password` and `email` (and the current password
    beside them): the session goes on, the new password signs in, the new address once confirmed."""
    async with seed_client("storybook") as s:
        me = await logged_in(s, api)
        new_password, new_email = "Basalt-Meadow-2028!", f"moved-{uuid.uuid4().hex[:10]}@example.com"
        edited = ok(await s.put("/api/customer/edit/", headers=FRONTEND, json={
            "username": me["username"], "password": new_password, "email": new_email, "first_name": "Nina",
            "last_name": "Beridze", "phone": "+995555000111", "current_password": PASSWORD}))
        assert edited["first_name"] == "Nina" and edited["pending_email"] == new_email
        assert ok(await s.get("/api/customer/status/"))["loggedIn"] is True  # the session cookie was renewed
        mail = await latest_mail(api, new_email, "confirm your new email")
        confirmed = await api.post("/api/v1/auth/email-change/confirm", json={"token": token_from(mail)})
        assert confirmed.status_code == 200, confirmed.text
        assert ok(await s.get("/api/customer/user/"))["email"] == new_email
        assert ok(await s.post("/api/customer/logout/", headers=FRONTEND)) == {"loggedIn": False}
        body = ok(await s.post("/api/customer/login/", headers=FRONTEND,
                               json={"username": new_email, "password": new_password}))
        assert body["loggedIn"] is True


async def test_addresses_for_anonymous_and_logged_in_visitors(seed_client, api: httpx.AsyncClient) -> None:
    async with seed_client("storybook") as s:
        assert ok(await s.get("/api/customer/address/")) == []
        created = ok(await s.post("/api/customer/address/", headers=FRONTEND, json=ADDRESS), 201)
        assert created["city"] == "Tbilisi" and created["is_primary"] is True
        changed = ok(await s.put("/api/customer/address/", headers=FRONTEND, json={"id": created["id"], "city": "Batumi"}))
        assert changed["city"] == "Batumi"
        drf_error(await s.put("/api/customer/address/", headers=FRONTEND, json={"city": "Kutaisi"}), 400)
        assert [a["id"] for a in ok(await s.get("/api/customer/address/"))] == [created["id"]]
    async with seed_client("storybook") as other:  # another visitor sees none of it
        assert ok(await other.get("/api/customer/address/")) == []
        drf_error(await other.put("/api/customer/address/", headers=FRONTEND,
                                  json={"id": created["id"], "city": "Gori"}), 404)


async def test_an_anonymous_visitor_makes_one_book_one_character_and_a_cover(seed_client) -> None:
    async with seed_client("storybook") as s:
        book = ok(await s.post(f"{P}/books/", headers=FRONTEND, json={
            "title": "Luna and the Lighthouse", "age_range": "3-5", "art_style": "watercolour"}), 201)
        assert book["art_style"] == "watercolour" and book["status"] == "DRAFT"
        drf_error(await s.post(f"{P}/books/", headers=FRONTEND, json={"title": "Two"}), 403)
        assert [b["id"] for b in ok(await s.get(f"{P}/books/"))] == [book["id"]]
        assert ok(await s.get(f"{P}/books/{book['id']}/"))["title"] == "Luna and the Lighthouse"
        assert ok(await s.patch(f"{P}/books/{book['id']}/", headers=FRONTEND, json={"art_style": "ink"}))["art_style"] == "ink"
        assert ok(await s.put(f"{P}/books/{book['id']}/", headers=FRONTEND,
                              json={"title": "Luna", "age_range": "3-5"}))["title"] == "Luna"

        character = ok(await s.post(f"{P}/characters/", headers=FRONTEND, json={
            "book": book["id"], "name": "Luna", "description": "a curious fox", "traits": ["brave"]}), 201)
        assert character["book"] == book["id"]
        drf_error(await s.post(f"{P}/characters/", headers=FRONTEND, json={"book": book["id"], "name": "Max"}), 403)
        drf_error(await s.post(f"{P}/characters/", headers=FRONTEND, json={"name": "No book"}), 400)
        assert [c["id"] for c in ok(await s.get(f"{P}/characters/"))] == [character["id"]]
        assert ok(await s.get(f"{P}/characters/{character['id']}/"))["name"] == "Luna"
        assert ok(await s.patch(f"{P}/characters/{character['id']}/", headers=FRONTEND,
                                json={"description": "a brave fox"}))["description"] == "a brave fox"
        assert ok(await s.put(f"{P}/characters/{character['id']}/", headers=FRONTEND,
                              json={"name": "Luna", "traits": ["kind"]}))["traits"] == ["kind"]
        drf_error(await s.get(f"{P}/characters/{uuid.uuid4()}/"), 404)

        first = ok(await s.get(f"{P}/character-versions/", params={"character": character["id"]}))
        assert [v["version_number"] for v in first] == [1] and first[0]["character"] == character["id"]
        done = await finished(s, f"{P}/character-versions/{first[0]['id']}/")
        assert done["is_selected"] is True
        drf_error(await s.post(f"{P}/character-versions/", headers=FRONTEND, json={"character": character["id"]}),
                  403)  # no regeneration for anonymous visitors
        assert ok(await s.patch(f"{P}/character-versions/{first[0]['id']}/", headers=FRONTEND,
                                json={"is_selected": True}))["is_selected"] is True
        assert ok(await s.put(f"{P}/character-versions/{first[0]['id']}/", headers=FRONTEND,
                              json={"is_selected": True}))["id"] == first[0]["id"]

        cover = ok(await s.post(f"{P}/cover-versions/", headers=FRONTEND, json={"book": book["id"]}), 201)
        assert cover["version_number"] == 1 and cover["book"] == book["id"]
        assert [v["id"] for v in ok(await s.get(f"{P}/cover-versions/"))] == [cover["id"]]
        await finished(s, f"{P}/cover-versions/{cover['id']}/")
        assert ok(await s.patch(f"{P}/cover-versions/{cover['id']}/", headers=FRONTEND,
                                json={"is_selected": True}))["is_selected"] is True
        assert ok(await s.put(f"{P}/cover-versions/{cover['id']}/", headers=FRONTEND, json={}))["id"] == cover["id"]
        drf_error(await s.post(f"{P}/cover-versions/", headers=FRONTEND, json={"book": book["id"]}), 403)
        # DELETE, as the seed writes it: gone from the lists, the book and the character show no picture
        assert (await s.delete(f"{P}/cover-versions/{cover['id']}/", headers=FRONTEND)).status_code == 204
        drf_error(await s.get(f"{P}/cover-versions/{cover['id']}/"), 404)
        assert ok(await s.get(f"{P}/cover-versions/", params={"book": book["id"]})) == []
        assert ok(await s.get(f"{P}/books/{book['id']}/"))["current_cover_version"] is None
        assert (await s.delete(f"{P}/character-versions/{first[0]['id']}/", headers=FRONTEND)).status_code == 204
        assert ok(await s.get(f"{P}/character-versions/", params={"character": character["id"]})) == []
        assert ok(await s.get(f"{P}/characters/{character['id']}/"))["current_version"] is None
        drf_error(await s.delete(f"{P}/character-versions/{first[0]['id']}/", headers=FRONTEND), 404)

        # pages are for logged-in customers only
        for method, path in (("GET", f"{P}/pages/"), ("POST", f"{P}/pages/"), ("GET", f"{P}/page-versions/"),
                             ("POST", f"{P}/page-versions/"), ("POST", f"{P}/retries/add/"),
                             ("GET", "/api/billing/ledger/"), ("POST", "/api/orders/retry-pack/create/")):
            drf_error(await s.request(method, path, headers=FRONTEND, json={}), 401)

        assert (await s.delete(f"{P}/characters/{character['id']}/", headers=FRONTEND)).status_code == 204
        assert (await s.delete(f"{P}/books/{book['id']}/", headers=FRONTEND)).status_code == 204
        assert ok(await s.get(f"{P}/books/")) == []


async def test_a_reference_photo_under_500_px_is_taken(seed_client) -> None:
    """`POST /characters/` with a `reference_photo` (multipart): neither the seed nor its original
    has a minimum size."""
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 120, 40)).save(buffer, "PNG")
    async with seed_client("storybook") as s:
        book = ok(await s.post(f"{P}/books/", headers=FRONTEND, json={"title": "Small", "age_range": "3-5"}), 201)
        character = ok(await s.post(f"{P}/characters/", headers=FRONTEND, data={"book": book["id"], "name": "Nino"},
                                    files={"reference_photo": ("kid.png", buffer.getvalue(), "image/png")}), 201)
        assert (await s.get(character["reference_photo"])).content == buffer.getvalue()


async def _pay_by_webhook(s: httpx.AsyncClient, platform: Platform, order_id: str) -> None:
    body = json.dumps({"order_id": order_id, "status": "paid", "transaction_id": f"tx-{uuid.uuid4().hex[:8]}"})
    r = await s.post("/api/orders/payment/webhook/", content=body.encode(),
                     headers={"X-Webhook-Secret": webhook_secret(platform), "Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json()["result"] in ("processed", "duplicate")


async def test_pages_versions_retry_packs_tiers_and_ledger(seed_client, api: httpx.AsyncClient,
                                                           platform: Platform) -> None:
    async with seed_client("storybook") as s:
        await logged_in(s, api)
        book = ok(await s.post(f"{P}/books/", headers=FRONTEND, json={"title": "Max Goes to Sea"}), 201)
        page = ok(await s.post(f"{P}/pages/", headers=FRONTEND, json={"book": book["id"],
                                                                     "text_content": "Max sets sail."}), 201)
        assert page["book"] == book["id"] and page["page_number"] == 1
        assert [p["id"] for p in ok(await s.get(f"{P}/pages/", params={"book": book["id"]}))] == [page["id"]]
        assert ok(await s.get(f"{P}/pages/{page['id']}/"))["text_content"] == "Max sets sail."
        assert ok(await s.patch(f"{P}/pages/{page['id']}/", headers=FRONTEND,
                                json={"text_content": "Max sails."}))["text_content"] == "Max sails."
        replaced = ok(await s.put(f"{P}/pages/{page['id']}/", headers=FRONTEND,
                                  json={"text_content": "Max sails on.", "scene_description": "a boat"}))
        assert (replaced["text_content"], replaced["scene_description"]) == ("Max sails on.", "a boat")
        first = ok(await s.get(f"{P}/page-versions/", params={"page": page["id"]}))
        assert [v["version_number"] for v in first] == [1]
        body = drf_error(await s.post(f"{P}/page-versions/", headers=FRONTEND, json={"page": page["id"]}), 403)
        assert body["code"] == "retry_limit"  # no paid print order yet: no retries

        pack = ok(await s.post("/api/orders/retry-pack/create/", headers=FRONTEND,
                               json={"content_type": "PAGE", "content_id": page["id"]}), 201)
        assert pack["order_id"] == pack["retry_pack_order_id"] and pack["status"] == "pending"
        drf_error(await s.post("/api/orders/retry-pack/create/", headers=FRONTEND,
                               json={"content_type": "PAGE", "content_id": str(uuid.uuid4())}), 400)
        await _pay_by_webhook(s, platform, pack["order_id"])

        async def applied() -> dict[str, Any] | None:
            r = await s.post(f"{P}/retries/add/", headers=FRONTEND, json={
                "content_type": "PAGE", "content_id": page["id"], "retry_pack_order_id": pack["order_id"]})
            return r.json() if r.status_code == 200 and r.json()["max"] == 3 else None

        allowance = await poll(applied, timeout=90, message="the retry pack applied")
        assert (allowance["content_id"], allowance["remaining"]) == (page["id"], 3)
        made = ok(await s.post(f"{P}/page-versions/", headers=FRONTEND, json={"page": page["id"]}), 201)
        assert made["version_number"] == 2 and made["page"] == page["id"]
        await finished(s, f"{P}/page-versions/{made['id']}/")
        assert ok(await s.patch(f"{P}/page-versions/{made['id']}/", headers=FRONTEND,
                                json={"is_selected": True}))["is_selected"] is True
        assert ok(await s.put(f"{P}/page-versions/{made['id']}/", headers=FRONTEND,
                              json={"is_selected": True}))["id"] == made["id"]
        # DELETE the current version (2): version 1 is current again; another customer's is a 404
        await finished(s, f"{P}/page-versions/{first[0]['id']}/")
        async with seed_client("storybook") as other:
            await registered_by_username(other)
            drf_error(await other.delete(f"{P}/page-versions/{made['id']}/", headers=FRONTEND), 404)
        assert (await s.delete(f"{P}/page-versions/{made['id']}/", headers=FRONTEND)).status_code == 204
        drf_error(await s.get(f"{P}/page-versions/{made['id']}/"), 404)
        left = ok(await s.get(f"{P}/page-versions/", params={"page": page["id"]}))
        assert [(v["version_number"], v["is_selected"]) for v in left] == [(1, True)]
        assert ok(await s.get(f"{P}/pages/{page['id']}/"))["current_version"] == first[0]["id"]

        # a logged-in customer regenerates characters and covers with the pack's retries too
        character = ok(await s.post(f"{P}/characters/", headers=FRONTEND, json={"book": book["id"], "name": "Max"}),
                       201)
        drf_error(await s.post(f"{P}/character-versions/", headers=FRONTEND, json={"character": character["id"]}),
                  403, "retry_limit")

        tiers = ok(await s.get("/api/billing/tiers/"))
        assert {"basic", "premium"} <= {t["name"] for t in tiers}
        assert all(isinstance(t["max_retries_per_unit"], int) for t in tiers)

        async def ledger_has_the_pack() -> list[dict[str, Any]] | None:
            entries = ok(await s.get("/api/billing/ledger/"))
            return entries or None

        assert await poll(ledger_has_the_pack, timeout=60, message="the pack in the ledger")
        assert (await s.delete(f"{P}/pages/{page['id']}/", headers=FRONTEND)).status_code == 204


async def test_journey_anonymous_book_print_order_webhook_auto_registered_buyer(
        seed_client, api: httpx.AsyncClient, platform: Platform) -> None:
    """S0 only: anonymous book → print order → webhook with X-Webhook-Secret → auto-registered buyer;
    then the same customer's book and order through /api/v1."""
    email = f"reader-{uuid.uuid4().hex[:10]}@example.com"
    async with seed_client("storybook") as s:
        book = ok(await s.post(f"{P}/books/", headers=FRONTEND, json={"title": "Luna and the Lighthouse"}), 201)
        character = ok(await s.post(f"{P}/characters/", headers=FRONTEND,
                                    json={"book": book["id"], "name": "Luna"}), 201)
        cover = ok(await s.post(f"{P}/cover-versions/", headers=FRONTEND, json={"book": book["id"]}), 201)
        address = ok(await s.post("/api/customer/address/", headers=FRONTEND, json={**ADDRESS, "email": email}), 201)
        order = ok(await s.post("/api/orders/create/", headers=FRONTEND, json={
            "tier_name": "basic", "delivery_address_id": address["id"], "delivery_cost": "0.00",
            "total_amount": "0.01", "items": [{"book_id": book["id"], "quantity": 1, "unit_price": "0.01"}]}), 201)
        assert order["tier_name"] == "basic" and order["items"][0]["book_id"] == book["id"]
        tiers = {t["name"]: t for t in ok(await s.get("/api/billing/tiers/"))}
        assert order["items"][0]["unit_price"] == tiers["basic"]["price"]  # the client's price is ignored
        assert order["total_amount"] != "0.01"

        forged = await s.post("/api/orders/payment/webhook/", json={"order_id": order["id"], "status": "paid"},
                              headers={"X-Webhook-Secret": "not-the-secret"})
        assert forged.status_code == 400
        unsigned = await s.post("/api/orders/payment/webhook/", json={"order_id": order["id"], "status": "paid"})
        assert unsigned.status_code == 400  # the secret is required here
        await _pay_by_webhook(s, platform, order["id"])

    # the buyer was registered from the delivery address: a welcome mail to set a password
    welcome = await latest_mail(api, email, "set your password")
    r = await api.post("/api/v1/auth/password-reset/confirm", json={
        "token": token_from(welcome), "new_password": PASSWORD, "new_password_confirm": PASSWORD})
    assert r.status_code == 200, r.text
    auth = {"Authorization": f"Bearer {(await login(api, email))['access']}"}

    async def paid() -> dict[str, Any] | None:
        r = await api.get(f"/api/v1/orders/{order['id']}", headers=auth)
        return r.json() if r.status_code == 200 and r.json()["status"] in ("paid", "processing", "completed") else None

    native_order = await poll(paid, timeout=90, message="the print order paid and claimed")
    assert native_order["order_number"] == order["order_number"]

    async def books() -> list[dict[str, Any]] | None:
        return (await api.get("/api/v1/books", headers=auth)).json()["results"] or None

    assert [b["id"] for b in await poll(books, timeout=90, message="the book claimed")] == [book["id"]]
    characters = (await api.get(f"/api/v1/books/{book['id']}/characters", headers=auth)).json()["results"]
    assert [c["id"] for c in characters] == [character["id"]]
    cover_item = (await api.get(f"/api/v1/books/{book['id']}/cover", headers=auth)).json()
    assert cover_item["latest_version"]["id"] == cover["id"]
