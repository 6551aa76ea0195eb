"""Redis is a cache, never a single point of failure: every Redis call of the platform goes through
a `RedisGuard` (one per Redis URL in a process, shared by its users: the response cache and the
rate limiters).

- **Timeouts.** The clients are built with `client_options()`: the library's own connect and
  command timeouts (`redis_timeout_seconds`, 100 ms by default) and no retries, so a refused
  Redis fails at once and a blackholed one (connections that never answer) within the timeout.
  The whole call (hooks included) is also bounded by five times that.
- **Circuit breaker.** After `redis_breaker_failures` failures in a row the guard opens: calls fail
  at once with `RedisUnavailable`, without touching the network, and each user takes its fallback
  (docs/redis.md). Every `redis_breaker_reset_seconds` one caller is let through as a probe; before
  its own call runs, the recovery hooks run (the cache bumps every invalidation counter of its
  prefix, since invalidations were lost while Redis was out), and only when they succeed does the
  guard close again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from atelier_common.settings import AtelierSettings

log = logging.getLogger("atelier.redis")

T = TypeVar("T")
RecoveryHook = Callable[[], Awaitable[None]]


class RedisUnavailable(Exception):
    """Redis did not answer in time, refused, or the breaker is open: take the fallback."""


class RedisGuard:
    def __init__(self, url: str, *, timeout: float = 0.1, failures: int = 3, reset_seconds: float = 2.0) -> None:
        self.url = url
        self.timeout = timeout
        self.failures = failures
        self.reset_seconds = reset_seconds
        self._failed = 0
        self._open_until: float | None = None  # set while open: no call before this monotonic time
        self._probing = False
        self._hooks: list[RecoveryHook] = []
        self.last_error = ""
        self.failed_calls = 0  # calls that went to Redis and failed, ever (what the breaker spares)

    @property
    def available(self) -> bool:
        """Closed: calls go to Redis."""
        return self._open_until is None

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for `coredis.Redis` (directly, or through `limits`' storage options)."""
        from coredis.retry import NoRetryPolicy

        return {"connect_timeout": self.timeout, "stream_timeout": self.timeout, "retry_policy": NoRetryPolicy()}

    def on_recover(self, hook: RecoveryHook) -> Callable[[], None]:
        """`hook` runs when Redis answers again after the breaker opened, before any other call is
        let through; returns its removal."""
        self._hooks.append(hook)
        return lambda: self._hooks.remove(hook) if hook in self._hooks else None

    async def run(self, call: Callable[[], Awaitable[T]]) -> T:
        """`call()`'s result, or `RedisUnavailable` (at once while the breaker is open)."""
        probe = False
        if self._open_until is not None:
            if self._probing or time.monotonic() < self._open_until:
                raise RedisUnavailable(f"Redis at {self._where} is out ({self.last_error}); circuit open")
            self._probing = probe = True
        try:
            # The library's timeouts bound each connect and each reply; this bounds the whole call
            # (several round trips, a wait for a pooled connection) should anything else stall.
            async with asyncio.timeout(self.timeout * 5):
                if probe:
                    for hook in list(self._hooks):
                        await hook()
                result = await call()
        except Exception as exc:
            self._failure(exc)
            raise RedisUnavailable(f"Redis at {self._where}: {type(exc).__name__}: {exc}") from exc
        finally:
            if probe:
                self._probing = False
        self._success()
        return result

    def _failure(self, exc: Exception) -> None:
        self.last_error = type(exc).__name__
        self._failed += 1
        self.failed_calls += 1
        if self._open_until is not None or self._failed >= self.failures:
            if self._open_until is None:
                log.error("Redis at %s is out (%s: %s): running without it; retrying every %ss",
                          self._where, type(exc).__name__, exc, self.reset_seconds)
            self._open_until = time.monotonic() + self.reset_seconds

    def _success(self) -> None:
        if self._open_until is not None:
            log.warning("Redis at %s answers again", self._where)
        self._failed = 0
        self._open_until = None
        self.last_error = ""

    @property
    def _where(self) -> str:
        return self.url.rsplit("@", 1)[-1]  # never the password


# One guard per Redis URL (and tuning) in a process: every user of that Redis sees one breaker.
_GUARDS: dict[tuple[str, float, int, float], RedisGuard] = {}


def guard_for(settings: AtelierSettings, url: str) -> RedisGuard:
    key = (url, settings.redis_timeout_seconds, settings.redis_breaker_failures, settings.redis_breaker_reset_seconds)
    guard = _GUARDS.get(key)
    if guard is None:
        guard = _GUARDS[key] = RedisGuard(url, timeout=settings.redis_timeout_seconds,
                                          failures=settings.redis_breaker_failures,
                                          reset_seconds=settings.redis_breaker_reset_seconds)
    return guard
