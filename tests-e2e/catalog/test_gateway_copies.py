"""The gateway answers cache hits from copies in its own process: in the distributed
mode its processes hear each bump (Redis pub/sub), so a product's change is seen at once through
every gateway process, by a tokenless crawler and by a signed-in customer alike, and a request of another storefront never gets this one's copy.
Private reads (a cart) are never kept."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
import pytest
from infra.journeys import customer, poll, staff

from atelier_testing.platform import GATEWAY_WORKERS, Platform

pytestmark = pytest.mark.e2e


@asynccontextmanager
async def _one_per_worker(url: str) -> AsyncIterator[dict[int, httpx.AsyncClient]]:
    """A client pinned to each gateway process: one kept-alive connection each, told apart by the
    pid its process answers on `/health`."""
    async with AsyncExitStack() as stack:
        pinned: dict[int, httpx.AsyncClient] = {}
        for _ in range(60 * GATEWAY_WORKERS):
            if len(pinned) == GATEWAY_WORKERS:
                break
            client = await stack.enter_async_context(
                httpx.AsyncClient(base_url=url, timeout=30, limits=httpx.Limits(max_connections=1)))
            pid = (await client.get("/health")).json()["pid"]
            pinned.setdefault(pid, client)
        assert len(pinned) == GATEWAY_WORKERS, f"connections reached only workers {sorted(pinned)}"
        yield pinned


async def test_a_change_is_seen_at_once_through_every_gateway_process(distributed_platform: Platform) -> None:
    platform = distributed_platform
    async with httpx.AsyncClient(base_url=platform.url, timeout=30) as api, _one_per_worker(platform.url) as workers:
        as_staff, suffix = await staff(api), uuid.uuid4().hex[:8]
        r = await api.post("/api/v1/products", headers=as_staff, json={
            "name": f"Onyx slab {suffix}", "sku": f"E2E-GW-{suffix}", "price": "80.00", "stock_quantity": 5,
            "kind": "physical"})
        assert r.status_code == 201, r.text
        detail = f"/api/v1/products/{r.json()['id']}"
        as_customer = await customer(api)
        callers = {"crawler": {}, "customer": as_customer, "storefront named": {"X-Atelier-Storefront": "default"}}
        for client in workers.values():
            for headers in callers.values():
                first = await client.get(detail, headers=headers)
                assert first.status_code == 200 and first.json()["price"] == "80.00"
                # The product's creation still has consumers committing in catalog, and each bump ends
                # the copies: the answer becomes a hit once they are done, not necessarily at once.
                again = await poll(lambda c=client, h=headers: _hit(c, detail, h, platform.caches), timeout=30,
                                   message="the detail answered from a copy")
                assert again.json()["price"] == "80.00" and again.headers["etag"] == first.headers["etag"]
                assert "set-cookie" not in again.headers
            # Another storefront's request is never answered with this one's copy.
            r = await client.get(detail, headers={"X-Atelier-Storefront": f"nowhere-{suffix}"})
            assert r.status_code == 400 and r.json()["error"]["code"] == "UNKNOWN_STOREFRONT"

        r = await api.patch(detail, headers=as_staff, json={"price": "72.50"})
        assert r.status_code == 200, r.text

        for pid, client in workers.items():
            for name, headers in callers.items():
                r = await client.get(detail, headers=headers)
                assert r.status_code == 200 and r.json()["price"] == "72.50", (pid, name, r.json()["price"])
                assert r.headers["cache-control"].startswith("public, "), (pid, name)

        # A cart is its owner's: never answered from a copy, never public.
        for client in workers.values():
            r = await client.get("/api/v1/cart", headers=as_customer)
            assert r.status_code == 200 and r.headers.get("x-cache") != "hit"
            assert not r.headers["cache-control"].startswith("public")


async def _hit(client: httpx.AsyncClient, path: str, headers: dict[str, str], caches: bool) -> httpx.Response | None:
    r = await client.get(path, headers=headers)
    return r if not caches or r.headers.get("x-cache") == "hit" else None
