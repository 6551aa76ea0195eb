"""Redis is a cache, never a single point of failure: each call has a short timeout and a circuit
breaker (`RedisGuard`); while Redis is refused or blackholed the cache misses and the rate limits
count in the process, both fast; when it answers again nothing stored before the outage is served
(the invalidations it lost are applied), and every key the platform writes carries its prefix."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from atelier_common.cache import Entry, EntryReader, RedisStore, lookup
from atelier_common.errors import RateLimited
from atelier_common.ratelimit import RateLimiter, rate_limiter
from atelier_common.redisguard import RedisGuard, RedisUnavailable
from atelier_common.settings import AtelierSettings
from atelier_testing import poll_until
from atelier_testing.tcpproxy import TcpProxy

REFUSED = "redis://127.0.0.1:1/0"


@pytest.fixture
async def proxy(redis_url: str) -> AsyncIterator[TcpProxy]:
    """A link to the real Redis that a test can refuse (`cut`), blackhole and `restore`."""
    target = urlsplit(redis_url)
    link = TcpProxy(target.hostname or "127.0.0.1", target.port or 6379)
    await link.start()
    try:
        yield link
    finally:
        await link.stop()


def _through(redis_url: str, proxy: TcpProxy) -> str:
    return f"redis://127.0.0.1:{proxy.port}{urlsplit(redis_url).path or '/0'}"


class TestOutage:
    async def test_a_refused_redis_is_a_miss_and_a_local_count_at_once(self) -> None:
        guard = RedisGuard(REFUSED, timeout=0.1, failures=3, reset_seconds=60)
        store = RedisStore(REFUSED, prefix="x:", guard=guard)
        limiter = RateLimiter(REFUSED, guard=guard)
        try:
            assert await lookup(store, "page") is None
            with pytest.raises(RedisUnavailable):
                await store.set("page", b"body", ttl=30)
            for _ in range(3):
                await limiter.hit("3/minute", "ip", "203.0.113.9")  # counted in this process
            with pytest.raises(RateLimited) as refused:
                await limiter.hit("3/minute", "ip", "203.0.113.9")
            assert 1 <= int(refused.value.headers["Retry-After"]) <= 60
            assert not guard.available  # opened: no more connection attempts
        finally:
            await store.close()

    async def test_a_blackholed_redis_costs_one_timeout_then_nothing(self, redis_url: str, proxy: TcpProxy) -> None:
        url = _through(redis_url, proxy)
        guard = RedisGuard(url, timeout=0.1, failures=2, reset_seconds=60)
        store = RedisStore(url, prefix=f"t-{uuid.uuid4().hex[:8]}:", guard=guard)
        reader = EntryReader(store, ttl=30)
        limiter = RateLimiter(url, guard=guard)
        await proxy.blackhole()
        try:
            # Without a timeout the first call would wait for ever (the deadline is generous: the
            # guard's own bound is half a second a call); once the breaker opens, no call goes to
            # Redis at all, which its count of failed calls tells whatever the machine's pace.
            async with asyncio.timeout(5):
                for _ in range(2):
                    assert await reader.get("page") is None
            assert not guard.available and guard.failed_calls == 2
            for _ in range(200):
                assert await reader.get("page") is None
                await limiter.hit("1000/minute", "ip", "203.0.113.9")  # counted in this process
            assert guard.failed_calls == 2
        finally:
            await store.close()


class TestRecovery:
    async def test_an_entry_stored_before_the_outage_is_never_served_after_it(
            self, redis_url: str, proxy: TcpProxy) -> None:
        """The catalog's bump is lost while Redis is blackholed; the gateway must not serve the old
        price once Redis is back (it bumps every counter before its first call goes through)."""
        url, prefix = _through(redis_url, proxy), f"t-{uuid.uuid4().hex[:8]}:"
        gateway_guard = RedisGuard(url, timeout=0.1, failures=1, reset_seconds=0.2)
        # The catalog's retry of its lost bump comes much later: the gateway's recovery alone decides.
        catalog_guard = RedisGuard(url, timeout=0.1, failures=1, reset_seconds=30)
        gateway = RedisStore(url, prefix=prefix, guard=gateway_guard)
        catalog = RedisStore(url, prefix=prefix, guard=catalog_guard)
        reader = EntryReader(gateway, ttl=30)
        try:
            entry = Entry(await catalog.generations(["catalog"]), ("catalog",), [], b'{"price": "10.00"}')
            await catalog.set("page", entry.encode(), ttl=30)
            assert (await reader.get("page")) == entry  # kept in the gateway's process too
            await proxy.blackhole()
            with pytest.raises(RedisUnavailable):
                await catalog.bump(["catalog"])  # staff changed the price: the invalidation is lost
            assert await reader.get("page") is None  # the outage: a miss
            await proxy.restore()
            served = await poll_until(lambda: _served(reader), timeout=10, message="Redis answering again")
            assert served == "miss"  # the first answer after the outage is not the old price
            assert gateway_guard.available
        finally:
            await gateway.close()
            await catalog.close()

    async def test_a_lost_invalidation_is_applied_when_redis_is_back_without_any_request(
            self, redis_url: str, proxy: TcpProxy) -> None:
        url, prefix = _through(redis_url, proxy), f"t-{uuid.uuid4().hex[:8]}:"
        catalog = RedisStore(url, prefix=prefix, guard=RedisGuard(url, timeout=0.1, failures=1, reset_seconds=0.2))
        observer = RedisStore(redis_url, prefix=prefix)
        try:
            before = await catalog.generations(["catalog"])
            await proxy.cut()  # refused this time
            with pytest.raises(RedisUnavailable):
                await catalog.bump(["catalog"])
            await proxy.restore()
            await poll_until(lambda: _changed(observer, before), timeout=10, message="the lost bump applied")
        finally:
            await catalog.close()
            await observer.close()


async def _served(reader: EntryReader) -> str | None:
    guard = reader.store.guard  # type: ignore[attr-defined]  # a RedisStore
    entry = await reader.get("page")
    if entry is not None:
        return "stale"
    return "miss" if guard.available else None


async def _changed(store: RedisStore, before: tuple[int, ...]) -> bool:
    return await store.generations(["catalog"]) != before


async def test_every_key_the_platform_writes_carries_its_prefix(redis_url: str) -> None:
    prefix = f"install-{uuid.uuid4().hex[:8]}:"
    settings = AtelierSettings(redis_url=redis_url, redis_key_prefix=prefix)
    store = RedisStore(redis_url, prefix=settings.cache_key_prefix)
    try:
        await rate_limiter(settings).hit("5/minute", "login-ip", "203.0.113.9")  # identity's (moving window)
        await rate_limiter(settings, moving_window=False).hit("5/minute", "ip:203.0.113.9")  # the gateway's
        await store.set("page", b"x", ttl=30)
        await store.generations(["catalog"])
        keys = sorted([k.decode() async for k in store.client.scan_iter(match=f"{prefix}*")])
        assert len(keys) == 4 and all(k.startswith(prefix) for k in keys), keys
        assert sum(k.startswith(f"{prefix}limits:") for k in keys) == 2, keys
    finally:
        keys = [k async for k in store.client.scan_iter(match=f"{prefix}*")]
        if keys:
            await store.client.delete(keys)
        await store.close()
