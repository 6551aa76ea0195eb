"""`/api/health`: every service's readiness (database, broker), gathered in parallel."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx


async def _service_ready(client: httpx.AsyncClient, service: str, base: str) -> tuple[str, dict[str, Any]]:
    try:
        response = await client.get(f"{base.rstrip('/')}/ready", timeout=3)
        body = response.json()
        return service, {"status": "healthy" if response.status_code == 200 else "degraded",
                         "checks": body.get("checks", {})}
    except (httpx.HTTPError, ValueError) as exc:
        return service, {"status": "unreachable", "checks": {"http": type(exc).__name__}}


async def platform_health(client: httpx.AsyncClient, urls: dict[str, str], broker_ok: bool) -> dict[str, Any]:
    results = dict(await asyncio.gather(*(_service_ready(client, s, u) for s, u in urls.items())))
    healthy = broker_ok and all(r["status"] == "healthy" for r in results.values())
    return {"status": "healthy" if healthy else "degraded",
            "gateway": {"broker": "ok" if broker_ok else "error"}, "services": results}
