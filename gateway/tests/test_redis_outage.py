"""Redis out (refused, or blackholed: connections accepted and never answered) is not the
platform out: the gateway keeps proxying without its cache, fast, counts rate limits in its
process, and `/api/health` says `degraded` (503) until Redis answers again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from atelier_common.redisguard import guard_for
from atelier_testing import assert_error, poll_until
from atelier_testing.tcpproxy import TcpProxy


@pytest.fixture(params=["refused", "blackholed"])
async def dead_redis(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A Redis URL that refuses connections, or accepts them and never answers."""
    if request.param == "refused":
        yield "redis://127.0.0.1:1/0"
        return
    link = TcpProxy("127.0.0.1", 1)
    await link.blackhole()
    try:
        yield f"redis://127.0.0.1:{link.port}/0"
    finally:
        await link.stop()


async def _reads(gateway, count: int) -> tuple[list[int], float]:
    anon = gateway.keys.anon_headers()
    started = time.monotonic()
    statuses = [(await gateway.client.get("/api/v1/products/p1", params={"public": "1"}, headers=anon)).status_code
                for _ in range(count)]
    return statuses, time.monotonic() - started


async def test_reads_go_on_without_redis_and_health_says_degraded(start_gateway, dead_redis: str) -> None:
    url = dead_redis
    async with asyncio.timeout(20), start_gateway(redis_url=url, cache_url=url) as gateway:
        guard = guard_for(gateway.app.state.settings, url)
        failed_before = guard.failed_calls  # one guard per URL in a process: earlier tests' calls
        statuses, took = await _reads(gateway, 25)
        assert statuses == [200] * 25
        # A few calls before the breaker opens, then none but one probe per reset interval however
        # slow the machine: no read waits on Redis while it is open.
        assert not guard.available
        assert guard.failed_calls - failed_before <= guard.failures + 1 + int(took / guard.reset_seconds)
        health = await gateway.client.get("/api/health")
        assert health.status_code == 503
        body = health.json()
        assert body["status"] == "degraded" and body["gateway"]["redis"].startswith("error")
        assert body["gateway"]["broker"] == "ok"
        assert all(s["status"] == "healthy" for s in body["services"].values())
        # The rate limit still holds, counted by this process alone (30/minute in these tests).
        statuses, _ = await _reads(gateway, 10)
        assert statuses[:5] == [200] * 5 and statuses[-1] == 429
        limited = await gateway.client.get("/api/v1/products/p1", headers=gateway.keys.anon_headers())
        assert_error(limited, 429, "RATE_LIMITED")


async def test_health_is_healthy_again_once_redis_answers(start_gateway, redis_url: str) -> None:
    target = urlsplit(redis_url)
    link = TcpProxy(target.hostname or "127.0.0.1", target.port or 6379)
    await link.start()
    url = f"redis://127.0.0.1:{link.port}{target.path or '/0'}"
    try:
        async with start_gateway(cache_url=url, redis_key_prefix="gw-test:", redis_breaker_reset_seconds=0.2,
                                 rate_limit_default="1000/minute", rate_limit_per_ip="1000/minute") as gateway:
            assert (await gateway.client.get("/api/health")).json()["gateway"]["redis"] == "ok"
            await link.blackhole()
            down = await gateway.client.get("/api/health")
            assert (down.status_code, down.json()["status"]) == (503, "degraded")
            await link.restore()

            async def healthy() -> bool:
                return (await gateway.client.get("/api/health")).status_code == 200

            await poll_until(healthy, timeout=10, message="healthy again")
    finally:
        await link.stop()
