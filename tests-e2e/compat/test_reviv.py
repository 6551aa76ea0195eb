"""S2 reviv.pics's frontend, unchanged but for its base URL, against `/compat/reviv` — both run modes.

Every route of the product's original API (S2) is called as the seed's frontend would: bearer access token, the
`reviv_refresh` cookie, passkey options with byte-array challenges and the flat credentials the
seed's `complete` takes, multipart uploads. The journey — passkey sign-up → upload → unlock — is
then read back through `/api/v1`.
"""

from __future__ import annotations

import io
import re
import uuid
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from infra.journeys import latest_mail, poll
from infra.oidc import software_authenticator
from PIL import Image

pytestmark = pytest.mark.e2e

A = "/api"
# The reviv storefront's site (`make dev`'s seed storefronts): its passkeys are made and used there.
REVIV_ORIGIN = "http://localhost:3103"


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json() if r.content else None


def err(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()["error"]
    assert body["code"] == code and isinstance(body["message"], str), body
    return body


def standard(options: dict[str, Any]) -> dict[str, Any]:
    """What the frontend hands `navigator.credentials`: the byte arrays back as the `_b64` values."""
    out = {**options, "challenge": options["challenge_b64"]}
    if "user" in options:
        out["user"] = {**options["user"], "id": options["user"]["id_b64"]}
    for key in ("allowCredentials", "excludeCredentials"):
        if key in options:
            out[key] = [{**c, "id": c["id_b64"]} for c in options[key]]
    return out


def check_byte_arrays(options: dict[str, Any]) -> None:
    assert isinstance(options["challenge"], list) and all(isinstance(b, int) for b in options["challenge"])
    assert isinstance(options["challenge_b64"], str) and len(options["challenge"]) >= 16


async def follow_verification_link(api: httpx.AsyncClient, email: str) -> None:
    """The new customer follows the link in the verification mail: the site's `/api/` (here the
    profile) confirms the address and sends the browser to the home page."""
    text = (await latest_mail(api, email, "confirm your email"))["text"]
    link = re.search(rf"{REVIV_ORIGIN}(/api/auth/verify-email/[A-Za-z0-9_\-.]+/)", text)
    assert link, text
    async with httpx.AsyncClient(base_url=str(api.base_url).rstrip("/") + "/compat/reviv", timeout=30) as site:
        r = await site.get(link.group(1))
    assert r.status_code == 302 and r.headers["location"] == "/", r.text


async def passkey_sign_up(s: httpx.AsyncClient, api: httpx.AsyncClient, authenticator: Any) -> dict[str, Any]:
    """Email-only sign-up by passkey, then a passkey login: the tokens, and the refresh cookie."""
    email = f"reviv-{uuid.uuid4().hex[:10]}@example.com"
    options = ok(await s.post(f"{A}/auth/email-passkey/register/begin/", json={"email": email}))
    check_byte_arrays(options)
    assert options["registration_id"] and isinstance(options["user"]["id"], list) and options["user"]["id_b64"]
    created = authenticator.create(standard(options))
    flat = {k: created["response"][k] for k in ("clientDataJSON", "attestationObject")}  # the seed's body
    done = ok(await s.post(f"{A}/auth/email-passkey/register/complete/",
                           json={"registration_id": options["registration_id"], "credential": flat}))
    assert done["message"] == "Passkey registered successfully"
    await follow_verification_link(api, email)

    options = ok(await s.post(f"{A}/auth/passkey/login/begin/", json={"email": email}))
    check_byte_arrays(options)
    assert options["authentication_id"] and options["allowCredentials"][0]["id_b64"]
    assertion = authenticator.get(standard(options))
    flat = {"id": assertion["id"], **{k: assertion["response"][k]
                                      for k in ("clientDataJSON", "authenticatorData", "signature")}}
    r = await s.post(f"{A}/auth/passkey/login/complete/",
                     json={"authentication_id": options["authentication_id"], "credential": flat})
    tokens = ok(r)
    assert {"access", "refresh", "user"} <= set(tokens) and tokens["user"]["email"] == email
    assert "reviv_refresh" in s.cookies
    return {"email": email, "auth": {"Authorization": f"Bearer {tokens['access']}"}, "tokens": tokens}


def photo(size: tuple[int, int] = (640, 520)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (120, 90, 60)).save(buffer, "PNG")
    return buffer.getvalue()


async def upload(s: httpx.AsyncClient, auth: dict[str, str], size: tuple[int, int] = (640, 520)) -> httpx.Response:
    return await s.post(f"{A}/restorations/upload/", headers=auth, files={"image": ("old.png", photo(size), "image/png")})


async def completed(s: httpx.AsyncClient, auth: dict[str, str], job_id: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        status = ok(await s.get(f"{A}/restorations/{job_id}/status/", headers=auth))
        assert status["status"] != "failed", status
        return status if status["status"] == "completed" else None

    return await poll(check, timeout=120, message="the restoration completed")


async def test_root_health_schema_and_docs(seed_client) -> None:
    async with seed_client("reviv") as s:
        root = ok(await s.get(f"{A}/"))
        assert root["health"].endswith("/compat/reviv/api/health/")
        health = ok(await s.get(f"{A}/health/"))
        assert health == {"status": "healthy", "checks": {"database": "ok", "cache": "ok", "celery": "ok"}}
        schema = ok(await s.get(f"{A}/schema/"))
        assert "/api/restorations/upload/" in schema["paths"] and schema["openapi"].startswith("3.1")
        for path, script in ((f"{A}/docs/", "/api/docs/static/swagger-ui-bundle.js"), (f"{A}/redoc/", "/api/docs/redoc.js")):
            page = await s.get(path)
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            assert "/compat/reviv/api/schema/" in page.text and script in page.text
            assert "default-src 'self'" in page.headers["content-security-policy"]
            async with httpx.AsyncClient(base_url=str(s.base_url).split("/compat")[0], timeout=30) as gateway:
                assert (await gateway.get(script)).status_code == 200  # the gateway's own offline files


async def test_passkeys_refresh_cookie_me_and_logout(seed_client, api: httpx.AsyncClient) -> None:
    async with seed_client("reviv") as s:
        authenticator = software_authenticator(REVIV_ORIGIN)
        me = await passkey_sign_up(s, api, authenticator)
        auth = me["auth"]
        user = ok(await s.get(f"{A}/auth/me/", headers=auth))
        assert user["email"] == me["email"] and user["credit_balance"] == "0.00"
        assert {"id", "first_name", "last_name", "free_preview_used", "social_share_unlock_used", "created_at"} <= set(user)
        err(await s.get(f"{A}/auth/me/"), 401, "AUTHENTICATION_REQUIRED")

        # a second passkey for the signed-in user
        options = ok(await s.post(f"{A}/auth/passkey/register/begin/", headers=auth, json={"name": "Phone"}))
        check_byte_arrays(options)
        assert [c["id_b64"] for c in options["excludeCredentials"]]  # the first one is known
        second = software_authenticator(REVIV_ORIGIN)
        created = second.create(standard(options))
        flat = {k: created["response"][k] for k in ("clientDataJSON", "attestationObject")}
        done = ok(await s.post(f"{A}/auth/passkey/register/complete/", headers=auth,
                               json={"name": "Phone", "registration_id": options["registration_id"], "credential": flat}))
        assert done == {"message": "Passkey registered successfully", "device_name": "Phone"}
        err(await s.post(f"{A}/auth/passkey/register/complete/", headers=auth,
                         json={"registration_id": options["registration_id"], "credential": {"clientDataJSON": "x"}}),
            400, "VALIDATION_ERROR")

        refreshed = ok(await s.post(f"{A}/auth/token/refresh/", json={}))  # the cookie only
        assert set(refreshed) == {"access"}
        assert ok(await s.get(f"{A}/auth/me/", headers={"Authorization": f"Bearer {refreshed['access']}"}))["email"] \
            == me["email"]
        r = await s.post(f"{A}/auth/logout/", headers={"Authorization": f"Bearer {refreshed['access']}"})
        assert ok(r) == {"message": "Successfully logged out"}
        assert "reviv_refresh" not in s.cookies
        err(await s.post(f"{A}/auth/token/refresh/", json={}), 401, "AUTHENTICATION_REQUIRED")


async def test_oauth_initiate_callback_and_ticket_exchange(seed_client, oidc_provider, platform) -> None:
    email = f"google-{uuid.uuid4().hex[:8]}@example.com"
    sub = f"google-{uuid.uuid4().hex}"
    oidc_provider.add_user(sub, email, email_verified=True)
    async with seed_client("reviv") as s:
        err(await s.post(f"{A}/auth/oauth/initiate/", json={"provider": "google", "return_to": "https://evil.example/x"}),
            400, "VALIDATION_ERROR")
        auth_url = ok(await s.post(f"{A}/auth/oauth/initiate/", json={"provider": "google",
                                                                      "return_to": "/auth/callback"}))["auth_url"]
        async with httpx.AsyncClient(timeout=30) as browser:
            consent = await browser.get(f"{auth_url}&{urlencode({'user': sub})}")
        assert consent.status_code in (302, 307)
        query = urlsplit(consent.headers["location"]).query
        back = await s.get(f"{A}/auth/oauth/callback/google/?{query}")
        assert back.status_code == 302 and "/auth/callback?ticket=" in back.headers["location"]
        ticket = parse_qs(urlsplit(back.headers["location"]).query)["ticket"][0]
        r = await s.post(f"{A}/auth/oauth/exchange/", json={"ticket": ticket})
        body = ok(r)
        assert set(body) == {"access", "user"} and body["user"]["email"] == email
        assert "reviv_refresh=" in r.headers["set-cookie"] and "httponly" in r.headers["set-cookie"].lower()
        err(await s.post(f"{A}/auth/oauth/exchange/", json={"ticket": ticket}), 400, "INVALID_TOKEN")  # single use
        assert set(ok(await s.post(f"{A}/auth/token/refresh/", json={}))) == {"access"}
        # the callback without return_to answers the tokens as JSON
        auth_url = ok(await s.post(f"{A}/auth/oauth/initiate/", json={"provider": "google"}))["auth_url"]
        async with httpx.AsyncClient(timeout=30) as browser:
            consent = await browser.get(f"{auth_url}&{urlencode({'user': sub})}")
        query = urlsplit(consent.headers["location"]).query
        tokens = ok(await s.post(f"{A}/auth/oauth/callback/google/?{query}"))
        assert {"access", "refresh", "user"} == set(tokens)


def one_offs(user: dict[str, Any]) -> tuple[Any, Any]:
    """`auth/me/`'s two one-offs, as the seed names them (booleans, never null)."""
    return user["free_preview_used"], user["social_share_unlock_used"]


async def test_journey_passkey_sign_up_upload_unlock(seed_client, api: httpx.AsyncClient) -> None:
    """S2 only: passkey sign-up → upload → (credits) → unlock; share unlock; then /api/v1."""
    async with seed_client("reviv") as s:
        me = await passkey_sign_up(s, api, software_authenticator(REVIV_ORIGIN))
        auth = me["auth"]
        assert one_offs(ok(await s.get(f"{A}/auth/me/", headers=auth))) == (False, False)
        err(await upload(s, auth, (400, 300)), 400, "IMAGE_TOO_SMALL")
        created = ok(await upload(s, auth), 201)
        assert set(created) == {"job_id", "status"} and created["status"] == "pending"
        job_id = created["job_id"]
        status = await completed(s, auth, job_id)
        assert status["preview_url"] and status["error"] is None
        history = ok(await s.get(f"{A}/restorations/history/", headers=auth))
        assert [h["id"] for h in history] == [job_id] and history[0]["is_unlocked"] is False

        err(await s.post(f"{A}/restorations/{job_id}/unlock/", headers=auth), 403, "INSUFFICIENT_CREDITS")
        packs = ok(await s.get(f"{A}/credits/packs/", headers=auth))
        pack = next(p for p in packs if p["sku"] == "PACK_5")
        assert pack == {**pack, "credits": 5, "price_cents": 499, "price_dollars": "$4.99", "active": True}
        checkout = ok(await s.post(f"{A}/credits/purchase/", headers=auth, json={"sku": "PACK_5"}))
        assert set(checkout) == {"checkout_url"}
        assert (await api.post(f"{checkout['checkout_url']}/pay", headers={"Accept": "application/json"})).status_code \
            == 200

        async def credited() -> list[dict[str, Any]] | None:
            transactions = ok(await s.get(f"{A}/credits/transactions/", headers=auth))
            return transactions or None

        transactions = await poll(credited, timeout=60, message="the pack credited")
        assert transactions[0]["amount"] == 5 and transactions[0]["transaction_type"] == "purchase"
        unlocked = ok(await s.post(f"{A}/restorations/{job_id}/unlock/", headers=auth))
        assert unlocked["full_image_url"] and unlocked["credits_remaining"] == "4.00"
        err(await s.post(f"{A}/restorations/{job_id}/unlock/", headers=auth), 409, "ALREADY_UNLOCKED")
        profile = ok(await s.get(f"{A}/auth/me/", headers=auth))
        assert profile["credit_balance"] == "4.00" and one_offs(profile) == (True, False)  # the preview is used

        # the one-time social share unlock, on a second photo
        second = ok(await upload(s, auth), 201)["job_id"]
        await completed(s, auth, second)
        err(await s.post(f"{A}/restorations/{second}/confirm-share/", headers=auth), 400, "SHARE_NOT_INITIATED")
        links = ok(await s.post(f"{A}/restorations/{second}/share-unlock/", headers=auth))
        assert links["instagram"]["type"] == "manual"
        facebook = links["facebook"]
        assert f"/compat/reviv/api/restorations/{second}/share-redirect/facebook/?s=" in facebook
        redirect = await s.get(facebook)
        assert redirect.status_code == 302 and "facebook.com" in redirect.headers["location"]
        assert ok(await s.post(f"{A}/restorations/{second}/confirm-share/", headers=auth))["full_image_url"]
        err(await s.post(f"{A}/restorations/{second}/share-unlock/", headers=auth), 409, "ALREADY_UNLOCKED")
        assert one_offs(ok(await s.get(f"{A}/auth/me/", headers=auth))) == (True, True)  # the frontend hides the offer

        # the same customer through the native API
        native = (await api.get("/api/v1/restorations", headers=auth)).json()
        assert {r["id"]: r["is_unlocked"] for r in native} == {job_id: True, second: True}
        assert (await api.get("/api/v1/credits/balance", headers=auth)).json()["balance"] == 4

        assert ok(await s.delete(f"{A}/restorations/{job_id}/", headers=auth)) == \
            {"message": "Job deleted successfully", "status": "ok"}
        err(await s.get(f"{A}/restorations/{job_id}/status/", headers=auth), 404, "NOT_FOUND")
        r = await s.post(f"{A}/credits/webhook/", content=b"{}", headers={"Stripe-Signature": "t=1,v1=forged"})
        assert r.status_code == 400 and "error" in r.json()
