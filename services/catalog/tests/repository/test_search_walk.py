"""Search's bounded walk (the newest rows in page order, see `ProductRepository._search`) must give
exactly the pages that ranking every match gives: same products, same order, on every page."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from atelier_catalog import repository
from atelier_catalog.demo import seed_bulk
from atelier_testing import ServiceHarness

from ..conftest import Catalog

pytestmark = pytest.mark.databases("postgres", why="PostgreSQL itself: row locks and full-text search")

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


def _record_walks(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each walk answered (True) or not: some pages from walks, others fully ranked."""
    answered: list[bool] = []
    walk = repository.ProductRepository._walk

    async def recording(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = await walk(self, *args, **kwargs)
        answered.append(result is not None)
        return result

    monkeypatch.setattr(repository.ProductRepository, "_walk", recording)
    return answered


def small_walks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Walks of 150 rows (5 per result on deep pages): some pages come from them, some do not."""
    monkeypatch.setattr(repository.search, "SEARCH_WALK_ROWS", 150)
    monkeypatch.setattr(repository.search, "SEARCH_WALK_ROWS_PER_RESULT", 5)


@contextlib.contextmanager
def _ranking_every_match(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The oracle: every page ranks every match (and counts them exactly, up to the limit)."""
    async def nothing(*args: Any, **kwargs: Any) -> None:
        return None

    with monkeypatch.context() as patch:
        patch.setattr(repository.ProductRepository, "_walk", nothing)
        patch.setattr(repository.ProductRepository, "_walk_behind_names", nothing)
        yield


async def _fully_ranked(harness: ServiceHarness, query: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    with _ranking_every_match(monkeypatch):
        return (await _all_pages(harness, query, limit=20))[0]


@pytest.mark.parametrize("query", QUERIES)
async def test_walked_pages_equal_fully_ranked_pages(harness: ServiceHarness, bulk, query: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    expected = await _fully_ranked(harness, query, monkeypatch)
    walks = _record_walks(monkeypatch)
    small_walks(monkeypatch)
    for limit in (7, 20):
        walked, first = await _all_pages(harness, query, limit=limit)
        assert walked == expected
        assert all(p["is_active"] for p in first)
    assert len(expected) == len(set(expected))
    if query in DENSE:
        assert any(walks)  # the first page at least came from the walk


# Queries whose matches are dense enough for the walk; "polished" matches descriptions only, so its
# pages come from the name index (nothing) and then a walk of the rest.
DENSE = {"search=bulk", "search=travertine&ordering=-price", "search=slab&ordering=name,-created_at",
         "search=polished"}


async def test_the_exact_sku_leads_even_when_the_walk_answers(harness: ServiceHarness, bulk,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    small_walks(monkeypatch)
    page = (await harness.client.get("/api/v1/products?search=polished&limit=5")).json()
    assert page["results"][0]["sku"] == "POLISHED" and len(page["results"]) == 5


async def test_a_walked_page_on_a_large_catalog_estimates_its_count(harness: ServiceHarness, bulk,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    small_walks(monkeypatch)
    response = await harness.client.get("/api/v1/products?search=slab&limit=5")
    with _ranking_every_match(monkeypatch):
        # The same page under another cache key (offset=0 is the default): computed again, not served
        # from the response cache.
        exact = await harness.client.get("/api/v1/products?search=slab&limit=5&offset=0")
    assert "X-Count-Estimated" not in exact.headers
    exact = exact.json()["count"]
    assert response.headers["X-Count-Estimated"] == "true"
    # slab is in a fifth of the bulk names: the estimate is in the right range, never below the page
    assert exact / 2 < response.json()["count"] < exact * 2


@pytest.mark.parametrize("query", sorted(DENSE))
async def test_a_first_page_from_the_walk_reads_as_the_ranked_page(harness: ServiceHarness, bulk, query: str,
                                                                    catalog: Catalog, staff: dict[str, str],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # A first page's products come with the walk's own statement; every field, images and
    # variants (an inactive one left out) included, must read as the fully ranked page's do.
    product = await catalog.product(name="Bulk Travertine Slab Polished", sku="BULK-TRAV-X", price="999.00",
                                    attributes={"origin": "Italy"})
    base = f"/api/v1/products/{product['id']}"
    for url, order in (("/media/x-2.jpg", 2), ("/media/x-1.jpg", 1)):
        assert (await harness.client.post(f"{base}/images", json={"url": url, "display_order": order},
                                          headers=staff)).status_code == 201
    for body in ({"name": "2 cm", "sku": "BULK-TRAV-X-2"}, {"name": "Old", "sku": "BULK-TRAV-X-OLD"}):
        response = await harness.client.post(f"{base}/variants", json=body, headers=staff)
        assert response.status_code == 201
    assert (await harness.client.delete(f"{base}/variants/{response.json()['id']}", headers=staff)).status_code == 204
    walks = _record_walks(monkeypatch)
    walked = (await harness.client.get(f"/api/v1/products?{query}&limit=20")).json()["results"]
    assert walks and walks[-1]
    with _ranking_every_match(monkeypatch):
        # offset=0 spelled out: another cache key, so computed again rather than served from the cache
        ranked = (await harness.client.get(f"/api/v1/products?{query}&limit=20&offset=0")).json()["results"]
    assert len(walked) == 20 and walked == ranked
    ours = next(p for p in walked if p["id"] == product["id"])
    assert [i["url"] for i in ours["images"]] == ["/media/x-1.jpg", "/media/x-2.jpg"]
    assert [v["name"] for v in ours["variants"]] == ["2 cm"]
