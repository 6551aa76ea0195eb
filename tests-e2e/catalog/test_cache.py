"""Cached public reads through the gateway, in both modes: every view of a product (detail, list,
search, its category's page) changes at once when its price, its stock (staff, or a reservation
through an order) or its category's activity changes, and a 304 becomes a 200 with a new ETag.
One caller's own data is never served to another."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from infra.journeys import customer, poll, staff

from atelier_testing.platform import Platform

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.modes("embedded", "distributed", why="the cache in the process (embedded) or in Redis, purged by events across processes (distributed)"),
]
# The default Cache-Control of a public read (settings `cache_*`).
PUBLIC = "public, max-age=0, s-maxage=60, stale-while-revalidate=30"

ADDRESS = {"label": "Home", "type": "shipping", "first_name": "Grace", "last_name": "Hopper",
           "street_address": "1 Harbour Road", "city": "Tbilisi", "postal_code": "0105", "country": "GE",
           "phone": "+995555000111", "email": "grace@example.com"}


def shown(body: dict[str, Any], product_id: str) -> dict[str, Any] | None:
    if "results" not in body:
        return body if body.get("id") == product_id else None
    return next((p for p in body["results"] if p["id"] == product_id), None)


class Views:
    def __init__(self, api: httpx.AsyncClient, platform: Platform, product: dict[str, Any],
                 category: dict[str, Any]) -> None:
        self.api, self.platform, self.product_id = api, platform, product["id"]
        self.urls = {
            "detail": f"/api/v1/products/{product['id']}",
            "list": f"/api/v1/products?category={category['slug']}&ordering=-price",
            "search": f"/api/v1/products?search={product['sku']}",
            "category": f"/api/v1/categories/{category['slug']}/products",
        }
        self.etags: dict[str, str] = {}

    async def read(self) -> dict[str, dict[str, Any] | None]:
        out = {}
        for name, url in self.urls.items():
            r = await self.api.get(url)
            assert r.status_code == 200, (name, r.text)
            assert r.headers["cache-control"] == PUBLIC, name
            self.etags[name] = r.headers["etag"]
            out[name] = shown(r.json(), self.product_id)
        return out

    async def unchanged(self) -> None:
        """Asked again, each view is answered by the gateway from the cache; with its ETag, a 304."""
        for name, url in self.urls.items():
            again = await self.api.get(url)
            assert again.headers["etag"] == self.etags[name], name
            if self.platform.caches:
                assert again.headers.get("x-cache") == "hit", name
            r = await self.api.get(url, headers={"If-None-Match": self.etags[name]})
            assert r.status_code == 304 and r.headers["etag"] == self.etags[name], name

    async def changed(self, field: str) -> dict[str, Any]:
        """Every view, asked with its old ETag, answers 200 with a new one; their values of `field`."""
        old = dict(self.etags)
        values = {}
        for name, url in self.urls.items():
            r = await self.api.get(url, headers={"If-None-Match": old[name]})
            assert r.status_code == 200, (name, r.status_code)
            assert r.headers["etag"] != old[name], name
            self.etags[name] = r.headers["etag"]
            view = shown(r.json(), self.product_id)
            values[name] = view[field] if view else None
        return values


async def test_every_cached_view_changes_at_once(platform: Platform, api: httpx.AsyncClient) -> None:
    as_staff, suffix = await staff(api), uuid.uuid4().hex[:8]
    await api.get("/api/v1/pricing")  # the first request mints this client's anonymous token
    r = await api.post("/api/v1/categories", headers=as_staff, json={"name": f"Cached {suffix}"})
    assert r.status_code == 201, r.text
    category = r.json()
    r = await api.post("/api/v1/products", headers=as_staff, json={
        "name": f"Travertine block {suffix}", "sku": f"E2E-C-{suffix}", "price": "50.00", "stock_quantity": 9,
        "kind": "physical", "category_id": category["id"]})
    assert r.status_code == 201, r.text
    product = r.json()
    views = Views(api, platform, product, category)
    assert all(v is not None and v["price"] == "50.00" for v in (await views.read()).values())
    await views.unchanged()

    # A price change: every view at once.
    r = await api.patch(f"/api/v1/products/{product['id']}", headers=as_staff, json={"price": "45.25"})
    assert r.status_code == 200, r.text
    assert await views.changed("price") == dict.fromkeys(views.urls, "45.25")
    await views.unchanged()

    # A staff stock change.
    r = await api.post(f"/api/v1/products/{product['id']}/stock", headers=as_staff,
                       json={"delta": -2, "reason": "damaged"})
    assert r.status_code == 200, r.text
    assert await views.changed("stock_quantity") == dict.fromkeys(views.urls, 7)
    await views.unchanged()

    # A reservation through an order: catalog reserves when it hears order.placed; the moment one
    # view shows it, all of them do.
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as buyer:
        r = await buyer.post("/api/v1/cart/items", json={"product_id": product["id"], "quantity": 3})
        assert r.status_code == 201, r.text
        r = await buyer.post("/api/v1/addresses", json=ADDRESS)
        assert r.status_code == 201, r.text
        r = await buyer.post("/api/v1/orders", json={"shipping_address_id": r.json()["id"]})
        assert r.status_code == 201, r.text

    async def reserved() -> bool:
        r = await api.get(views.urls["detail"])
        return r.json()["stock_quantity"] == 4

    await poll(reserved, timeout=30, message="the reservation visible")
    assert await views.changed("stock_quantity") == dict.fromkeys(views.urls, 4)
    await views.unchanged()

    # The category deactivated: the product leaves every view at once.
    tree = await api.get("/api/v1/categories")
    assert category["id"] in {c["id"] for c in tree.json()["results"]}
    assert (await api.delete(f"/api/v1/categories/{category['id']}", headers=as_staff)).status_code == 204
    assert (await api.get(views.urls["detail"], headers={"If-None-Match": views.etags["detail"]})).status_code == 404
    assert (await api.get(views.urls["category"])).status_code == 404
    for name in ("list", "search"):
        r = await api.get(views.urls[name], headers={"If-None-Match": views.etags[name]})
        assert r.status_code == 200 and shown(r.json(), product["id"]) is None, name
    r = await api.get("/api/v1/categories", headers={"If-None-Match": tree.headers["etag"]})
    assert r.status_code == 200 and category["id"] not in {c["id"] for c in r.json()["results"]}


async def test_one_callers_data_is_never_served_to_another(api: httpx.AsyncClient) -> None:
    alice, bob = await customer(api), await customer(api)
    product = (await api.get("/api/v1/products", params={"kind": "physical", "in_stock": "true"})).json()["results"][0]
    r = await api.post("/api/v1/cart/items", headers=alice, json={"product_id": product["id"], "quantity": 1})
    assert r.status_code == 201, r.text
    for _ in range(2):  # a second round would be a hit if anything had been stored
        mine, theirs = await api.get("/api/v1/cart", headers=alice), await api.get("/api/v1/cart", headers=bob)
        assert mine.json()["item_count"] == 1 and theirs.json()["item_count"] == 0
        assert mine.headers["cache-control"] == theirs.headers["cache-control"] == "no-store"
        assert "x-cache" not in mine.headers and "x-cache" not in theirs.headers
        me, them = await api.get("/api/v1/users/me", headers=alice), await api.get("/api/v1/users/me", headers=bob)
        assert me.json()["email"] != them.json()["email"] and me.headers["cache-control"] == "no-store"
    # The gallery is public but tells each caller which images are theirs: private, never shared.
    gallery = await api.get("/api/v1/images/gallery", headers=alice)
    assert gallery.status_code == 200 and gallery.headers["cache-control"] == "private, no-cache"
    assert "x-cache" not in (await api.get("/api/v1/images/gallery", headers=alice)).headers
