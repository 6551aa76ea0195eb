"""Concurrent staff edits of one price list on PostgreSQL: the list is locked while an edit is
judged and written, so of two edits built from the same version one applies and the other is
refused (409 STALE_VERSION), never both."""

from __future__ import annotations

import asyncio

import pytest

from atelier_testing import ServiceHarness

from ..conftest import Catalog, customer_group

pytestmark = pytest.mark.databases("postgres", why="PostgreSQL itself: row locks and full-text search")

CONCURRENT = 6


async def test_edits_from_one_version_apply_once(harness: ServiceHarness, catalog: Catalog, test_keys) -> None:
    merchandiser = test_keys.staff_headers("merchandiser")
    product = await catalog.product(price="100.00")
    await customer_group(harness)
    made = await harness.client.post("/api/v1/staff/price-lists", headers=merchandiser, json={
        "name": "Business", "storefront": "default", "currency": "USD", "customer_group": "business",
        "prices": [{"product_id": product["id"], "price": "90.00"}]})
    assert made.status_code == 201, made.text
    version = made.json()["version"]

    async def edit(n: int) -> int:
        response = await harness.client.patch(
            f"/api/v1/staff/price-lists/{made.json()['id']}", headers={**merchandiser, "If-Match": version},
            json={"prices": [{"product_id": product["id"], "price": f"{80 + n}.00"}]})
        return response.status_code

    statuses = await asyncio.gather(*(edit(n) for n in range(CONCURRENT)))
    assert sorted(statuses) == [200] + [409] * (CONCURRENT - 1)
    current = (await harness.client.get(f"/api/v1/staff/price-lists/{made.json()['id']}",
                                        headers=merchandiser)).json()
    assert len(current["prices"]) == 1 and current["version"] != version
