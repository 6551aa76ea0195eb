"""The statements a product page costs (`-s` prints them): a browsing page is the busiest read of
the shop, and each statement is a round trip. On PostgreSQL the counts are pinned; change them
here when a path changes on purpose."""

from __future__ import annotations

import pytest

from atelier_testing import ServiceHarness
from atelier_testing.statements import statements

from ..conftest import Catalog

pytestmark = pytest.mark.databases("postgres", why="PostgreSQL itself: row locks and full-text search")


async def test_product_pages(harness: ServiceHarness, catalog: Catalog, db_backend) -> None:
    for n in range(30):
        await catalog.product(name=f"Marble tile {n}", description="Polished stone.")
    await harness.drain()
    # Each URL once: the response cache would answer a second request without a statement.
    assert (await harness.client.get("/api/v1/products?search=marble")).status_code == 200  # planner estimates kept
    with statements(harness.runtime.db, "list page") as listed:
        assert len((await harness.client.get("/api/v1/products?limit=18")).json()["results"]) == 18
    with statements(harness.runtime.db, "first search page") as first:
        assert len((await harness.client.get("/api/v1/products?search=marble&limit=19")).json()["results"]) == 19
    with statements(harness.runtime.db, "second search page") as second:
        page = (await harness.client.get("/api/v1/products?search=marble&limit=10&offset=10")).json()
        assert len(page["results"]) == 10
    # A list page: its count (exact below `exact_count_limit`) and the page with its images and
    # variants. A first search page comes with the walk; a later one reads its products apart.
    assert (len(listed), len(first), len(second)) == (2, 2, 3)
