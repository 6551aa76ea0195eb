"""Products' `number`: a stable integer alias in creation order, taken by `/products/{ref}` as the id is."""

from __future__ import annotations

import uuid

from ..conftest import Catalog, assert_error


async def test_products_are_numbered_in_creation_order(harness, catalog: Catalog) -> None:
    first, second, third = [await catalog.product() for _ in range(3)]
    assert [p["number"] for p in (first, second, third)] == [1, 2, 3]
    listed = (await harness.client.get("/api/v1/products", params={"ordering": "created_at"})).json()["results"]
    assert [p["number"] for p in listed] == [1, 2, 3]  # the native read model shows it


async def test_every_product_route_takes_the_number_as_well_as_the_id(harness, catalog: Catalog, staff) -> None:
    await catalog.product()
    product = await catalog.product(name="Calacatta Slab")
    by_number = await harness.client.get(f"/api/v1/products/{product['number']}")
    assert by_number.status_code == 200 and by_number.json()["id"] == product["id"]
    by_id = await harness.client.get(f"/api/v1/products/{product['id']}")
    assert by_id.json() == by_number.json()

    changed = await harness.client.patch(f"/api/v1/products/{product['number']}", json={"price": "12.50"},
                                         headers=staff)
    assert changed.status_code == 200 and changed.json()["price"] == "12.50"
    assert changed.json()["number"] == product["number"]  # stable across edits

    assert_error(await harness.client.get("/api/v1/products/999999"), 404, "NOT_FOUND")
    assert_error(await harness.client.get(f"/api/v1/products/{uuid.uuid4()}"), 404, "NOT_FOUND")


async def test_a_number_is_never_reused_and_never_a_slug(harness, catalog: Catalog, staff) -> None:
    first = await catalog.product()
    assert (await harness.client.delete(f"/api/v1/products/{first['id']}", headers=staff)).status_code == 204
    after = await catalog.product(name="2026")
    assert after["number"] == first["number"] + 1
    assert after["slug"] == "item-2026"  # a digits-only slug would read as a number
    refused = await harness.client.post("/api/v1/products", headers=staff, json={
        "name": "Travertine", "slug": "42", "sku": "TRAV-42", "price": "10.00"})
    assert_error(refused, 400, "VALIDATION_ERROR")
