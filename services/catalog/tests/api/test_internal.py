"""/internal/products for other services: service credential, inactive products included."""

from __future__ import annotations

import uuid

import pytest

from atelier_common.auth import SERVICE_HEADER
from atelier_testing import ServiceHarness, TestKeys

from ..conftest import Catalog, assert_error


@pytest.fixture
def service(catalog_settings) -> dict[str, str]:
    return {SERVICE_HEADER: catalog_settings.service_token}


async def test_a_product_with_price_kind_attributes_stock_and_variants(harness: ServiceHarness, catalog: Catalog,
                                                                       staff, service) -> None:
    product = await catalog.product(sku="TIER-B", name="Basic print", kind="print_tier", price="49.00",
                                    currency="GEL", attributes={"max_retries_per_unit": 3})
    await harness.client.post(f"/api/v1/products/{product['id']}/variants", headers=staff,
                              json={"name": "A4", "sku": "TIER-B-A4"})
    await harness.client.post(f"/api/v1/products/{product['id']}/images", headers=staff, json={"url": "/m/b.jpg"})
    await catalog.deactivate_product(product["id"])

    response = await harness.client.get(f"/internal/products/{product['id']}", headers=service)
    assert response.status_code == 200, response.text
    body = response.json()
    assert {k: body[k] for k in ("sku", "kind", "price", "currency", "attributes", "is_active", "image_url")} == {
        "sku": "TIER-B", "kind": "print_tier", "price": "49.00", "currency": "GEL",
        "attributes": {"max_retries_per_unit": 3}, "is_active": False, "image_url": "/m/b.jpg"}
    assert (body["track_inventory"], body["in_stock"], body["stock_quantity"]) == (False, True, 5)
    assert [(v["sku"], v["price"], v["is_active"]) for v in body["variants"]] == [("TIER-B-A4", "49.00", True)]


async def test_lookup_by_ids_and_skus(harness: ServiceHarness, catalog: Catalog, service) -> None:
    one = await catalog.product(sku="ONE")
    await catalog.product(sku="TWO")
    three = await catalog.product(sku="THREE")
    response = await harness.client.post("/internal/products/lookup", headers=service,
                                         json={"ids": [one["id"], str(uuid.uuid4())], "skus": ["THREE", "NONE"]})
    assert response.status_code == 200
    assert sorted(p["id"] for p in response.json()["results"]) == sorted([one["id"], three["id"]])
    empty = await harness.client.post("/internal/products/lookup", headers=service, json={})
    assert empty.json() == {"results": []}


async def test_a_longer_sku_is_not_cut_to_the_column_to_match(harness: ServiceHarness, catalog: Catalog,
                                                              service) -> None:
    """PostgreSQL binds the SKUs as one VARCHAR[]: a cast to the column's VARCHAR(100)[] would cut this one."""
    longest = await catalog.product(sku="L" * 100)
    response = await harness.client.post("/internal/products/lookup", headers=service,
                                         json={"skus": ["L" * 101]})
    assert response.json() == {"results": []}
    found = await harness.client.post("/internal/products/lookup", headers=service, json={"skus": ["L" * 100]})
    assert [p["id"] for p in found.json()["results"]] == [longest["id"]]


async def test_a_product_carries_its_own_category(harness: ServiceHarness, catalog: Catalog, service) -> None:
    """Orders' category promotions read the category of each line from the lookup."""
    shelf = await catalog.category()
    filed, loose = await catalog.product(category_id=shelf["id"]), await catalog.product()
    response = await harness.client.post("/internal/products/lookup", headers=service,
                                         json={"ids": [filed["id"], loose["id"]]})
    assert {p["id"]: p["category_id"] for p in response.json()["results"]} == {
        filed["id"]: shelf["id"], loose["id"]: None}


async def test_the_service_credential_is_required(harness: ServiceHarness, catalog: Catalog,
                                                  test_keys: TestKeys) -> None:
    product = await catalog.product()
    for headers in ({}, test_keys.staff_headers(), {SERVICE_HEADER: "wrong"}):
        assert_error(await harness.client.get(f"/internal/products/{product['id']}", headers=headers),
                     401, "AUTHENTICATION_REQUIRED")
        assert_error(await harness.client.post("/internal/products/lookup", json={"ids": []}, headers=headers),
                     401, "AUTHENTICATION_REQUIRED")


async def test_unknown_product_is_404(harness: ServiceHarness, service) -> None:
    for ref in (str(uuid.uuid4()), "garbage"):
        assert_error(await harness.client.get(f"/internal/products/{ref}", headers=service), 404, "NOT_FOUND")
