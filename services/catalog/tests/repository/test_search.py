"""Full-text search on PostgreSQL: the generated tsvector, its GIN index, stemming and ranking."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from atelier_catalog.app import create_app
from atelier_catalog.demo import seed_bulk
from atelier_testing import RecordingBus, ServiceHarness

from ..conftest import Catalog

pytestmark = pytest.mark.databases("postgres", why="PostgreSQL itself: row locks and full-text search")


async def test_search_vector_and_indexes_exist(harness: ServiceHarness) -> None:
    async with harness.runtime.db.read_only() as session:
        indexes = dict((await session.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'product'"))).all())
    assert "USING gin (search_vector)" in indexes["ix_product_search_vector"]
    assert {"ix_product_active_price", "ix_product_active_created_at", "ix_product_active_category"} <= set(indexes)


async def test_the_search_vector_follows_updates(harness: ServiceHarness, catalog: Catalog, staff) -> None:
    product = await catalog.product(name="Plain Tile")
    await harness.client.patch(f"/api/v1/products/{product['id']}", headers=staff, json={"name": "Onyx Tile"})
    found = (await harness.client.get("/api/v1/products?search=onyx")).json()
    assert [p["id"] for p in found["results"]] == [product["id"]]


async def test_words_are_stemmed(harness: ServiceHarness, catalog: Catalog) -> None:
    await catalog.product(sku="POL", name="Polished marble slabs")
    found = (await harness.client.get("/api/v1/products?search=polishing%20slab")).json()
    assert [p["sku"] for p in found["results"]] == ["POL"]


async def test_a_word_the_parser_reads_otherwise_alone_is_found(harness: ServiceHarness, catalog: Catalog) -> None:
    # Alone, `1e5abcd0` parses as the number 1e5 then `abcd0`; inside `b-1e5abcd0` it is one word.
    await catalog.product(sku="HEX", name="Slab of b-1e5abcd0")
    await catalog.product(sku="OTHER", name="Slab of b-2f6abcd1")
    for search in ("Slab of b-1e5abcd0", "1e5abcd0", "1e5abc", "slabs b-1e5abcd0"):
        found = (await harness.client.get("/api/v1/products", params={"search": search})).json()
        assert [p["sku"] for p in found["results"]] == ["HEX"], search


async def test_within_a_tier_the_newest_comes_first(harness: ServiceHarness, catalog: Catalog) -> None:
    await catalog.product(sku="OLD", name="Tile A", description="A little travertine.")
    await catalog.product(sku="NAMED", name="Travertine Paver", description="Stone.")
    await catalog.product(sku="NEW", name="Tile B", description="Travertine, travertine and more travertine.")
    found = (await harness.client.get("/api/v1/products?search=travertine")).json()
    assert [p["sku"] for p in found["results"]] == ["NAMED", "NEW", "OLD"]


class TestCountAtScale:
    async def test_broad_pages_get_an_estimated_count_past_the_exact_limit(self, catalog_settings) -> None:
        settings = catalog_settings.model_copy(update={"exact_count_limit": 100})
        bus = RecordingBus()
        async with ServiceHarness(create_app(settings, bus=bus), bus) as harness:
            await seed_bulk(harness.runtime.db, 2_000)
            broad = await harness.client.get("/api/v1/products", params={"limit": 5, "offset": 1_500})
            narrow = await harness.client.get("/api/v1/products", params={"search": "carrara slab 1"})

        assert broad.headers.get("X-Count-Estimated") == "true"
        assert 1_000 < broad.json()["count"] < 4_000 and len(broad.json()["results"]) == 5
        assert "X-Count-Estimated" not in narrow.headers
        assert 0 < narrow.json()["count"] <= 100
