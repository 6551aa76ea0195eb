"""The gateway in process, in front of echo services: the harness of the gateway's own tests and of
the compatibility profiles' (`gateway/tests`, `libs/compat/tests`). The one module of the test kit
besides the platform launcher that may import the gateway (libs/common/tests/test_boundaries.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request

from atelier_common.keys import jwks as make_jwks
from atelier_common.responses import JSONBytes
from atelier_gateway.app import create_app
from atelier_gateway.settings import SERVICES, GatewaySettings
from atelier_gateway.upstream import AsgiUpstream, Upstream
from atelier_testing.bus import RecordingBus
from atelier_testing.tokens import TestKeys


def echo_service(name: str, keys: TestKeys) -> FastAPI:
    """A stand-in service that answers with what the gateway forwarded to it; `app.state.ready`
    decides its readiness, and `?public=1` answers as a shareable public read would."""
    app = FastAPI()
    app.state.ready = True

    @app.get("/.well-known/jwks.json")
    async def jwks() -> JSONBytes:
        return JSONBytes(json.loads(json.dumps(make_jwks(keys.access))))

    @app.get("/ready")
    async def ready(request: Request) -> JSONBytes:
        ok = request.app.state.ready
        return JSONBytes({"checks": {"db": "ok" if ok else "error"}}, status_code=200 if ok else 503)

    @app.get("/openapi.json")
    async def openapi() -> dict[str, Any]:
        return {"openapi": "3.1.0", "paths": {
            f"/api/v1/{name}-thing": {"get": {"operationId": f"{name}-get_thing", "responses": {"200": {
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}}},
            "/internal/secret": {"get": {}}},
            "components": {"schemas": {"Thing": {"type": "object"}}}}

    if name == "identity":
        @app.get("/internal/storefronts")
        async def storefronts() -> dict[str, Any]:
            return {"storefronts": []}  # none but the default, which every copy builds itself

        # API keys identity knows (secret → id, roles, storefronts), and the exchanges it answered.
        app.state.api_keys = {}
        app.state.exchanges = 0

        @app.post("/internal/api-keys/exchange")
        async def exchange(request: Request) -> JSONBytes:
            secret = (await request.json())["secret"]
            known = request.app.state.api_keys.get(secret)
            request.app.state.exchanges += 1
            if known is None:
                return JSONBytes({"error": {"code": "INVALID_TOKEN", "message": "no such key", "details": {}}},
                                 status_code=401)
            return JSONBytes({"access_token": keys.api_key_token(known["id"], known["roles"], known["storefronts"]),
                              "key_id": str(known["id"])})

    @app.api_route("/{path:path}", methods=["GET", "POST", "DELETE"])
    async def echo(path: str, request: Request) -> JSONBytes:
        headers = {"Cache-Control": "public, no-cache"} if request.query_params.get("public") else None
        return JSONBytes({"service": name, "path": request.url.path, "query": str(request.url.query),
                          "headers": dict(request.headers), "body": (await request.body()).decode()}, headers=headers)

    return app


@dataclass
class Gateway:
    client: httpx.AsyncClient
    bus: RecordingBus
    services: dict[str, FastAPI]
    keys: TestKeys
    app: FastAPI


StartGateway = Callable[..., AbstractAsyncContextManager[Gateway]]


def gateway_starter(keys: TestKeys, data_dir: Path, *, compat: Callable[[GatewaySettings], Any] | None = None) -> StartGateway:
    """`async with start(upstream=None, **settings) as gateway:` — a gateway in front of echo services
    (or `upstream`), its settings overridden by keyword; `compat` builds the compatibility mount from
    them (`atelier_compat.mount`, as the platform does)."""

    @asynccontextmanager
    async def start(upstream: Upstream | None = None, **overrides: Any) -> AsyncIterator[Gateway]:
        services: dict[str, Any] = {s: echo_service(s, keys) for s in SERVICES}
        mounts: dict[str, httpx.AsyncBaseTransport] = {
            f"http://{s}.internal": httpx.ASGITransport(app=a) for s, a in services.items()}
        fields: dict[str, Any] = {
            "environment": "test", "data_dir": data_dir, "anon_signing_key_pem": keys.anon.pem().decode(),
            "rate_limit_default": "30/minute", "rate_limit_per_ip": "30/minute",
            "rate_limit_credentials_per_ip": "3/minute",
            "service_urls": {s: f"http://{s}.internal" for s in SERVICES}, "log_json": False, **overrides}
        settings = GatewaySettings(**fields)
        bus = RecordingBus()
        app = create_app(settings, bus=bus, own_bus=True, upstream=upstream or AsgiUpstream(services),
                         http_mounts=mounts, **({"compat": compat(settings)} if compat is not None else {}))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 5000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                yield Gateway(client, bus, services, keys, app)

    return start
