"""The benchmark's large catalog: `seed_bulk` adds N browsable products fast, on both databases."""

from __future__ import annotations

from atelier_catalog.demo import seed_bulk, seed_demo_data
from atelier_testing import ServiceHarness


async def test_seed_bulk_adds_n_searchable_products_in_demo_categories(harness: ServiceHarness) -> None:
    await seed_demo_data(harness.runtime.db, harness.runtime.context)
    before = (await harness.client.get("/api/v1/products")).json()["count"]

    reported: list[int] = []
    assert await seed_bulk(harness.runtime.db, 250, batch=100, context=harness.runtime.context,
                           progress=reported.append) == 250
    assert reported == [100, 200, 250]  # the CLI's progress bar follows these
    await seed_bulk(harness.runtime.db, 10, context=harness.runtime.context)  # a second run adds more, no key collides

    everything = (await harness.client.get("/api/v1/products", params={"limit": 100})).json()
    # 1 in 100 bulk products is inactive and never listed.
    assert everything["count"] == before + 250 - 2 + 10
    assert all(p["is_active"] for p in everything["results"])
    marble = (await harness.client.get("/api/v1/products", params={"category": "natural-stone",
                                                                  "search": "carrara", "ordering": "-price"})).json()
    prices = [float(p["price"]) for p in marble["results"]]
    assert marble["count"] > 0 and prices == sorted(prices, reverse=True)
