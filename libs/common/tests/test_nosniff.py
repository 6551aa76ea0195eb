"""Every answer of an Atelier app says `X-Content-Type-Options: nosniff`: a route's,
an error's (the service's own, a validation error, an unknown path) and an unexpected error's,
which the error middleware outside every `add_middleware` layer answers itself."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from atelier_common.errors import NotFound, install_error_handlers
from atelier_common.responses import App, JSONBytes


def _app() -> FastAPI:
    app = App()
    install_error_handlers(app)

    @app.get("/ok")
    async def ok() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/said")
    async def said() -> JSONBytes:  # an answer that says it already keeps its one header
        return JSONBytes({}, headers={"X-Content-Type-Options": "nosniff"})

    @app.get("/missing")
    async def missing() -> None:
        raise NotFound()

    @app.get("/number/{n}")
    async def number(n: int) -> dict[str, int]:
        return {"n": n}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("unexpected")

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # The error middleware re-raises after answering: the client takes the answer, not the exception.
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


@pytest.mark.parametrize(("path", "status"), [
    ("/ok", 200), ("/missing", 404), ("/number/x", 400), ("/nowhere", 404), ("/boom", 500)])
async def test_every_answer_says_nosniff(client: httpx.AsyncClient, path: str, status: int) -> None:
    response = await client.get(path)
    assert response.status_code == status, response.text
    assert response.headers.get_list("x-content-type-options") == ["nosniff"]


async def test_an_answer_that_says_it_already_says_it_once(client: httpx.AsyncClient) -> None:
    assert (await client.get("/said")).headers.get_list("x-content-type-options") == ["nosniff"]

