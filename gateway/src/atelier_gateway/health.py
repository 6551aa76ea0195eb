"""`/api/health`: every service's readiness (database, broker), gathered in parallel, and the
gateway's own links: the broker and Redis. Redis out makes the platform `degraded`, never down:
the services' `/ready` do not depend on it (docs/redis.md)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx

from atelier_common.redisguard import RedisGuard, RedisUnavailable


async def _service_ready(client: httpx.AsyncClient, service: str, base: str) -> tuple[str, dict[str, Any]]:
    try:
        response = await client.get(f"{base.rstrip('/')}/ready", timeout=3)
        body = response.json()
        return service, {"status": "healthy" if response.status_code == 200 else "degraded",
                         "checks": body.get("checks", {})}
    except (httpx.HTTPError, ValueError) as exc:
        return service, {"status": "unreachable", "checks": {"http": type(exc).__name__}}


async def redis_status(guard: RedisGuard, ping: Any) -> str:
    """"ok", or why not — at once while the guard's breaker is open (never waits on a dead Redis)."""
    try:
        await guard.run(ping)
        return "ok"
    except RedisUnavailable as exc:
        return f"error: {exc.__cause__.__class__.__name__ if exc.__cause__ else 'circuit open'}"


async def _service_health(client: httpx.AsyncClient, service: str, bases: str | list[str]) -> tuple[str, dict[str, Any]]:
    """One service's readiness; of a service run as several processes, healthy while one of them
    is (the gateway sends a request a process refused to a sibling), with how many are ready."""
    if isinstance(bases, str) or len(bases) == 1:
        return await _service_ready(client, service, bases if isinstance(bases, str) else bases[0])
    reports = [report for _, report in await asyncio.gather(*(_service_ready(client, service, b) for b in bases))]
    ready = [report for report in reports if report["status"] == "healthy"]
    return service, {**(ready[0] if ready else reports[0]), "processes": {"ready": len(ready), "of": len(bases)}}


async def platform_health(client: httpx.AsyncClient, urls: Mapping[str, str | list[str]], broker_ok: bool,
                          redis: str | None = None) -> dict[str, Any]:
    """`redis`: its status when the platform uses one (`redis_status`)."""
    results = dict(await asyncio.gather(*(_service_health(client, s, u) for s, u in urls.items())))
    healthy = broker_ok and redis in (None, "ok") and all(r["status"] == "healthy" for r in results.values())
    gateway = {"broker": "ok" if broker_ok else "error", **({"redis": redis} if redis is not None else {})}
    return {"status": "healthy" if healthy else "degraded", "gateway": gateway, "services": results}
