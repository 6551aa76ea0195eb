"""Bad input on the catalog's routes is a 4xx in the common error format, never a 500."""

from __future__ import annotations

import json

import pytest

from atelier_testing import ServiceHarness, assert_error


@pytest.mark.parametrize("query", ["offset=9223372036854775808", "page=9223372036854775808", "page=100000000",
                                   "limit=1000"])
async def test_a_page_beyond_the_bounds_is_a_validation_error(harness: ServiceHarness, catalog, query: str) -> None:
    product = await catalog.product()
    category = await catalog.category()
    for path in ("/api/v1/products", f"/api/v1/products/{product['id']}/reviews",
                 f"/api/v1/categories/{category['id']}/products"):
        assert_error(await harness.client.get(f"{path}?{query}"), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("query", ["search=%00", "search=a%00b", "category=%00", "ordering=name%00"])
async def test_nul_in_a_query_is_a_validation_error(harness: ServiceHarness, query: str) -> None:
    assert_error(await harness.client.get(f"/api/v1/products?{query}"), 400, "VALIDATION_ERROR")


async def test_nul_in_a_path_or_a_body_is_a_validation_error(harness: ServiceHarness, catalog, staff) -> None:
    assert_error(await harness.client.get("/api/v1/products/a%00b"), 400, "VALIDATION_ERROR")
    for fields in ({"name": "Mug\x00"}, {"description": "\ud800"}, {"attributes": {"colour": "red\x00"}}):
        body = {"name": "Mug", "sku": "MUG-NUL", "price": "10.00", **fields}
        response = await harness.client.post("/api/v1/products", content=json.dumps(body),  # escapes surrogates
                                             headers={**staff, "content-type": "application/json"})
        assert_error(response, 400, "VALIDATION_ERROR")


async def test_attributes_nested_255_deep_are_a_validation_error(harness: ServiceHarness, staff) -> None:
    attributes: dict = {}
    for _ in range(255):
        attributes = {"a": attributes}
    body = {"name": "Deep", "sku": "DEEP-1", "price": "10.00", "attributes": attributes}
    assert_error(await harness.client.post("/api/v1/products", json=body, headers=staff), 400, "VALIDATION_ERROR")
    assert (await harness.client.get("/api/v1/products?search=Deep")).json()["count"] == 0
