"""mycomics (60T-main/mycomics `frontend`, Next.js) against the storybook profile: what its API client
and its types read, call by call, and a browser journey from another origin.

Its client (`app/services/product/product-api.ts`, `fetchProducts`) calls `NEXT_PUBLIC_API_BASE_URL +
"/books" + ("/" + id)` — no trailing slash — with `credentials: 'include'` and a JSON body labelled
`Content-Type: application/x-www-form-urlencoded`; it reads the answer as `product-types.ts` types
it: a book's `art_style`, print options and upper-case `status`, a character's `reference_photo`
(an image the backend takes as multipart), `current_version`, `total_generation_attempts`, a
version's `generated_image`, `generation_job_id`, `prompt_snapshot` and `status` in
PENDING/GENERATING/SUCCESS/FAILED (a page's COMPLETED). Its backend (same repository) logs a new
customer in at registration.
"""

from __future__ import annotations

import base64
import io
import json
import uuid
from typing import Any

import httpx
import pytest
from infra.frontend_pages import allow_origin
from infra.journeys import PASSWORD, poll
from PIL import Image

from atelier_testing.browser import chromium, offline_context, static_site
from atelier_testing.platform import Platform

from .test_storybook import FRONTEND, drf_error, ok, webhook_secret

pytestmark = pytest.mark.e2e

PRODUCT = "/api/product"  # the app's NEXT_PUBLIC_API_BASE_URL is the profile's prefix + this
FORM = {**FRONTEND, "Content-Type": "application/x-www-form-urlencoded"}  # as fetchProducts sends JSON
BOOK_FIELDS = {"title": "Nino and the Moon", "art_style": "watercolour", "style_version": "v2", "print_size": "A4",
               "paper_type": "matte", "binding_type": "hardcover"}
BOOK_STATUSES = {"DRAFT", "IN_PROGRESS", "COMPLETE", "LOCKED", "ORDERED", "PRINTED", "ARCHIVED"}
GENERATION = {"PENDING", "GENERATING", "SUCCESS", "FAILED"}
PAGE_GENERATION = {"PENDING", "GENERATING", "COMPLETED", "FAILED"}
VERSION_FIELDS = {"id", "version_number", "generated_image", "thumbnail", "prompt_snapshot", "aspect_ratio", "seed",
                  "generation_job_id", "generation_cost_usd", "ledger_entry", "status", "error_message",
                  "nano_request_id", "created_at"}


def photo(side: int = 600) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (side, side), (200, 120, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def fetch_products(method: str, id_: str | None = None, body: Any = None) -> dict[str, Any]:
    """The request `fetchProducts` makes (its path has no trailing slash)."""
    path = f"{PRODUCT}/books" + (f"/{id_}" if id_ else "")
    return {"method": method, "url": path, "headers": FORM,
            **({"content": json.dumps(body if body is not None else {})} if method != "GET" else {})}


async def register(s: httpx.AsyncClient) -> dict[str, Any]:
    name = f"reader{uuid.uuid4().hex[:10]}"
    r = await s.post("/api/customer/register/", headers=FRONTEND, json={
        "username": name, "password": PASSWORD, "email": f"{name}@example.com", "first_name": "Nino",
        "last_name": "Beridze", "phone": "+995555000111"})
    body = ok(r, 201)
    assert body["loggedIn"] is True and body["user"]["username"] == name  # the seed logs the new customer in
    assert "sessionid" in s.cookies
    return body["user"]


async def rendered(s: httpx.AsyncClient, path: str, statuses: tuple[str, ...] = ("SUCCESS",)) -> Any:
    async def check() -> Any:
        found = ok(await s.get(path))
        versions = found if isinstance(found, list) else [found]
        assert versions and all(v["status"] != "FAILED" for v in versions), found
        return found if all(v["status"] in statuses for v in versions) else None

    return await poll(check, timeout=90, message=f"{path} rendered")


def assert_book(book: dict[str, Any], **expected: Any) -> None:
    assert {"id", "created_at", "total_pages", "last_generation_at", "current_cover_version", "print_locked_at",
            "total_images_generated", *BOOK_FIELDS} <= set(book), book
    assert book["status"] in BOOK_STATUSES
    for key, value in expected.items():
        assert book[key] == value, (key, book)


# -- fetchProducts: /books -------------------------------------------------------------------------

async def test_fetch_products_creates_lists_reads_changes_and_deletes_books(seed_client) -> None:
    async with seed_client("storybook") as s:
        await register(s)
        created = ok(await s.request(**fetch_products("POST", body=BOOK_FIELDS)), 201)
        assert_book(created, **BOOK_FIELDS, status="DRAFT")
        listed = ok(await s.request(**fetch_products("GET")))
        assert [b["id"] for b in listed] == [created["id"]]
        assert_book(listed[0], **BOOK_FIELDS)
        assert_book(ok(await s.request(**fetch_products("GET", created["id"]))), title=BOOK_FIELDS["title"])
        patched = ok(await s.request(**fetch_products("PATCH", created["id"], {"print_size": "A5",
                                                                               "art_style": "comic"})))
        assert_book(patched, print_size="A5", art_style="comic", binding_type="hardcover")
        replaced = ok(await s.request(**fetch_products("PUT", created["id"], {**BOOK_FIELDS, "paper_type": "gloss"})))
        assert_book(replaced, paper_type="gloss", print_size="A4")
        assert (await s.request(**fetch_products("DELETE", created["id"]))).status_code == 204
        assert ok(await s.request(**fetch_products("GET"))) == []
        # Bad input is the seed's 400, naming the field.
        body = drf_error(await s.request(**fetch_products("POST", body={"art_style": "ink"})), 400)
        assert "title" in body


async def test_an_anonymous_visitor_makes_its_one_book_through_fetch_products(seed_client) -> None:
    async with seed_client("storybook") as s:
        book = ok(await s.request(**fetch_products("POST", body=BOOK_FIELDS)), 201)
        assert_book(book, art_style="watercolour")
        drf_error(await s.request(**fetch_products("POST", body=BOOK_FIELDS)), 403)


# -- what product-types.ts reads of characters, versions, the cover and pages ----------------------

async def test_a_character_with_a_reference_photo_and_its_render(seed_client) -> None:
    async with seed_client("storybook") as s:
        book = ok(await s.post(f"{PRODUCT}/books/", headers=FRONTEND, json=BOOK_FIELDS), 201)
        r = await s.post(f"{PRODUCT}/characters/", headers=FRONTEND, data={"book": book["id"], "name": "Nino"},
                         files={"reference_photo": ("kid.png", photo(), "image/png")})
        character = ok(r, 201)
        assert {"id", "book", "name", "reference_photo", "current_version", "total_generation_attempts",
                "free_retry_used", "created_at", "updated_at"} <= set(character)
        assert character["book"] == book["id"] and character["name"] == "Nino"
        assert character["total_generation_attempts"] == 1 and character["free_retry_used"] is False
        picture = await s.get(character["reference_photo"])
        assert picture.status_code == 200 and picture.content == photo()

        [version] = await rendered(s, f"{PRODUCT}/character-versions/?character={character['id']}")
        assert set(version) >= VERSION_FIELDS and version["character"] == character["id"]
        assert version["status"] in GENERATION and version["version_number"] == 1
        assert version["generation_job_id"] and "job_id" not in version and "image_url" not in version
        assert (await s.get(version["generated_image"])).status_code == 200
        again = ok(await s.get(f"{PRODUCT}/characters/{character['id']}/"))
        assert again["current_version"] == version["id"]
        # CharacterApiFieldsPatch: a new name and photo, as a form again.
        changed = ok(await s.patch(f"{PRODUCT}/characters/{character['id']}/", headers=FRONTEND,
                                   data={"name": "Nina"}, files={"reference_photo": ("kid.png", photo(700), "image/png")}))
        assert changed["name"] == "Nina" and changed["reference_photo"] != character["reference_photo"]
        assert (await s.get(changed["reference_photo"])).content == photo(700)


async def test_a_refused_reference_photo_is_a_400_and_leaves_no_character(seed_client) -> None:
    async with seed_client("storybook") as s:
        book = ok(await s.post(f"{PRODUCT}/books/", headers=FRONTEND, json=BOOK_FIELDS), 201)
        body = drf_error(await s.post(f"{PRODUCT}/characters/", headers=FRONTEND,
                                      data={"book": book["id"], "name": "Nino"},
                                      files={"reference_photo": ("kid.png", b"not a picture", "image/png")}), 400)
        assert "reference_photo" in body
        assert ok(await s.get(f"{PRODUCT}/characters/")) == []
        # The anonymous visitor's one character is still to make.
        ok(await s.post(f"{PRODUCT}/characters/", headers=FRONTEND, data={"book": book["id"], "name": "Nino"},
                        files={"reference_photo": ("kid.png", photo(), "image/png")}), 201)


async def test_cover_versions_keep_the_lettering_and_the_prompt_snapshot(seed_client) -> None:
    async with seed_client("storybook") as s:
        book = ok(await s.post(f"{PRODUCT}/books/", headers=FRONTEND, json=BOOK_FIELDS), 201)
        snapshot = {"scene": "a moonlit garden", "mood": "calm"}
        cover = ok(await s.post(f"{PRODUCT}/cover-versions/", headers=FORM, content=json.dumps({
            "book": book["id"], "title_text": "Nino and the Moon", "subtitle_text": "A bedtime story",
            "author_name": "Mum", "prompt_snapshot": snapshot, "aspect_ratio": "1:1"})), 201)
        assert VERSION_FIELDS | {"book", "title_text", "subtitle_text", "author_name", "title_position",
                                 "full_spread_image", "updated_at"} <= set(cover)
        assert cover["book"] == book["id"] and cover["status"] in GENERATION
        assert (cover["title_text"], cover["subtitle_text"], cover["author_name"]) == \
            ("Nino and the Moon", "A bedtime story", "Mum")
        assert cover["prompt_snapshot"] == snapshot
        done = await rendered(s, f"{PRODUCT}/cover-versions/{cover['id']}/")
        assert done["status"] == "SUCCESS" and done["generated_image"] and done["title_text"] == "Nino and the Moon"


async def test_pages_carry_the_fields_the_app_reads(seed_client) -> None:
    async with seed_client("storybook") as s:
        await register(s)
        book = ok(await s.post(f"{PRODUCT}/books/", headers=FRONTEND, json=BOOK_FIELDS), 201)
        page = ok(await s.post(f"{PRODUCT}/pages/", headers=FRONTEND, json={
            "book": book["id"], "page_number": 1, "text_content": "Nino looked up.",
            "scene_description": "A girl in a garden at night"}), 201)
        assert (page["book"], page["page_number"], page["text_content"], page["scene_description"]) == \
            (book["id"], 1, "Nino looked up.", "A girl in a garden at night")
        [shown] = await rendered(s, f"{PRODUCT}/pages/?book={book['id']}", ("COMPLETED",))
        assert VERSION_FIELDS - {"id", "created_at"} <= set(shown)
        assert shown["id"] == page["id"] and shown["status"] in PAGE_GENERATION
        assert shown["generated_image"] and shown["generation_job_id"] and shown["version_number"] == 1
        [version] = ok(await s.get(f"{PRODUCT}/page-versions/?page={page['id']}"))
        assert version["page"] == page["id"] and version["status"] == "COMPLETED"
        figures = ok(await s.get(f"{PRODUCT}/books/{book['id']}/"))
        assert figures["total_pages"] == 1 and figures["total_images_generated"] == 1
        assert figures["last_generation_at"] == version["created_at"] and figures["print_locked_at"] is None


# -- the browser journey ----------------------------------------------------------------------------

PAGE = """<!doctype html><meta charset="utf-8"><title>storybook journey</title>
<script>
const API = new URLSearchParams(location.search).get("api") || localStorage.getItem("api");
localStorage.setItem("api", API);
// fetchProducts: JSON labelled x-www-form-urlencoded, cookies included, no trailing slash.
window.products = async (method, path, body) => {
  const init = {method, credentials: "include"};
  if (body != null) {
    init.headers = {"Content-Type": "application/x-www-form-urlencoded"};
    init.body = JSON.stringify(body);
  }
  const r = await fetch(API + "/api/product" + path, init);
  return {status: r.status, data: r.status === 204 ? null : await r.json()};
};
window.json = async (method, path, body) => {
  const init = {method, credentials: "include", headers: {"Content-Type": "application/json"}};
  if (body != null) init.body = JSON.stringify(body);
  const r = await fetch(API + path, init);
  return {status: r.status, data: await r.json()};
};
// A character with its reference photo, as the seed's backend takes it (multipart).
window.character = async (book, name, pngBase64) => {
  const form = new FormData();
  form.append("book", book);
  form.append("name", name);
  const bytes = Uint8Array.from(atob(pngBase64), c => c.charCodeAt(0));
  form.append("reference_photo", new File([bytes], "kid.png", {type: "image/png"}));
  const r = await fetch(API + "/api/product/characters/", {method: "POST", credentials: "include", body: form});
  return {status: r.status, data: await r.json()};
};
window.shows = (url) => new Promise(ok => {
  const img = new Image(); img.onload = () => ok(img.naturalWidth); img.onerror = () => ok(0); img.src = url;
});
</script>"""


async def test_the_apps_journey_in_a_browser_from_another_origin(platform: Platform, api: httpx.AsyncClient) -> None:
    """Register (logged in), reload keeps the session, a book through fetchProducts, a character with a
    reference photo, its render shown, the cover, a page, an address and a print order, paid by the
    provider's webhook: the book is ORDERED. Nothing leaves the machine, no 5xx, no console error."""
    base = f"{platform.url}/compat/storybook"
    png = base64.b64encode(photo()).decode()
    name = f"reader{uuid.uuid4().hex[:10]}"
    async with static_site({"/index.html": PAGE}) as site, chromium() as browser, \
            offline_context(browser) as (context, watch):
        await allow_origin(api, "storybook", site)
        page = await context.new_page()
        await page.goto(f"{site}/?api={base}")

        async def call(fn: str, *args: Any) -> dict[str, Any]:
            result: dict[str, Any] = await page.evaluate(f"([a, b, c]) => window.{fn}(a, b, c)", [*args, None, None])
            return result

        r = await call("json", "POST", "/api/customer/register/", {
            "username": name, "password": PASSWORD, "email": f"{name}@example.com", "first_name": "Nino",
            "last_name": "Beridze", "phone": "+995555000111"})
        assert r["status"] == 201 and r["data"]["loggedIn"] is True, r
        await page.reload()
        r = await call("json", "GET", "/api/customer/status/")
        assert r["data"]["loggedIn"] is True and r["data"]["user"]["username"] == name, r

        r = await call("products", "POST", "/books", BOOK_FIELDS)
        assert r["status"] == 201 and r["data"]["print_size"] == "A4" and r["data"]["status"] == "DRAFT", r
        book = r["data"]
        r = await call("products", "GET", "/books")
        assert [b["id"] for b in r["data"]] == [book["id"]], r

        r = await page.evaluate("([b, n, p]) => window.character(b, n, p)", [book["id"], "Nino", png])
        assert r["status"] == 201 and r["data"]["reference_photo"], r
        assert await page.evaluate("(u) => window.shows(u)", r["data"]["reference_photo"]) == 600
        character = r["data"]

        async def version_of(path: str, status: str = "SUCCESS") -> dict[str, Any] | None:
            found = await call("products", "GET", path)
            versions = found["data"] if isinstance(found["data"], list) else [found["data"]]
            assert found["status"] == 200 and all(v["status"] != "FAILED" for v in versions), found
            return versions[0] if versions and versions[0]["status"] == status else None

        done = await poll(lambda: version_of(f"/character-versions/?character={character['id']}"), timeout=90,
                          message="the character rendered")
        assert done["generation_job_id"] and await page.evaluate("(u) => window.shows(u)", done["generated_image"])

        r = await call("products", "POST", "/cover-versions/", {"book": book["id"], "title_text": "Nino and the Moon",
                                                                "prompt_snapshot": {"scene": "garden"}})
        assert r["status"] == 201 and r["data"]["book"] == book["id"], r
        await poll(lambda: version_of(f"/cover-versions/{r['data']['id']}/"), timeout=90, message="the cover")

        r = await call("products", "POST", "/pages/", {"book": book["id"], "page_number": 1,
                                                       "text_content": "Nino looked up."})
        assert r["status"] == 201, r
        shown = await poll(lambda: version_of(f"/pages/?book={book['id']}", "COMPLETED"), timeout=90,
                           message="the page")
        assert shown["generated_image"] and shown["text_content"] == "Nino looked up."

        r = await call("json", "POST", "/api/customer/address/", {
            "full_name": "Nino Beridze", "phone": "+995555000111", "email": f"{name}@example.com",
            "address_line1": "1 Rustaveli Ave", "city": "Tbilisi"})
        assert r["status"] == 201 and r["data"]["address_line1"] == "1 Rustaveli Ave", r
        r = await call("json", "POST", "/api/orders/create/", {
            "tier_name": "basic", "delivery_address_id": r["data"]["id"],
            "items": [{"book_id": book["id"], "quantity": 1, "unit_price": "1.00"}]})
        assert r["status"] == 201 and r["data"]["tier_name"] == "basic", r
        order_id = r["data"]["order_id"]
        # The provider's webhook comes from its server, not the browser.
        async with httpx.AsyncClient(base_url=base) as provider:
            paid = await provider.post("/api/orders/payment/webhook/", content=json.dumps(
                {"order_id": order_id, "status": "paid", "transaction_id": f"tx-{uuid.uuid4().hex[:8]}"}),
                headers={"X-Webhook-Secret": webhook_secret(platform), "Content-Type": "application/json"})
        assert paid.status_code == 200, paid.text

        async def ordered() -> bool:
            return (await call("products", "GET", f"/books/{book['id']}"))["data"]["status"] == "ORDERED"

        await poll(ordered, timeout=90, message="the book ordered")
        await page.reload()
        r = await call("json", "GET", "/api/customer/status/")
        assert r["data"]["loggedIn"] is True
    watch.assert_clean()
