"""Search's bounded walk (the newest rows in page order, see `ProductRepository._search`) must give
exactly the pages that ranking every match gives: same products, same order, on every page."""

from __future__ import annotations

from typing import Any

import pytest

from atelier_catalog import repository
from atelier_catalog.demo import seed_bulk
from atelier_common.testing import ServiceHarness

from ..conftest import Catalog

QUERIES = [
    "search=carrara%20slab",          # names: the best tier only
    "search=polished",                # descriptions only
    "search=carrara%20polished",      # every word somewhere, never all in a name
    "search=onyx",                    # both tiers, sparse
    "search=bulk",                    # SKU substrings
    "search=travertine&ordering=-price",
    "search=slab&ordering=name,-created_at",
    "search=slab&category=marble&in_stock=true",
    "search=marble&min_price=200&max_price=400&ordering=price",
]


async def _all_pages(harness: ServiceHarness, query: str, *, limit: int) -> tuple[list[str], list[dict[str, Any]]]:
    """The ids of the first 120 matches, page by page, and the first page."""
    ids: list[str] = []
    first: list[dict[str, Any]] = []
    for offset in range(0, 120, limit):
        response = await harness.client.get(f"/api/v1/products?{query}&limit={limit}&offset={offset}")
        assert response.status_code == 200, response.text
        results = response.json()["results"]
        first = first or results
        ids += [p["id"] for p in results]
    return ids[:120], first


@pytest.fixture
async def bulk(harness: ServiceHarness, catalog: Catalog) -> None:
    await seed_bulk(harness.runtime.db, 600)
    # Products whose SKU is (or contains) a search word, made last (newest).
    await catalog.product(sku="POLISHED", name="Sealer", description="For any stone.")
    await catalog.product(sku="ONYX-1", name="Honey Onyx Tile", description="Translucent.")


@pytest.fixture
def walks(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each search page was answered by the walk (True) or by ranking every match."""
    answered: list[bool] = []
    walk = repository.ProductRepository._walk

    async def recording(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = await walk(self, *args, **kwargs)
        answered.append(result is not None)
        return result

    monkeypatch.setattr(repository.ProductRepository, "_walk", recording)
    return answered


@pytest.mark.parametrize("query", QUERIES)
async def test_walked_pages_equal_fully_ranked_pages(harness: ServiceHarness, bulk, query: str, walks: list[bool],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(repository, "SEARCH_WALK_ROWS", 0)  # every page ranks every match
    expected, _ = await _all_pages(harness, query, limit=20)
    assert not any(walks)
    monkeypatch.setattr(repository, "SEARCH_WALK_ROWS", 150)  # walks answer the dense pages
    for limit in (7, 20):
        walked, first = await _all_pages(harness, query, limit=limit)
        assert walked == expected
        assert all(p["is_active"] for p in first)
    assert len(expected) == len(set(expected))
    if query in DENSE:
        assert any(walks)  # the first page at least came from the walk


# Queries whose matches are dense enough for the walk. (Not "polished": its matches are all in
# descriptions, so the best tier is empty and every match is ranked: the slow case.)
DENSE = {"search=bulk", "search=travertine&ordering=-price", "search=slab&ordering=name,-created_at"}


async def test_the_exact_sku_leads_even_when_the_walk_answers(harness: ServiceHarness, bulk,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(repository, "SEARCH_WALK_ROWS", 150)
    page = (await harness.client.get("/api/v1/products?search=polished&limit=5")).json()
    assert page["results"][0]["sku"] == "POLISHED" and len(page["results"]) == 5


async def test_a_walked_page_on_a_large_catalog_estimates_its_count(harness: ServiceHarness, bulk,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(repository, "SEARCH_WALK_ROWS", 150)
    response = await harness.client.get("/api/v1/products?search=slab&limit=5")
    monkeypatch.setattr(repository, "SEARCH_WALK_ROWS", 0)
    exact = (await harness.client.get("/api/v1/products?search=slab&limit=5")).json()["count"]
    assert response.headers["X-Count-Estimated"] == "true"
    # slab is in a fifth of the bulk names: the estimate is in the right range, never below the page
    assert exact / 2 < response.json()["count"] < exact * 2
