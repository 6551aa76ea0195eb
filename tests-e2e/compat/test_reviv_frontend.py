"""S2 reviv.pics: the frontend guide's own `api()` helper in headless Chromium (pages/reviv.html),
from a page on one of the reviv storefront's origins, with Chromium's virtual authenticator (CDP
`WebAuthn`): passkey sign-up, the verification mail's link, passkey sign-in, a reload that keeps
the session through the `reviv_refresh` cookie, a second passkey, a restoration, credits, unlock.
Plus the contract of the one route the guide's flow needed beyond the seed's: the mail link."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from infra.frontend_pages import allow_origin, mail_link, page_files, wait_status
from infra.identity_steps import visitor_client
from infra.journeys import poll

from atelier_testing.browser import chromium, offline_context, static_site
from atelier_testing.platform import Platform

pytestmark = pytest.mark.e2e

A = "/api"
VERIFY_LINK = r"http://localhost:3103(/api/auth/verify-email/[A-Za-z0-9_\-.]+/)"
AUTHENTICATOR = {"options": {"protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
                             "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True}}


async def test_the_verification_link_confirms_then_goes_home(seed_client) -> None:
    async with seed_client("reviv") as s:
        r = await s.get(f"{A}/auth/verify-email/not-a-token/")
        assert r.status_code == 400 and r.json()["error"]["code"] == "INVALID_TOKEN", r.text
        assert "/api/auth/verify-email/{token}/" in (await s.get(f"{A}/schema/")).json()["paths"]


async def test_guide_journeys_in_chromium(platform: Platform) -> None:
    # The page and the API on one site (localhost, as reviv.pics and its API): the cookie is SameSite=Lax.
    host = platform.url.replace("127.0.0.1", "localhost")
    email = f"reviv-spa-{uuid.uuid4().hex[:10]}@example.com"
    async with visitor_client(platform.url) as api, static_site(page_files("reviv"), host="localhost") as site, \
            chromium() as browser, offline_context(browser) as (context, watch):
        await allow_origin(api, "reviv", site, passkey=True)
        page = await context.new_page()
        cdp = await context.new_cdp_session(page)
        await cdp.send("WebAuthn.enable")
        first = (await cdp.send("WebAuthn.addVirtualAuthenticator", AUTHENTICATOR))["authenticatorId"]
        await page.goto(f"{site}/?api={host}/compat/reviv{A}")
        await wait_status(page, "ready")

        done = await page.evaluate("(e) => reviv.signUp(e)", email)
        assert done["message"] == "Passkey registered successfully"
        # The mail's link is on the site, whose /api/ is the profile: it confirms, then the site's home.
        link = await mail_link(api, email, "confirm your email", VERIFY_LINK)
        clicked = await api.get(f"/compat/reviv{link}")
        assert clicked.status_code == 302 and clicked.headers["location"] == "/", clicked.text
        await page.goto(f"{site}/")
        await wait_status(page, "ready")
        signed_in = await page.evaluate("reviv.signIn()")
        assert signed_in["answer"]["user"]["email"] == email and signed_in["me"]["credit_balance"] == "0.00"
        assert "reviv_refresh" in {c["name"] for c in await context.cookies()}

        await page.reload()  # the access token lived in memory: the cookie brings the session back
        await wait_status(page, "signed-in")
        assert await page.text_content("#user") == email

        # A second device: the first authenticator is gone; the new passkey signs in at the end.
        await cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": first})
        await cdp.send("WebAuthn.addVirtualAuthenticator", AUTHENTICATOR)
        assert await page.evaluate("reviv.addPasskey('Laptop')") == \
            {"message": "Passkey registered successfully", "device_name": "Laptop"}

        created = await page.evaluate("reviv.upload(640, 520)")
        assert created["status"] == "pending"
        job = created["job_id"]

        async def restored() -> dict[str, Any] | None:
            status = await page.evaluate("(j) => reviv.status(j)", job)
            assert status["status"] != "failed", status
            return status if status["status"] == "completed" else None

        assert (await poll(restored, timeout=120, message="the restoration"))["preview_url"]
        assert [h["id"] for h in await page.evaluate("reviv.history()")] == [job]

        assert any(p["sku"] == "PACK_5" for p in await page.evaluate("reviv.packs()"))
        checkout = await page.evaluate("reviv.purchase('PACK_5')")
        r = await api.post(f"{checkout['checkout_url']}/pay", headers={"Accept": "application/json"})  # the provider's page
        assert r.status_code == 200, r.text
        paid = r.json()  # then back to the guide's FRONTEND_URL/payment/success?session_id=...
        assert paid["redirect_url"] == f"http://localhost:3103/payment/success?session_id={paid['session_id']}"

        async def credited() -> list[dict[str, Any]] | None:
            return await page.evaluate("reviv.transactions()") or None

        assert (await poll(credited, timeout=60, message="the pack credited"))[0]["amount"] == 5
        unlocked = await page.evaluate("(j) => reviv.unlock(j)", job)
        assert unlocked["credits_remaining"] == "4.00" and unlocked["full_image_url"]
        assert (await page.evaluate("reviv.me()"))["credit_balance"] == "4.00"

        assert (await page.evaluate("reviv.logout()")) == {"message": "Successfully logged out"}
        assert (await page.evaluate("reviv.signIn()"))["me"]["email"] == email  # with the second passkey
        watch.assert_clean()


async def test_the_seeded_origin_still_names_reviv(api: httpx.AsyncClient) -> None:
    """Letting a page in adds its origin: the seeded one stays (other tests rely on it)."""
    r = await api.get("/api/v1/storefront", headers={"Origin": "http://localhost:3103"})
    assert r.status_code == 200 and r.json()["slug"] == "reviv", r.text
