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


class TestCountingOutcomes:
    """A rule that counts only some outcomes (identity's failed sign-ins): look without counting,
    count after, forget; shared by every process through Redis, each process's own while it is out."""

    async def test_looking_counts_nothing_and_adding_never_refuses(self) -> None:
        limiter = RateLimiter()
        assert (await limiter.window("2/minute", "k")).count == 0
        await limiter.check("2/minute", "k")
        assert await limiter.add("2/minute", "k") and await limiter.add("2/minute", "k")
        assert not await limiter.add("2/minute", "k")  # full: not counted, not refused
        window = await limiter.window("2/minute", "k")
        assert (window.count, window.full) == (2, True) and 1 <= window.retry_after <= 60
        with pytest.raises(RateLimited) as refused:
            await limiter.check("2/minute", "k")
        assert refused.value.headers["Retry-After"] == str(refused.value.details["retry_after"])
        await limiter.check("2/minute", "other")  # other keys are not affected

    async def test_clearing_forgets_the_keys_count(self) -> None:
        limiter = RateLimiter()
        for _ in range(2):
            await limiter.add("2/minute", "k")
        await limiter.clear("2/minute", "k")
        assert (await limiter.window("2/minute", "k")).count == 0
        await limiter.check("2/minute", "k")

    async def test_every_process_sees_the_counts_through_redis(self, redis_url: str) -> None:
        prefix = f"t-{uuid.uuid4().hex[:8]}:"
        one, two = (RateLimiter(redis_url, guard=RedisGuard(redis_url), key_prefix=prefix) for _ in range(2))
        try:
            await one.add("2/minute", "k")
            await two.add("2/minute", "k")
            with pytest.raises(RateLimited):
                await one.check("2/minute", "k")
            await two.clear("2/minute", "k")
            await one.check("2/minute", "k")
            assert (await one.window("2/minute", "k")).count == 0
        finally:
            await one.close()
            await two.close()

    async def test_while_redis_is_out_the_process_counts_alone(self) -> None:
        limiter = RateLimiter(REFUSED, guard=RedisGuard(REFUSED, timeout=0.1, failures=1, reset_seconds=60))
        await limiter.add("1/minute", "k")
        with pytest.raises(RateLimited):
            await limiter.check("1/minute", "k")
        await limiter.clear("1/minute", "k")
        await limiter.check("1/minute", "k")
