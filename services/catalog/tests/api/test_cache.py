"""Cached public reads: strong ETags and 304s, shared entries, and every view changed at once by
the commit that changes its data (price, stock through an order or by staff, a category's
activity, a review) — never by waiting for a TTL."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import orjson

from atelier_catalog.app import create_app
from atelier_common.cache import PUBLIC_AUDIENCE, STAFF_AUDIENCE, entry_key
from atelier_common.contracts.orders import OrderCancelled
from atelier_testing import RecordingBus, ServiceHarness, TestKeys

from ..conftest import Catalog
from ..events.test_reservations import line, placed

# The default Cache-Control of a shared answer (settings `cache_*`).
PUBLIC = "public, max-age=0, s-maxage=60, stale-while-revalidate=30"


def views(product: dict[str, Any], category: dict[str, Any]) -> dict[str, str]:
    """Every cached page this product shows on."""
    return {
        "detail": f"/api/v1/products/{product['id']}",
        "list": "/api/v1/products?ordering=-created_at&limit=100",
        "search": f"/api/v1/products?search={product['sku']}",
        "category": f"/api/v1/categories/{category['slug']}/products",
    }


def shown(body: dict[str, Any], product_id: str) -> dict[str, Any] | None:
    if "results" not in body:
        return body if body.get("id") == product_id else None
    return next((p for p in body["results"] if p["id"] == product_id), None)


class Views:
    """GETs every view, remembering each one's ETag, so a test can ask for a 304 and see a 200."""

    def __init__(self, client: httpx.AsyncClient, urls: dict[str, str], product_id: str) -> None:
        self.client, self.urls, self.product_id = client, urls, product_id
        self.etags: dict[str, str] = {}

    async def read(self) -> dict[str, dict[str, Any] | None]:
        out = {}
        for name, url in self.urls.items():
            response = await self.client.get(url)
            assert response.status_code == 200, (name, response.text)
            assert response.headers["cache-control"] == PUBLIC
            self.etags[name] = response.headers["etag"]
            out[name] = shown(response.json(), self.product_id)
        return out

    async def all_unchanged(self) -> None:
        for name, url in self.urls.items():
            response = await self.client.get(url, headers={"If-None-Match": self.etags[name]})
            assert response.status_code == 304, name
            assert response.content == b"" and response.headers["etag"] == self.etags[name]

    async def all_changed(self) -> dict[str, dict[str, Any] | None]:
        """Each view, asked with its old ETag, answers 200 with a new one (then returns them all)."""
        old = dict(self.etags)
        for name, url in self.urls.items():
            response = await self.client.get(url, headers={"If-None-Match": old[name]})
            assert response.status_code == 200, name
            assert response.headers["etag"] != old[name], name
        return await self.read()


async def setup(catalog: Catalog, harness: ServiceHarness) -> tuple[dict[str, Any], dict[str, Any], Views]:
    category = await catalog.category()
    product = await catalog.product(category_id=category["id"], price="40.00", stock_quantity=7)
    seen = Views(harness.client, views(product, category), product["id"])
    before = await seen.read()
    assert all(view is not None and view["price"] == "40.00" for view in before.values()), before
    await seen.all_unchanged()
    return product, category, seen


class TestHttpCaching:
    async def test_a_public_read_has_a_strong_etag_and_answers_304_while_unchanged(
            self, harness: ServiceHarness) -> None:
        first = await harness.client.get("/api/v1/pricing")
        assert first.status_code == 200
        etag = first.headers["etag"]
        assert etag.startswith('"') and not etag.startswith("W/")
        again = await harness.client.get("/api/v1/pricing", headers={"If-None-Match": f'"other", {etag}'})
        assert again.status_code == 304 and again.headers["etag"] == etag
        assert again.headers["cache-control"] == PUBLIC
        weak = await harness.client.get("/api/v1/pricing", headers={"If-None-Match": f"W/{etag}"})
        assert weak.status_code == 304
        other = await harness.client.get("/api/v1/pricing", headers={"If-None-Match": '"stale"'})
        assert other.status_code == 200 and other.json() == first.json()

    async def test_anonymous_and_signed_in_customers_share_one_entry_staff_have_their_own(
            self, harness: ServiceHarness, catalog: Catalog, test_keys: TestKeys, staff: dict[str, str]) -> None:
        product = await catalog.product()
        await catalog.deactivate_product(product["id"])
        url = "/api/v1/products?include_inactive=true&limit=100"
        anonymous = await harness.client.get(url)
        customer = await harness.client.get(url, headers=test_keys.user_headers())
        assert customer.headers["etag"] == anonymous.headers["etag"]
        assert shown(customer.json(), product["id"]) is None
        # Staff asking for inactive products see them: not the entry everybody else shares.
        as_staff = await harness.client.get(url, headers=staff)
        assert shown(as_staff.json(), product["id"]) is not None
        assert as_staff.headers["etag"] != anonymous.headers["etag"]
        store = harness.runtime.cache
        host, path, query = anonymous.request.headers["host"].encode(), "/api/v1/products", url.split("?")[1].encode()
        assert await store.get(entry_key("http", host, path, query, PUBLIC_AUDIENCE, b"")) is not None
        assert await store.get(entry_key("http", host, path, query, STAFF_AUDIENCE, b"")) is not None
        # Served again from the store, each audience still gets its own answer.
        assert shown((await harness.client.get(url)).json(), product["id"]) is None
        assert shown((await harness.client.get(url, headers=staff)).json(), product["id"]) is not None

    async def test_links_follow_the_gateways_scheme_and_each_scheme_has_its_own_entry(
            self, harness: ServiceHarness, catalog: Catalog) -> None:
        await catalog.product()
        await catalog.product()
        url = "/api/v1/products?limit=1"
        # The gateway forwards the scheme it checked; anything but http/https is not a scheme.
        evil = await harness.client.get(url, headers={"X-Forwarded-Proto": "evil"})
        assert evil.json()["next"].startswith("http://")
        secure = await harness.client.get(url, headers={"X-Forwarded-Proto": "https"})
        assert secure.json()["next"].startswith("https://")
        plain = await harness.client.get(url, headers={"X-Forwarded-Proto": "http"})
        assert plain.json()["next"].startswith("http://")
        assert (await harness.client.get(url, headers={"X-Forwarded-Proto": "https"})).json() == secure.json()

    async def test_a_users_own_data_is_not_cached(self, harness: ServiceHarness, catalog: Catalog,
                                                 test_keys: TestKeys) -> None:
        product = await catalog.product()
        alice, bob = test_keys.user_headers(uuid.uuid4()), test_keys.user_headers(uuid.uuid4())
        assert (await harness.client.post(f"/api/v1/products/{product['id']}/wishlist", headers=alice)).status_code == 201
        mine = await harness.client.get("/api/v1/wishlist", headers=alice)
        theirs = await harness.client.get("/api/v1/wishlist", headers=bob)
        assert mine.json()["count"] == 1 and theirs.json()["count"] == 0
        assert "etag" not in mine.headers and "public" not in mine.headers.get("cache-control", "")


class TestEveryViewChangesAtOnce:
    async def test_a_price_change(self, harness: ServiceHarness, catalog: Catalog, staff: dict[str, str]) -> None:
        product, _, seen = await setup(catalog, harness)
        r = await harness.client.patch(f"/api/v1/products/{product['id']}", json={"price": "35.50"}, headers=staff)
        assert r.status_code == 200, r.text
        after = await seen.all_changed()
        assert {name: view and view["price"] for name, view in after.items()} == dict.fromkeys(seen.urls, "35.50")

    async def test_a_reservation_through_an_order(self, harness: ServiceHarness, catalog: Catalog) -> None:
        product, _, seen = await setup(catalog, harness)
        await harness.deliver(placed(line(product, 3)))
        after = await seen.all_changed()
        assert {name: view and view["stock_quantity"] for name, view in after.items()} == dict.fromkeys(seen.urls, 4)

    async def test_a_release_when_the_order_is_cancelled(self, harness: ServiceHarness, catalog: Catalog) -> None:
        product, _, seen = await setup(catalog, harness)
        order = placed(line(product, 2))
        await harness.deliver(order)
        assert {v and v["stock_quantity"] for v in (await seen.all_changed()).values()} == {5}
        await harness.deliver(OrderCancelled(order_id=order.order_id, owner_id=order.owner_id))
        assert {v and v["stock_quantity"] for v in (await seen.all_changed()).values()} == {7}

    async def test_a_variant_and_an_image(self, harness: ServiceHarness, catalog: Catalog,
                                          staff: dict[str, str]) -> None:
        product, _, seen = await setup(catalog, harness)
        r = await harness.client.post(f"/api/v1/products/{product['id']}/variants", headers=staff,
                                      json={"name": "3 cm", "sku": f"V-{product['sku']}", "price": "52.00"})
        assert r.status_code == 201, r.text
        after = await seen.all_changed()
        assert all(v is not None and [x["price"] for x in v["variants"]] == ["52.00"] for v in after.values()), after
        r = await harness.client.post(f"/api/v1/products/{product['id']}/images", headers=staff,
                                      json={"url": "https://example.com/slab.jpg", "alt_text": "slab"})
        assert r.status_code == 201, r.text
        after = await seen.all_changed()
        assert all(v is not None and len(v["images"]) == 1 for v in after.values()), after

    async def test_a_staff_stock_change(self, harness: ServiceHarness, catalog: Catalog,
                                        staff: dict[str, str]) -> None:
        product, _, seen = await setup(catalog, harness)
        r = await harness.client.post(f"/api/v1/products/{product['id']}/stock", headers=staff,
                                      json={"delta": -7, "reason": "inventory count"})
        assert r.status_code == 200, r.text
        after = await seen.all_changed()
        assert all(view is not None and view["stock_quantity"] == 0 and not view["in_stock"]
                   for view in after.values()), after

    async def test_a_category_deactivated_and_reactivated(self, harness: ServiceHarness, catalog: Catalog,
                                                          staff: dict[str, str]) -> None:
        product, category, seen = await setup(catalog, harness)
        tree = await harness.client.get("/api/v1/categories")
        detail = await harness.client.get(f"/api/v1/categories/{category['id']}")
        assert detail.status_code == 200
        assert (await harness.client.delete(f"/api/v1/categories/{category['id']}", headers=staff)).status_code == 204

        gone = await harness.client.get(seen.urls["detail"], headers={"If-None-Match": seen.etags["detail"]})
        assert gone.status_code == 404
        for name in ("list", "search"):
            response = await harness.client.get(seen.urls[name], headers={"If-None-Match": seen.etags[name]})
            assert response.status_code == 200 and shown(response.json(), product["id"]) is None, name
        assert (await harness.client.get(seen.urls["category"])).status_code == 404
        assert (await harness.client.get(f"/api/v1/categories/{category['id']}")).status_code == 404
        new_tree = await harness.client.get("/api/v1/categories", headers={"If-None-Match": tree.headers["etag"]})
        assert new_tree.status_code == 200
        assert category["id"] not in {c["id"] for c in new_tree.json()["results"]}

        r = await harness.client.patch(f"/api/v1/categories/{category['id']}", json={"is_active": True},
                                       headers=staff)
        assert r.status_code == 200, r.text
        back = await seen.read()
        assert all(view is not None for view in back.values()), back

    async def test_a_review_changes_the_rating(self, harness: ServiceHarness, catalog: Catalog,
                                               test_keys: TestKeys) -> None:
        product, _, seen = await setup(catalog, harness)
        r = await harness.client.post(f"/api/v1/products/{product['id']}/reviews", headers=test_keys.user_headers(),
                                      json={"rating": 4, "title": "Solid", "comment": "Heavy and even."})
        assert r.status_code == 201, r.text
        detail = await harness.client.get(seen.urls["detail"], headers={"If-None-Match": seen.etags["detail"]})
        assert detail.status_code == 200
        assert detail.json()["review_count"] == 1 and float(detail.json()["average_rating"]) == 4.0


class TestCdn:
    """What a CDN in front of the gateway sees: surrogate keys per product and category, staff
    answers private, and the commit that changes a product purging that product's key."""

    async def test_answers_carry_surrogate_keys_and_staff_answers_are_private(
            self, harness: ServiceHarness, catalog: Catalog, test_keys: TestKeys, staff: dict[str, str]) -> None:
        category = await catalog.category()
        product = await catalog.product(category_id=category["id"])
        detail = await harness.client.get(f"/api/v1/products/{product['slug']}")
        keys = detail.headers["surrogate-key"].split()
        assert keys == ["catalog", f"product-{product['id']}"]
        on_b = await harness.client.get(f"/api/v1/products/{product['slug']}", headers={"X-Atelier-Storefront": "default"})
        assert on_b.headers["surrogate-key"].split()[1] == "storefront-default"  # as the gateway resolved it
        assert detail.headers["cache-tag"] == ",".join(keys)
        listed = await harness.client.get("/api/v1/products")
        assert listed.headers["surrogate-key"].split()[-1] == "product-list"
        one = await harness.client.get(f"/api/v1/categories/{category['slug']}")
        assert one.headers["surrogate-key"].split()[-2:] == [f"category-{category['id']}", "category-list"]
        # A customer's token changes nothing in the answer: still public, the same keys.
        customer = await harness.client.get(f"/api/v1/products/{product['slug']}", headers=test_keys.user_headers())
        assert customer.headers["cache-control"] == PUBLIC and customer.headers["surrogate-key"] == " ".join(keys)
        as_staff = await harness.client.get(f"/api/v1/products/{product['slug']}", headers=staff)
        assert as_staff.headers["cache-control"] == "private, no-cache" and "surrogate-key" not in as_staff.headers

    async def test_a_product_change_purges_its_key(self, catalog_settings, test_keys: TestKeys) -> None:
        posted: list[list[str]] = []

        def cdn(request: httpx.Request) -> httpx.Response:
            assert request.headers["authorization"] == "Bearer cdn-secret"
            posted.append(orjson.loads(request.content)["tags"])
            return httpx.Response(200)

        settings = catalog_settings.model_copy(update={"cdn_purge_url": "http://cdn.test/purge",
                                                       "cdn_purge_token": "cdn-secret"})
        bus = RecordingBus()
        app = create_app(settings, bus=bus, http_mounts={"http://cdn.test": httpx.MockTransport(cdn)})
        async with ServiceHarness(app, bus) as harness:
            catalog = Catalog(harness, test_keys.staff_headers())
            product = await catalog.product()
            other = await catalog.product()
            await harness.runtime.cdn.settle()
            posted.clear()
            r = await harness.client.patch(f"/api/v1/products/{product['id']}", json={"price": "12.00"},
                                           headers=test_keys.staff_headers())
            assert r.status_code == 200, r.text
            await harness.runtime.cdn.settle()
        purged = {key for call in posted for key in call}
        assert {f"product-{product['id']}", "product-list"} <= purged
        assert f"product-{other['id']}" not in purged and "catalog" not in purged  # the others stay at the CDN
