"""Bad input on the catalog's routes is a 4xx in the common error format, never a 500 (issue 12)."""

from __future__ import annotations

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
