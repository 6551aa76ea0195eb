"""The gateway's per-caller limit counted in each process and synced to Redis in the background:
no Redis call per allowed hit; a refusal is Redis's verdict (every process's hits counted); while
Redis is out each process counts alone (docs/redis.md)."""

from __future__ import annotations

import uuid

import pytest

from atelier_common.errors import RateLimited
from atelier_common.ratelimit import RateLimiter
from atelier_common.redisguard import RedisGuard

REFUSED = "redis://127.0.0.1:1/0"


class _CountingGuard(RedisGuard):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.calls = 0

    async def run(self, call):  # type: ignore[no-untyped-def]  # the same signature as the guard's
        self.calls += 1
        return await super().run(call)


def _limiters(redis_url: str, n: int) -> tuple[list[RateLimiter], list[_CountingGuard]]:
    prefix = f"t-{uuid.uuid4().hex[:8]}:"
    guards = [_CountingGuard(redis_url) for _ in range(n)]
    return [RateLimiter(redis_url, moving_window=False, guard=g, key_prefix=prefix, sync_seconds=60)
            for g in guards], guards


class TestSyncedLimiter:
    async def test_allowed_hits_make_no_redis_call(self, redis_url: str) -> None:
        [limiter], [guard] = _limiters(redis_url, 1)
        try:
            for _ in range(50):
                await limiter.hit("100/minute", "ip:203.0.113.9")
            assert guard.calls == 0
            await limiter.sync()
            assert guard.calls == 1  # one incr for the 50
        finally:
            await limiter.close()

    async def test_the_limit_is_shared_by_every_process_once_they_synced(self, redis_url: str) -> None:
        (one, two), _ = _limiters(redis_url, 2)
        try:
            for _ in range(6):
                await one.hit("10/minute", "ip:203.0.113.9")
            await one.sync()
            for _ in range(4):
                await two.hit("10/minute", "ip:203.0.113.9")  # two had not heard: counted locally
            await two.sync()  # Redis now holds 10
            with pytest.raises(RateLimited) as refused:
                await two.hit("10/minute", "ip:203.0.113.9")
            assert 1 <= int(refused.value.headers["Retry-After"]) <= 60
            # one has not heard since its sync: it allows until its next sync tells it the total
            # (the bounded excess of counting locally), then refuses.
            await one.hit("10/minute", "ip:203.0.113.9")
            await one.sync()
            with pytest.raises(RateLimited):
                await one.hit("10/minute", "ip:203.0.113.9")
            await one.hit("10/minute", "ip:198.51.100.1")  # another caller is not affected
        finally:
            await one.close()
            await two.close()

    async def test_a_local_refusal_asks_redis_first(self, redis_url: str) -> None:
        (one, two), _ = _limiters(redis_url, 2)
        try:
            for _ in range(3):
                await one.hit("3/minute", "ip:203.0.113.9")
            await one.sync()
            await two.hit("3/minute", "ip:203.0.113.9")  # two's local view: 1 of 3 (it never heard of one)
            await two.sync()  # Redis: 4 > 3
            with pytest.raises(RateLimited):
                await two.hit("3/minute", "ip:203.0.113.9")
        finally:
            await one.close()
            await two.close()

    async def test_while_redis_is_out_each_process_counts_alone(self) -> None:
        guard = RedisGuard(REFUSED, timeout=0.1, failures=1, reset_seconds=60)
        limiter = RateLimiter(REFUSED, moving_window=False, guard=guard, sync_seconds=60)
        try:
            for _ in range(3):
                await limiter.hit("3/minute", "ip:203.0.113.9")
            with pytest.raises(RateLimited) as refused:
                await limiter.hit("3/minute", "ip:203.0.113.9")
            assert 1 <= int(refused.value.headers["Retry-After"]) <= 60
        finally:
            await limiter.close()
