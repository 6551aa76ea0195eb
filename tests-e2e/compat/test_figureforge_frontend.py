"""FigureForge's real frontend (qwertypants/figureforge `frontend`) against `/compat/figureforge`, both run modes.

Its API client (`src/api/*.ts`) differs from the seed document: these are its calls, each with the
path, method, body and headers it sends and the fields it reads from the answer. Its magic-link
page (`/auth/magic-link?code=&email=`) verifies again at every render, so a repeat of the code
must not fail; errors are shown as `response.data.error` (a string). Then a page of our own, on
another origin, makes the same calls in the order of the app's journeys in headless Chromium.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from infra.frontend_pages import allow_origin
from infra.identity_steps import code_from, new_mail
from infra.journeys import poll

from atelier_testing.browser import chromium, offline_context, static_site
from atelier_testing.platform import Platform

pytestmark = pytest.mark.e2e

A = "/api"  # the app's VITE_API_URL is <platform>/compat/figureforge/api
FRONTEND = "http://localhost:5173"  # the storefront's frontend_url: the Vite app
# The app's generation form as it posts it (src/stores/imageStore.ts defaults, batch of 2).
FORM = {"batch_size": 2, "body_type": "athletic", "pose_type": "standing", "camera_angle": "eye_level",
        "lighting": "dramatic", "clothing": "casual", "background": "simple", "ethnicity": "diverse",
        "age_range": "adult", "gender_presentation": "androgynous"}


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json() if r.content else None


def refused(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """What the app renders (`err.response.data.error`) is a string; the seed's code is kept beside it."""
    assert r.status_code == status, r.text
    body = r.json()
    assert isinstance(body["error"], str) and body["error"] and body["code"] == code, body
    return body


async def mailed_link(api: httpx.AsyncClient, email: str, seen: set[str]) -> tuple[str, str]:
    mail = await new_mail(api, email, "sign-in code", seen)
    seen.add(mail["id"])
    link = re.search(r"https?://\S+", mail["text"])
    assert link, mail["text"]
    return link.group(0), code_from(mail)


async def signed_in(s: httpx.AsyncClient, api: httpx.AsyncClient) -> dict[str, Any]:
    """MagicLinkLogin → the mail's link → MagicLinkCallback's verify (and its repeat) → getProfile."""
    email = f"artist-{uuid.uuid4().hex[:10]}@example.com"
    assert ok(await s.post(f"{A}/auth/magic-link/request/", json={"email": email}))
    link, code = await mailed_link(api, email, set())
    # The app's route and the parameters MagicLinkCallback reads, on the storefront's frontend.
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}" == FRONTEND and parts.path == "/auth/magic-link", link
    assert parse_qs(parts.query) == {"code": [code], "email": [email]}, link
    tokens = ok(await s.post(f"{A}/auth/magic-link/verify/", json={"email": email, "code": code}))
    assert isinstance(tokens["access_token"], str) and tokens["access_token"].count(".") == 2
    # The page verifies again at each render: a repeat is no error (no tokens: `if (access_token)`).
    again = ok(await s.post(f"{A}/auth/magic-link/verify/", json={"email": email, "code": code}))
    assert again["repeated"] is True and "access_token" not in again
    return {"email": email, "auth": {"Authorization": f"Bearer {tokens['access_token']}"}}


async def test_magic_link_sign_in_profile_and_username(seed_client, api: httpx.AsyncClient) -> None:
    async with seed_client("figureforge") as s:
        me = await signed_in(s, api)
        # authAPI.getProfile: user_id, email, username, role, subscription_plan, quota_limit, quota_used
        user = ok(await s.get(f"{A}/auth/user/", headers=me["auth"]))
        assert (user["email"], user["role"], user["subscription_plan"]) == (me["email"], "user", "free")
        assert uuid.UUID(user["user_id"]) and re.fullmatch(r"user_[0-9a-f]{8}", user["username"])  # the original's
        assert (user["quota_limit"], user["quota_used"]) == (0, 0)
        # authAPI.updateUsername: PUT, reads user.user_id / user.email / user.username
        handle = f"artist{uuid.uuid4().hex[:8]}"
        updated = ok(await s.put(f"{A}/auth/user/update/", headers=me["auth"], json={"username": handle}))
        assert updated["user"] == {"user_id": user["user_id"], "email": me["email"], "username": handle}
        assert ok(await s.get(f"{A}/auth/user/", headers=me["auth"]))["username"] == handle


async def test_errors_are_strings_the_app_can_render(seed_client) -> None:
    async with seed_client("figureforge") as s:
        email = f"artist-{uuid.uuid4().hex[:10]}@example.com"
        refused(await s.post(f"{A}/auth/magic-link/verify/", json={"email": email, "code": "123456"}), 400,
                "AUTHENTICATION_REQUIRED")
        refused(await s.post(f"{A}/auth/magic-link/request/", json={"email": "not-an-email"}), 400, "INVALID_REQUEST")
        body = refused(await s.get(f"{A}/auth/user/"), 401, "AUTHENTICATION_REQUIRED")
        assert body["detail"] == body["error"]  # Account and Generate show `data.detail`


async def test_pricing_the_way_the_pricing_page_reads_it(seed_client) -> None:
    async with seed_client("figureforge") as s:
        plans = {p["stripe_price_id"]: p for p in ok(await s.get(f"{A}/pricing"))["plans"]}
        assert {"pro_monthly", "studio_monthly"} <= set(plans)
        pro = plans["pro_monthly"]
        assert isinstance(pro["price"], float) and pro["price"] == 19.99 and pro["images_per_month"] == 200
        assert pro["id"] and pro["name"] and pro["features"] and all(isinstance(f, str) for f in pro["features"])


async def test_subscribe_generate_my_images_favorites_gallery(seed_client, api: httpx.AsyncClient) -> None:
    async with seed_client("figureforge") as s:
        me = await signed_in(s, api)
        auth = me["auth"]
        # billingAPI.createCheckoutSession(stripe_price_id): {sessionId} for stripe.redirectToCheckout
        checkout = ok(await s.post(f"{A}/billing/checkout-session", headers={**auth, "Origin": FRONTEND},
                                   json={"price_id": "pro_monthly"}))
        assert checkout["sessionId"] and checkout["url"].rstrip("/").endswith(checkout["sessionId"])
        paid = await api.post(f"{checkout['url']}/pay", headers={"Accept": "application/json"})
        assert paid.status_code == 200, paid.text
        assert paid.json()["checkout_url"] == f"{FRONTEND}/account"  # the storefront's success page

        async def pro() -> dict[str, Any] | None:
            user = ok(await s.get(f"{A}/auth/user/", headers=auth))
            return user if user["subscription_plan"] == "pro" and user["quota_limit"] == 200 else None

        await poll(pro, timeout=60, message="the pro subscription in the profile")
        # billingAPI.getBillingPortal: {url}
        assert ok(await s.post(f"{A}/billing/portal", headers=auth))["url"]

        # imagesAPI.generate(form) → job_id; getJobStatus polls status and images[].url. Generation
        # hears the plan through its own copy of `subscription.changed`, a moment after identity
        # (whose profile the poll above read): until then it refuses for want of a quota.
        async def accepted() -> dict[str, Any] | None:
            r = await s.post(f"{A}/generate", headers=auth, json=FORM)
            if r.status_code == 403 and r.json().get("code") == "INSUFFICIENT_QUOTA":
                return None
            return ok(r, 202)

        job = await poll(accepted, timeout=60, message="generation heard the plan")
        assert job["status"] == "queued"

        async def completed() -> dict[str, Any] | None:
            status = ok(await s.get(f"{A}/jobs/{job['job_id']}", headers=auth))
            assert status["status"] != "failed", status
            return status if status["status"] == "completed" else None

        done = await poll(completed, timeout=90, message="the job completed")
        assert len(done["images"]) == 2 and all(i["url"].startswith("http") for i in done["images"])
        assert done["filters"] == {"body_type": "athletic", "pose": "standing", "lighting": "dramatic",
                                   "clothing": "casual", "background": "simple"}
        assert "camera angle: eye level" in done["prompt"] and "age range: adult" in done["prompt"]
        image = (await api.get(done["images"][0]["url"]))
        assert image.status_code == 200 and image.headers["content-type"].startswith("image/")

        # imagesAPI.getUserImages: {images, next_cursor}; ?cursor= the next page
        mine = ok(await s.get(f"{A}/images", headers=auth))
        assert {i["id"] for i in mine["images"]} == {i["id"] for i in done["images"]} and mine["next_cursor"] is None
        first = mine["images"][0]
        assert {"id", "url", "thumbnail_url", "created_at", "is_public", "is_favorite"} <= set(first)
        page = ok(await s.get(f"{A}/images", headers=auth, params={"cursor": "1"}))
        assert len(page["images"]) == 1
        refused(await s.get(f"{A}/images", headers=auth, params={"cursor": "x1"}), 400, "INVALID_REQUEST")

        # ImageCard: toggleFavorite, then MyImages' favorites view
        assert ok(await s.post(f"{A}/images/{first['id']}/favorite", headers=auth), 201)["is_favorite"] is True
        favorites = ok(await s.get(f"{A}/images/favorites", headers=auth))["images"]
        assert [i["id"] for i in favorites] == [first["id"]]

        # PublicGallery: getPublicGallery, anonymous; an image the owner made public shows up
        ok(await s.patch(f"{A}/images/{first['id']}/update/", headers=auth, json={"is_public": True}))
        gallery = ok(await s.get(f"{A}/images/public"))
        assert first["id"] in {i["id"] for i in gallery["images"]} and "next_cursor" in gallery

        # ImageCard: deleteImage → {success}; reportImage has no platform counterpart (501)
        assert ok(await s.delete(f"{A}/images/{first['id']}", headers=auth)) == {"success": True}
        refused(await s.get(f"{A}/images/{first['id']}/", headers=auth), 404, "NOT_FOUND")
        refused(await s.post(f"{A}/images/{done['images'][1]['id']}/report", headers=auth,
                             json={"reason": "quality", "details": ""}), 501, "NOT_IMPLEMENTED")


# -- in the browser: a page of our own making the app's calls, from another origin ------------------

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>figureforge journeys</title></head>
<body><p id="out"></p><script>
const API = "%(api)s";
async function call(method, path, body, auth = true) {
  const headers = {"Content-Type": "application/json"};
  const token = localStorage.getItem("authToken");
  if (auth && token) headers.Authorization = "Bearer " + token;
  const r = await fetch(API + path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  const data = r.status === 204 ? null : await r.json();
  if (!r.ok) throw new Error(method + " " + path + " " + r.status + " " + (data && data.error));
  return data;
}
async function profile() {  // authAPI.getProfile, kept like the app's persisted store
  const d = await call("GET", "/auth/user/");
  const user = {id: d.user_id, email: d.email, username: d.username, role: d.role,
                plan: d.subscription_plan || "hobby", quota_remaining: (d.quota_limit || 50) - (d.quota_used || 0)};
  localStorage.setItem("auth-storage", JSON.stringify({state: {user, isAuthenticated: true}}));
  return user;
}
window.journeys = {
  async requestLink(email) { await call("POST", "/auth/magic-link/request/", {email}, false); },
  async callback() {  // MagicLinkCallback: verify at each render (here twice), then the profile
    const q = new URLSearchParams(location.search);
    const body = {email: q.get("email"), code: q.get("code")};
    for (const _ of [1, 2]) {
      const r = await call("POST", "/auth/magic-link/verify/", body, false);
      if (r.access_token) localStorage.setItem("authToken", r.access_token);
    }
    return await profile();
  },
  async rename(username) {  // Account: updateUsername, then the store keeps the answer's user
    const d = (await call("PUT", "/auth/user/update/", {username})).user;
    const user = {id: d.user_id, email: d.email, username: d.username};
    localStorage.setItem("auth-storage", JSON.stringify({state: {user, isAuthenticated: true}}));
    return user;
  },
  async afterReload() { return {stored: JSON.parse(localStorage.getItem("auth-storage")).state.user,
                                fresh: await profile()}; },
  async subscribe(plan) {
    const plans = (await call("GET", "/pricing", undefined, false)).plans;
    const chosen = plans.find(p => p.stripe_price_id === plan);
    return await call("POST", "/billing/checkout-session", {price_id: chosen.stripe_price_id});
  },
  profile,
  async generate(form) {
    const job = await call("POST", "/generate", form);
    for (;;) {  // Generate polls getJobStatus until completed or failed
      const status = await call("GET", "/jobs/" + job.job_id);
      if (status.status === "completed" || status.status === "failed") return status;
      await new Promise(done => setTimeout(done, 200));
    }
  },
  async myImagesAndFavorite() {
    const mine = (await call("GET", "/images")).images;
    const favorite = await call("POST", "/images/" + mine[0].id + "/favorite");
    const favorites = (await call("GET", "/images/favorites")).images;
    return {mine: mine.map(i => i.id), favorite: favorite.is_favorite, favorites: favorites.map(i => i.id)};
  },
  async gallery() { return (await call("GET", "/images/public", undefined, false)).images.map(i => i.id); },
};
</script></body></html>"""


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with chromium() as the_browser:
        yield the_browser


async def test_the_apps_journeys_from_a_page_on_another_origin(platform: Platform, api: httpx.AsyncClient,
                                                                browser: Any) -> None:
    page_html = PAGE % {"api": f"{platform.url}/compat/figureforge{A}"}
    async with static_site({"/index.html": page_html}, host="localhost") as site:
        await allow_origin(api, "figureforge", site)
        async with offline_context(browser) as (context, watch):
            page = await context.new_page()
            email = f"artist-{uuid.uuid4().hex[:10]}@example.com"
            await page.goto(f"{site}/login/magic-link")
            await page.evaluate("email => journeys.requestLink(email)", email)
            link, code = await mailed_link(api, email, set())
            assert urlsplit(link).path == "/auth/magic-link" and f"code={code}" in link
            # The customer follows the link: the same path and query, on this page's origin.
            await page.goto(f"{site}/auth/magic-link?{urlsplit(link).query}")
            user = await page.evaluate("journeys.callback()")
            assert (user["email"], user["plan"], user["role"]) == (email, "free", "user")

            handle = f"artist{uuid.uuid4().hex[:8]}"
            assert (await page.evaluate("u => journeys.rename(u)", handle))["username"] == handle
            await page.reload()
            kept = await page.evaluate("journeys.afterReload()")
            assert kept["stored"]["username"] == kept["fresh"]["username"] == handle

            checkout = await page.evaluate("journeys.subscribe('pro_monthly')")
            # stripe.redirectToCheckout({sessionId}): the customer pays on the provider's page
            paid = await api.post(f"{checkout['url']}/pay", headers={"Accept": "application/json"})
            assert paid.status_code == 200, paid.text

            async def pro() -> dict[str, Any] | None:
                me = await page.evaluate("journeys.profile()")
                return me if me["plan"] == "pro" and me["quota_remaining"] == 200 else None

            await poll(pro, timeout=60, message="the pro plan in the profile")

            job = await page.evaluate("form => journeys.generate(form)", FORM)
            assert job["status"] == "completed" and len(job["images"]) == 2, job
            shown = await page.evaluate(
                "url => new Promise(done => { const i = new Image(); i.onload = () => done(i.naturalWidth);"
                " i.onerror = () => done(0); i.src = url; })", job["images"][0]["url"])
            assert shown > 0  # the signed URL loads in an <img>, as Generate shows it

            mine = await page.evaluate("journeys.myImagesAndFavorite()")
            assert set(mine["mine"]) == {i["id"] for i in job["images"]}
            assert mine["favorite"] is True and mine["favorites"] == [mine["mine"][0]]

            token = await page.evaluate("localStorage.getItem('authToken')")
            ok(await api.patch(f"/api/v1/images/{mine['mine'][0]}", json={"is_public": True},
                               headers={"Authorization": f"Bearer {token}"}))
            assert mine["mine"][0] in await page.evaluate("journeys.gallery()")
            watch.assert_clean()
