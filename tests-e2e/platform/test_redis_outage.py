"""Redis is a cache, not a single point of failure: with Redis refused or blackholed
(connections accepted, never answered) the platform starts, reads and a guest checkout succeed
without one 5xx and without waiting, `/api/health` says `degraded` (503), and once Redis
answers again no price cached before the outage is served (staff changed it meanwhile)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from infra.journeys import poll, staff

from atelier_testing.platform import Platform, distributed, embedded
from atelier_testing.tcpproxy import RedisLink

pytestmark = pytest.mark.e2e

ADDRESS = {"label": "Home", "type": "shipping", "first_name": "Grace", "last_name": "Hopper",
           "street_address": "1 Harbour Road", "city": "Tbilisi", "postal_code": "0105", "country": "GE",
           "phone": "+995555000111", "email": "grace@example.com"}


@pytest.fixture
def redis_link() -> Iterator[RedisLink]:
    url = os.environ.get("ATELIER_TEST_REDIS_URL")
    if not url:
        pytest.skip("set ATELIER_TEST_REDIS_URL")
    link = RedisLink(url)
    try:
        yield link
    finally:
        link.close()


async def reads_succeed(api: httpx.AsyncClient, product_id: str, rounds: int = 10) -> None:
    """Public reads (the gateway's cache path) and a cart: all 2xx, none waiting on Redis."""
    urls = ["/api/v1/products?limit=5", f"/api/v1/products/{product_id}", "/api/v1/categories", "/api/v1/cart"]
    slowest = 0.0
    for _ in range(rounds):
        for url in urls:
            started = time.monotonic()
            r = await api.get(url)
            slowest = max(slowest, time.monotonic() - started)
            assert r.status_code == 200, (url, r.status_code, r.text)
    assert slowest < 5, slowest  # a Redis timeout is 0.1 s; a request never waits for Redis beyond that


async def health_degraded(api: httpx.AsyncClient) -> None:
    r = await api.get("/api/health")
    body = r.json()
    assert (r.status_code, body["status"]) == (503, "degraded"), body
    assert body["gateway"]["redis"].startswith("error"), body
    assert all(s["status"] == "healthy" for s in body["services"].values()), body


async def guest_checkout(base_url: str, product: dict[str, Any], as_staff: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as guest:
        guest.headers["X-Session-ID"] = (await guest.get("/api/v1/cart")).headers["x-anonymous-token"]
        r = await guest.post("/api/v1/cart/items", json={"product_id": product["id"], "quantity": 1})
        assert r.status_code == 201, r.text
        r = await guest.post("/api/v1/addresses", json={**ADDRESS, "email": f"g-{uuid.uuid4().hex[:8]}@example.com"})
        assert r.status_code == 201, r.text
        r = await guest.post("/api/v1/orders", json={"shipping_address_id": r.json()["id"]})
        assert r.status_code == 201, r.text
        order_id = r.json()["id"]

        async def status_is(status: str) -> bool:
            # Staff look, as they read any order (whoever owns it by then).
            r = await guest.get(f"/api/v1/orders/{order_id}", headers=as_staff)
            assert r.status_code == 200, r.text
            return r.json()["status"] == status

        await poll(lambda: status_is("awaiting_payment"), timeout=30, message="stock reserved")
        r = await guest.post("/api/v1/payments/checkout", json={
            "order_id": order_id, "success_url": "http://localhost:3000/ok", "cancel_url": "http://localhost:3000/no"})
        assert r.status_code in (200, 201), r.text
        checkout_url = r.json()["checkout_url"]
        assert (await guest.get(checkout_url)).status_code == 200
        r = await guest.post(f"{checkout_url}/pay", headers={"Accept": "application/json"})
        assert r.status_code == 200, r.text
        await poll(lambda: status_is("paid"), timeout=30, message="order paid")


async def a_product(api: httpx.AsyncClient) -> dict[str, Any]:
    r = await api.get("/api/v1/products", params={"kind": "physical", "in_stock": "true", "limit": 50})
    assert r.status_code == 200, r.text
    return next(p for p in r.json()["results"] if not p["variants"] and p["stock_quantity"] >= 5)


@pytest.fixture
def distributed_redis_refused(tmp_path: Path, postgres_server_url: str, amqp_url: str,
                              redis_link: RedisLink) -> Iterator[Platform]:
    """`atelier up` started while its Redis refuses (a sync fixture: the clean-up runs its own loops)."""
    redis_link.refuse()
    env = {"ATELIER_REDIS_URL": redis_link.url, "ATELIER_CACHE_URL": redis_link.url}
    with distributed(tmp_path, postgres_server_url, amqp_url, env, split=False, redis_out=True) as platform:
        yield platform


@pytest.fixture
def embedded_redis_blackholed(tmp_path: Path, redis_link: RedisLink) -> Iterator[Platform]:
    """`atelier dev` started with a Redis that accepts connections and never answers."""
    redis_link.blackhole()
    with embedded(tmp_path, {"ATELIER_REDIS_URL": redis_link.url}, redis_out=True) as platform:
        yield platform


async def test_the_distributed_platform_runs_through_redis_outages(
        distributed_redis_refused: Platform, redis_link: RedisLink) -> None:
    platform = distributed_redis_refused
    async with httpx.AsyncClient(base_url=platform.url, timeout=30) as api:
        product = await a_product(api)
        await reads_succeed(api, product["id"], rounds=3)
        await health_degraded(api)
        as_staff = await staff(api)
        await guest_checkout(platform.url, product, as_staff)

        redis_link.restore()

        async def healthy() -> bool:
            return (await api.get("/api/health")).status_code == 200

        await poll(healthy, timeout=30, message="healthy once Redis answers")
        detail = f"/api/v1/products/{product['id']}"
        price = (await api.get(detail)).json()["price"]

        async def served_from_the_cache() -> bool:
            return (await api.get(detail)).headers.get("x-cache") == "hit"

        await poll(served_from_the_cache, timeout=30, message="the detail cached")

        redis_link.blackhole()
        await reads_succeed(api, product["id"])
        await health_degraded(api)
        await guest_checkout(platform.url, product, as_staff)
        # Staff change the price while Redis is out: catalog's invalidation cannot reach Redis.
        new_price = "1.23" if price != "1.23" else "2.34"
        r = await api.patch(detail, headers=as_staff, json={"price": new_price})
        assert r.status_code == 200, r.text

        redis_link.refuse()
        await reads_succeed(api, product["id"], rounds=3)
        await health_degraded(api)

        redis_link.restore()
        await poll(healthy, timeout=30, message="healthy once Redis answers")
        for _ in range(20):  # the old price is never served again, cached or not
            r = await api.get(detail)
            assert r.json()["price"] == new_price, (r.json()["price"], r.headers.get("x-cache"))


async def test_atelier_dev_with_a_blackholed_redis_serves(embedded_redis_blackholed: Platform) -> None:
    async with httpx.AsyncClient(base_url=embedded_redis_blackholed.url, timeout=30) as api:
        product = await a_product(api)
        await reads_succeed(api, product["id"], rounds=3)
        await health_degraded(api)
