"""`/health` (the process is alive) and `/ready` (its database and broker answer)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request

from atelier_common.responses import JSONBytes

if TYPE_CHECKING:  # the runtime imports this module
    from atelier_common.service import Runtime


async def readiness(runtime: Runtime) -> dict[str, Any]:
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(runtime.db.ping(), 3)
        checks["db"] = "ok"
    except Exception as exc:
        checks["db"] = f"error: {type(exc).__name__}"
    try:
        checks["broker"] = "ok" if await asyncio.wait_for(runtime.bus.ready(), 3) else "error: not connected"
    except Exception as exc:
        checks["broker"] = f"error: {type(exc).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return {"status": "healthy" if healthy else "degraded", "checks": checks}


def health_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/ready")
    async def ready(request: Request) -> JSONBytes:
        report = await readiness(request.app.state.runtime)
        return JSONBytes(report, status_code=200 if report["status"] == "healthy" else 503)

    return router
