"""A gateway in front of echo services, with the profiles its settings name mounted as the platform does."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from atelier_common.keys import jwks as make_jwks
from atelier_common.responses import JSONBytes
from atelier_compat import mount
from atelier_gateway.app import create_app
from atelier_gateway.settings import SERVICES, GatewaySettings
from atelier_gateway.upstream import AsgiUpstream, Upstream
from atelier_testing import RecordingBus, TestKeys


def echo_service(name: str, keys: TestKeys) -> FastAPI:
    """A stand-in service that answers with what the gateway forwarded to it."""
    app = FastAPI()

    @app.get("/.well-known/jwks.json")
    async def jwks() -> JSONBytes:
        return JSONBytes(json.loads(json.dumps(make_jwks(keys.access))))

    @app.api_route("/{path:path}", methods=["GET", "POST", "DELETE"])
    async def echo(path: str, request: Request) -> JSONBytes:
        return JSONBytes({"service": name, "path": request.url.path, "query": str(request.url.query),
                          "headers": dict(request.headers), "body": (await request.body()).decode()})

    return app


@dataclass
class Gateway:
    client: httpx.AsyncClient
    bus: RecordingBus
    services: dict[str, FastAPI]
    keys: TestKeys
    app: FastAPI


StartGateway = Callable[..., AbstractAsyncContextManager[Gateway]]


@pytest.fixture
def start_gateway(test_keys: TestKeys, tmp_path) -> StartGateway:
    """A gateway in front of echo services (or `upstream`); keyword arguments override its settings,
    and the compatibility mount is built from them (`atelier_compat.mount`, as `atelier_platform` does)."""

    @asynccontextmanager
    async def start(upstream: Upstream | None = None, **overrides: Any) -> AsyncIterator[Gateway]:
        services = {s: echo_service(s, test_keys) for s in SERVICES}
        mounts = {f"http://{s}.internal": httpx.ASGITransport(app=a) for s, a in services.items()}
        fields: dict[str, Any] = {
            "environment": "test", "data_dir": tmp_path, "anon_signing_key_pem": test_keys.anon.pem().decode(),
            "rate_limit_default": "30/minute", "rate_limit_per_ip": "30/minute",
            "rate_limit_credentials_per_ip": "3/minute",
            "service_urls": {s: f"http://{s}.internal" for s in SERVICES}, "log_json": False, **overrides}
        settings = GatewaySettings(**fields)
        bus = RecordingBus()
        app = create_app(settings, bus=bus, own_bus=True, upstream=upstream or AsgiUpstream(services),
                         http_mounts=mounts, compat=mount(settings))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 5000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                yield Gateway(client, bus, services, test_keys, app)

    return start


@pytest.fixture
async def gateway(start_gateway: StartGateway) -> AsyncIterator[Gateway]:
    async with start_gateway() as started:
        yield started
