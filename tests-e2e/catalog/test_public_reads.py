"""Public reads without an identity, cacheable by anyone, in both modes.

A client without a cookie or a token — a crawler, a first visit — reads the catalog without being
given an anonymous identity: no `Set-Cookie`, no `X-Anonymous-Token`, `Cache-Control: public`,
a strong ETag (a 304 when unchanged), a `Vary` and surrogate keys a CDN can purge. The first
request that needs an owner (a cart write) mints the token; the cart reads that carry it see the
same cart. A product's change reaches the (fake) CDN as a purge of that product's key.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from infra.cdn import FakeCdn
from infra.journeys import poll, simple_product_in_stock, staff

from atelier_testing.platform import Platform

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.modes("embedded", "distributed", why="the cache in the process (embedded) or in Redis, purged by events across processes (distributed)"),
]


async def test_catalog_reads_mint_nothing_and_are_public(platform: Platform) -> None:
    async with httpx.AsyncClient(base_url=platform.url, timeout=30) as crawler:
        product = (await crawler.get("/api/v1/products", params={"limit": 1})).json()["results"][0]
        for path in ("/api/v1/products", f"/api/v1/products/{product['id']}", "/api/v1/categories",
                     "/api/v1/pricing"):
            r = await crawler.get(path)
            assert r.status_code == 200, (path, r.text)
            assert "set-cookie" not in r.headers and "x-anonymous-token" not in r.headers, path
            control = r.headers["cache-control"]
            assert control.startswith("public, ") and "s-maxage=" in control, (path, control)
            etag = r.headers["etag"]
            assert etag.startswith('"'), path  # strong
            assert {"Accept-Encoding", "X-Atelier-Storefront", "Origin"} <= {
                v.strip() for v in r.headers["vary"].split(",")}, path
            keys = r.headers["surrogate-key"].split()
            assert "catalog" in keys and "storefront-default" in keys, (path, keys)
            assert r.headers["cache-tag"].split(",") == keys, path
            again = await crawler.get(path, headers={"If-None-Match": etag})
            assert again.status_code == 304 and again.headers["etag"] == etag, path
            assert "set-cookie" not in again.headers, path
        detail = await crawler.get(f"/api/v1/products/{product['id']}")
        assert f"product-{product['id']}" in detail.headers["surrogate-key"].split()
        # Answers of other services: the storefront (purged when staff change it) and the plans
        # (catalog products: purged with the catalog's lists).
        for path, key in (("/api/v1/storefront", "storefront-default"), ("/api/v1/subscriptions/plans", "product-list")):
            r = await crawler.get(path)
            assert r.status_code == 200 and "x-anonymous-token" not in r.headers, path
            assert r.headers["cache-control"].startswith("public, ") and key in r.headers["surrogate-key"].split(), path
            assert (await crawler.get(path, headers={"If-None-Match": r.headers["etag"]})).status_code == 304, path
        assert not crawler.cookies  # nothing was ever set


async def test_the_first_cart_write_mints_the_token_and_the_cart_follows_it(platform: Platform) -> None:
    async with httpx.AsyncClient(base_url=platform.url, timeout=30) as visitor:
        product = await simple_product_in_stock(visitor)
        assert "x-anonymous-token" not in (await visitor.get(f"/api/v1/products/{product['id']}")).headers
        r = await visitor.post("/api/v1/cart/items", json={"product_id": product["id"], "quantity": 1})
        assert r.status_code == 201, r.text
        token = r.headers["x-anonymous-token"]
        assert r.headers["set-cookie"].startswith(f"anon_token={token}")
        assert "no-store" in r.headers["cache-control"] or "private" in r.headers["cache-control"]
    # Later reads with the token (header only, no cookie) see the same cart.
    async with httpx.AsyncClient(base_url=platform.url, timeout=30) as later:
        guest = {"X-Anonymous-Token": token}
        cart = await later.get("/api/v1/cart", headers=guest)
        assert cart.status_code == 200 and "x-anonymous-token" not in cart.headers
        assert [item["product_id"] for item in cart.json()["items"]] == [product["id"]]
        assert cart.headers["cache-control"] in ("no-store", "private, no-cache")
        r = await later.post("/api/v1/cart/items", headers=guest, json={"product_id": product["id"], "quantity": 1})
        assert r.status_code == 201 and "x-anonymous-token" not in r.headers
        assert (await later.get("/api/v1/cart", headers=guest)).json()["item_count"] == 2


async def test_a_product_change_purges_its_key_at_the_cdn(platform: Platform, cdn: FakeCdn) -> None:
    async with httpx.AsyncClient(base_url=platform.url, timeout=30) as api:
        as_staff = await staff(api)
        suffix = uuid.uuid4().hex[:8]
        r = await api.post("/api/v1/products", headers=as_staff, json={
            "name": f"Onyx slab {suffix}", "sku": f"E2E-CDN-{suffix}", "price": "70.00", "stock_quantity": 3,
            "kind": "physical"})
        assert r.status_code == 201, r.text
        product = r.json()
        key = f"product-{product['id']}"
        assert key in (await api.get(f"/api/v1/products/{product['id']}")).headers["surrogate-key"].split()
        before = len(cdn.purged)
        r = await api.patch(f"/api/v1/products/{product['id']}", headers=as_staff, json={"price": "65.00"})
        assert r.status_code == 200, r.text

        async def purged() -> bool:
            return any(key in call and "product-list" in call for call in cdn.purged[before:])

        await poll(purged, timeout=30, message="the product's key purged at the CDN")
