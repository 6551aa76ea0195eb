"""API keys on catalog's staff routes: a key limited to some storefronts acts only on the
products sold on its storefronts alone, and is refused every route that is not per storefront; a
`stock:write` key sets stock and reads low stock, nothing else (docs/security.md, "API keys")."""

from __future__ import annotations

import pytest

from atelier_common.contracts.identity import ALL_KINDS
from atelier_testing import ServiceHarness, TestKeys
from atelier_testing.staff import assert_api_key_limits
from atelier_testing.storefronts import add_storefront, make_storefront, on_storefront

from ..conftest import Catalog, assert_error

P = "/api/v1/products/{product_ref}"
V, IMG, PL = f"{P}/variants", f"{P}/images", "/api/v1/staff/price-lists"
STOREFRONT_SCOPED = {("POST", "/api/v1/products"), ("PUT", P), ("PATCH", P), ("DELETE", P), ("POST", f"{P}/stock"),
                     ("GET", "/api/v1/products/low-stock"), ("POST", V), ("POST", IMG), ("POST", f"{IMG}/upload"),
                     *((m, path) for m in ("PUT", "PATCH", "DELETE") for path in (f"{V}/{{variant_id}}",
                                                                              f"{IMG}/{{image_id}}")),
                     ("GET", PL), ("POST", PL), *((m, f"{PL}/{{price_list_id}}") for m in ("GET", "PATCH", "DELETE"))}
SCOPED_IN = {"stock:write": {("POST", f"{P}/stock"), ("GET", "/api/v1/products/low-stock")}}


@pytest.fixture
def shops(harness: ServiceHarness) -> None:
    for slug in ("shop", "marbelle"):
        add_storefront(harness.app, make_storefront(slug, sells=list(ALL_KINDS), currency="USD"))


async def test_catalog_staff_routes_by_api_key(harness: ServiceHarness, test_keys: TestKeys) -> None:
    await assert_api_key_limits(harness.app, harness.client, test_keys, storefront_scoped=STOREFRONT_SCOPED,
                                scoped_in=SCOPED_IN)


@pytest.mark.usefixtures("shops")
async def test_a_key_changes_only_the_products_of_its_storefronts(harness: ServiceHarness, catalog: Catalog,
                                                                  test_keys: TestKeys) -> None:
    ours = await catalog.product(storefronts=["shop"])
    theirs = await catalog.product(storefronts=["marbelle"])
    shared = await catalog.product()  # every storefront's: only a key of `*` changes it
    shop = test_keys.api_key_headers(["merchandiser"], ["shop"])
    client = harness.client
    moved = await client.post(f"/api/v1/products/{ours['id']}/stock", json={"delta": 2, "reason": "count"},
                              headers=shop)
    assert moved.status_code == 200, moved.text
    for product in (theirs, shared):
        url = f"/api/v1/products/{product['id']}"
        assert_error(await client.post(f"{url}/stock", json={"delta": 2, "reason": "count"}, headers=shop),
                     404, "NOT_FOUND")
        assert_error(await client.patch(url, json={"name": "Mine now"}, headers=shop), 404, "NOT_FOUND")
        assert_error(await client.delete(url, headers=shop), 404, "NOT_FOUND")
    # A write naming another storefront (or every one) is refused as an unknown storefront.
    for storefronts in (["shop", "marbelle"], []):
        assert_error(await client.patch(f"/api/v1/products/{ours['id']}", json={"storefronts": storefronts},
                                        headers=shop), 404, "NOT_FOUND")
    unchanged = await client.get(f"/api/v1/products/{ours['id']}", headers=catalog.staff)
    assert unchanged.json()["storefronts"] == ["shop"]
    assert_error(await client.get("/api/v1/products/low-stock", params={"storefront": "marbelle"}, headers=shop),
                 404, "NOT_FOUND")
    assert (await client.get("/api/v1/products/low-stock", params={"storefront": "shop"},
                             headers=shop)).status_code == 200
    # A new product: of its storefronts alone, never of another or of every storefront.
    made = await client.post("/api/v1/products", json={"name": "X", "sku": "X-1", "price": "1.00",
                                                       "storefronts": ["shop"]}, headers=shop)
    assert made.status_code == 201, made.text
    for storefronts in (["shop", "marbelle"], []):
        assert_error(await client.post("/api/v1/products", json={"name": "Y", "sku": "Y-1", "price": "1.00",
                                                                  "storefronts": storefronts}, headers=shop),
                     404, "NOT_FOUND")
    # Not per storefront: categories (a category orders products of every storefront it holds).
    assert_error(await client.post("/api/v1/categories", json={"name": "Ours"}, headers=shop),
                 403, "PERMISSION_DENIED")
    assert_error(await client.post(f"/api/v1/products/{theirs['id']}/variants", json={"name": "Big", "sku": "B-1"},
                                   headers=shop), 404, "NOT_FOUND")
    assert_error(await client.post(f"/api/v1/products/{theirs['id']}/images", json={"url": "https://x.example/a.png"},
                                   headers=shop), 404, "NOT_FOUND")
    every = test_keys.api_key_headers(["merchandiser"], ["*"])
    assert (await client.post(f"/api/v1/products/{shared['id']}/stock", json={"delta": 1, "reason": "count"},
                              headers=every)).status_code == 200


@pytest.mark.usefixtures("shops")
async def test_a_stock_write_key_sets_stock_and_nothing_else(harness: ServiceHarness, catalog: Catalog,
                                                             test_keys: TestKeys) -> None:
    product = await catalog.product(storefronts=["shop"])
    stock = test_keys.api_key_headers([], ["shop"], scopes=["stock:write"])
    client = harness.client
    # The public read, as the storefront's shoppers see it.
    read = await client.get(f"/api/v1/products/{product['id']}", headers={**stock, **on_storefront("shop")})
    assert read.status_code == 200
    moved = await client.post(f"/api/v1/products/{product['id']}/stock", json={"delta": -1, "reason": "sold"},
                              headers=stock)
    assert moved.status_code == 200 and moved.json()["stock_quantity"] == 4
    assert_error(await client.patch(f"/api/v1/products/{product['id']}", json={"name": "Renamed"}, headers=stock),
                 403, "PERMISSION_DENIED")
    assert_error(await client.post("/api/v1/categories", json={"name": "New"}, headers=stock), 403,
                 "PERMISSION_DENIED")


@pytest.mark.usefixtures("shops")
async def test_a_limited_key_reads_the_catalog_as_shoppers_do(harness: ServiceHarness, catalog: Catalog,
                                                              test_keys: TestKeys) -> None:
    theirs = await catalog.product(storefronts=["marbelle"])
    await catalog.deactivate_product(theirs["id"])
    shop = test_keys.api_key_headers(["merchandiser"], ["shop"])
    listed = await harness.client.get("/api/v1/products", params={"include_inactive": "true"}, headers=shop)
    assert theirs["id"] not in listed.text
    every = test_keys.api_key_headers(["merchandiser"], ["*"])
    listed = await harness.client.get("/api/v1/products", params={"include_inactive": "true"}, headers=every)
    assert theirs["id"] in listed.text


async def test_a_key_finds_only_the_price_lists_of_its_storefronts(harness: ServiceHarness, catalog: Catalog,
                                                                   test_keys: TestKeys) -> None:
    from ..conftest import customer_group
    from .test_price_lists import LISTS, _price_list

    await customer_group(harness)
    product = await catalog.product(price="100.00")
    made = await _price_list(harness, test_keys.staff_headers("merchandiser"),
                             [{"product_id": product["id"], "price": "80.00"}])
    inside = test_keys.api_key_headers(["merchandiser"], ["default"])
    outside = test_keys.api_key_headers(["merchandiser"], ["outlet"])
    client = harness.client
    assert [p["id"] for p in (await client.get(LISTS, headers=inside)).json()["results"]] == [made["id"]]
    assert (await client.get(LISTS, headers=outside)).json()["results"] == []
    assert_error(await client.get(f"{LISTS}/{made['id']}", headers=outside), 404, "NOT_FOUND")
    assert_error(await client.patch(f"{LISTS}/{made['id']}", json={"name": "Theirs"}, headers=outside), 404,
                 "NOT_FOUND")
    assert_error(await client.delete(f"{LISTS}/{made['id']}", headers=outside), 404, "NOT_FOUND")
    assert_error(await client.post(LISTS, json={"name": "B", "storefront": "default", "currency": "USD",
                                                "customer_group": "business", "prices": []}, headers=outside),
                 404, "NOT_FOUND")
    assert (await client.get(f"{LISTS}/{made['id']}", headers=inside)).json()["name"] == "Business"
