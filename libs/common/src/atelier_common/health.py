"""`/health` (the process is alive) and `/ready` (its database and broker answer), on the API
(`health_router`) and on the processes without one (`ProcessObservability`'s listener)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

import orjson
from fastapi import APIRouter, Request

from atelier_common import metrics
from atelier_common.db import Database
from atelier_common.events.bus import EventBus
from atelier_common.outbox import OutboxRelay
from atelier_common.responses import JSONBytes
from atelier_common.settings import AtelierSettings

log = logging.getLogger("atelier.health")


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class Runtime(Protocol):
    """What the probes read of a running service (`atelier_common.service.Runtime`, which imports
    this module: a protocol here, not that class, so the two modules do not import each other)."""

    @property
    def spec(self) -> _Named: ...
    @property
    def settings(self) -> AtelierSettings: ...
    @property
    def roles(self) -> frozenset[str]: ...
    @property
    def db(self) -> Database: ...
    @property
    def bus(self) -> EventBus: ...
    @property
    def relay(self) -> OutboxRelay: ...


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


class ProcessObservability:
    """What every process role of a service exposes besides its work: the gauges refreshed at
    scrape time (outbox backlog and age; queue and dead-letter depths of its consumers) and, in a
    process without the API (relay, consumer, worker), a tiny HTTP listener on `probe_port` for
    `/health`, `/ready` and `/metrics` (Kubernetes probes and Prometheus)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.server: asyncio.Server | None = None
        self._unregister: Any = None

    @property
    def port(self) -> int | None:
        if self.server is None or not self.server.sockets:
            return None
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        self._unregister = metrics.register_refresh(self.refresh)
        settings = self.runtime.settings
        if "api" not in self.runtime.roles and settings.probe_port:
            self.server = await asyncio.start_server(self._handle, settings.probe_host, settings.probe_port)
            log.info("probes on http://%s:%s (/health, /ready, /metrics)", settings.probe_host, self.port)

    async def close(self) -> None:
        if self._unregister is not None:
            self._unregister()
            self._unregister = None
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    async def refresh(self) -> None:
        runtime, roles = self.runtime, self.runtime.roles
        if roles & {"api", "relay"}:
            count, age = await runtime.relay.backlog()
            metrics.OUTBOX_BACKLOG.labels(runtime.spec.name).set(count)
            metrics.OUTBOX_OLDEST_AGE.labels(runtime.spec.name).set(age)
        depths = getattr(runtime.bus, "queue_depths", None)
        if depths is not None and roles & {"consumer", "worker"}:
            for consumer, queues in (await depths()).items():
                for kind, count in queues.items():
                    if kind == "dlq":
                        metrics.DLQ_MESSAGES.labels(consumer).set(count)
                    else:
                        metrics.QUEUE_MESSAGES.labels(consumer, kind).set(count)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(10):
                request_line = await reader.readline()
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    del line  # headers are not needed
                parts = request_line.decode("latin-1").split()
                path = parts[1].split("?", 1)[0] if len(parts) >= 2 else ""
                status, body, content_type = await self._answer(parts[0] if parts else "", path)
                reason = {200: "OK", 404: "Not Found", 405: "Method Not Allowed"}.get(status, "Service Unavailable")
                writer.write(f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
                             f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
                await writer.drain()
        except Exception as exc:  # a probe never takes the process down
            log.debug("probe request failed: %s", exc)
        finally:
            writer.close()

    async def _answer(self, method: str, path: str) -> tuple[int, bytes, str]:
        json_type = "application/json"
        if method not in ("GET", "HEAD"):
            return 405, b'{"status":"method not allowed"}', json_type
        if path == "/health":
            return 200, orjson.dumps({"status": "ok", "roles": sorted(self.runtime.roles)}), json_type
        if path == "/ready":
            report = await readiness(self.runtime)
            return (200 if report["status"] == "healthy" else 503), orjson.dumps(report), json_type
        if path == "/metrics":
            return 200, await metrics.render(), metrics.CONTENT_TYPE
        return 404, b'{"status":"not found"}', json_type
