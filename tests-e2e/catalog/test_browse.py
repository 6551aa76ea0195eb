"""Product search and browse through the gateway, in both modes, on the demo catalog."""

from __future__ import annotations

import uuid

import httpx
import pytest
from infra.journeys import customer, poll, staff

from atelier_testing import assert_error

pytestmark = pytest.mark.e2e


async def test_demo_catalog_search_and_detail(api: httpx.AsyncClient) -> None:
    r = await api.get("/api/v1/products/", params={"search": "marble"})  # trailing slash answered directly
    assert r.status_code == 200
    page = r.json()
    assert page["count"] >= 1 and {"count", "next", "previous", "results"} <= page.keys()
    product = page["results"][0]
    assert "marble" in (product["name"] + product["description"]).lower()
    detail = await api.get(f"/api/v1/products/{product['slug']}")
    assert detail.status_code == 200 and detail.json()["id"] == product["id"]
    # The demo's pictures are real files, served by the catalog through the gateway.
    picture = await api.get(detail.json()["images"][0]["url"])
    assert picture.status_code == 200 and picture.content[:3] == b"\xff\xd8\xff"

    pricing = (await api.get("/api/v1/pricing")).json()
    skus = {p["sku"] for group in pricing.values() if isinstance(group, list) for p in group}
    assert {"PACK_5", "PACK_10", "RETRY_PACK_3", "pro_monthly", "studio_monthly", "basic", "premium"} <= skus


async def test_staff_creates_a_product_customers_find_it(api: httpx.AsyncClient) -> None:
    sku = f"E2E-{uuid.uuid4().hex[:8]}"
    name = f"Onyx slab {sku}"
    r = await api.post("/api/v1/products", headers=await customer(api), json={
        "name": name, "sku": sku, "price": "120.00", "stock_quantity": 3, "kind": "physical"})
    assert_error(r, 403, "PERMISSION_DENIED")
    assert (await api.get("/api/v1/products", params={"search": sku})).json()["results"] == []
    r = await api.post("/api/v1/products", headers=await staff(api), json={
        "name": name, "sku": sku, "price": "120.00", "stock_quantity": 3, "kind": "physical",
        "description": "A translucent onyx slab."})
    assert r.status_code == 201, r.text
    assert r.json()["price"] == "120.00"

    async def found() -> bool:
        results = (await api.get("/api/v1/products", params={"search": sku})).json()["results"]
        return any(p["sku"] == sku for p in results)

    await poll(found, message="new product searchable")


async def test_a_product_under_a_hidden_category_cannot_be_bought(api: httpx.AsyncClient) -> None:
    """What is on sale has one definition. Hiding a category takes its products off
    the shelf for customers and for orders alike: knowing the id is not enough to buy it."""
    as_staff, suffix = await staff(api), uuid.uuid4().hex[:8]
    r = await api.post("/api/v1/categories", headers=as_staff, json={"name": f"Hidden {suffix}"})
    assert r.status_code == 201, r.text
    category = r.json()
    r = await api.post("/api/v1/products", headers=as_staff, json={
        "name": f"Basalt tile {suffix}", "sku": f"E2E-H-{suffix}", "price": "15.00", "stock_quantity": 5,
        "kind": "physical", "category_id": category["id"]})
    assert r.status_code == 201, r.text
    product = r.json()
    assert (await api.delete(f"/api/v1/categories/{category['id']}", headers=as_staff)).status_code == 204

    assert (await api.get(f"/api/v1/products/{product['id']}")).status_code == 404
    as_customer = await customer(api)
    r = await api.post("/api/v1/orders", headers=as_customer, json={"items": [{"product_id": product["id"]}]})
    assert_error(r, 400, "PRODUCT_UNAVAILABLE")
    assert (await api.get("/api/v1/orders", headers=as_customer)).json()["count"] == 0
