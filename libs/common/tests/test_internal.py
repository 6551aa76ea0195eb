"""Calls between services (`InternalApi.call`) against a real uvicorn, over the platform's own
HTTP/1.1 client (the `http1` fast path) and over httpx (the fast path off): the same answers, the
service credential and the request id on every call, idempotent calls retried on a 5xx, others
not, an unreachable service a `ServiceUnavailable`, and keep-alive connections reused."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from atelier_common import fast
from atelier_common.errors import ServiceUnavailable
from atelier_common.internal import InternalApi
from atelier_common.settings import AtelierSettings
from atelier_common.telemetry import request_id_var
from atelier_testing.servers import closed_url, uvicorn_service


@pytest.fixture(params=["all", "none"], ids=["http1", "httpx"])
def fast_path(request: pytest.FixtureRequest) -> Iterator[str]:
    fast.switch(request.param)
    yield request.param
    fast.switch(None)


def callee() -> FastAPI:
    app = FastAPI()
    app.state.failures = {}

    @app.api_route("/internal/echo", methods=["GET", "POST", "PUT", "DELETE"])
    async def echo(request: Request) -> dict[str, Any]:
        body = await request.body()
        return {"method": request.method, "token": request.headers.get("x-service-token"),
                "request_id": request.headers.get("x-request-id"), "query": dict(request.query_params),
                "content_type": request.headers.get("content-type"),
                "json": (await request.json()) if body else None,
                "client_port": request.client.port if request.client else None}

    @app.api_route("/internal/flaky/{key}", methods=["GET", "POST"])
    async def flaky(key: str, request: Request) -> JSONResponse:
        # Fails the first time each key is asked for.
        seen = app.state.failures.get(key, 0)
        app.state.failures[key] = seen + 1
        if seen == 0:
            return JSONResponse({"error": {"code": "busy", "message": "try again"}}, status_code=503)
        return JSONResponse({"calls": seen + 1})

    return app


@pytest.fixture
async def service() -> AsyncIterator[tuple[FastAPI, str]]:
    app = callee()
    async with uvicorn_service(app) as url:
        yield app, url


class Client(httpx.AsyncClient):
    """The runtime's client as the calls see it (`forward_request_id`), counting what went through it."""

    def __init__(self, mounts: dict[str, httpx.AsyncBaseTransport]) -> None:
        super().__init__(mounts=mounts)
        self.sent = 0
        self.event_hooks["request"].append(self.forward)

    async def forward(self, request: httpx.Request) -> None:
        self.sent += 1
        if (request_id := request_id_var.get()) is not None:
            request.headers["x-request-id"] = request_id


def api_for(url: str, *, mounted: dict[str, httpx.AsyncBaseTransport] | None = None) -> tuple[InternalApi, Client]:
    settings = AtelierSettings(environment="test", service_urls={"callee": url}, service_token="s3cret",
                               http_timeout_seconds=10)
    http = Client(mounted or {})
    return InternalApi(http, settings, mounted=mounted or {}), http


async def test_a_call_carries_the_credential_the_request_id_the_query_and_the_body(
        fast_path: str, service: tuple[FastAPI, str]) -> None:
    api, http = api_for(service[1])
    try:
        token = request_id_var.set("req-42")
        try:
            r = await api.call("callee", "POST", "/internal/echo", json={"ids": ["a", "b"], 7: "seven"},
                               params={"owner_id": "o 1", "limit": 5})
        finally:
            request_id_var.reset(token)
        assert r.status_code == 200
        got = r.json()
        assert got["method"] == "POST" and got["token"] == "s3cret" and got["request_id"] == "req-42"
        assert got["query"] == {"owner_id": "o 1", "limit": "5"}
        assert got["content_type"] == "application/json"
        assert got["json"] == {"ids": ["a", "b"], "7": "seven"}
        r = await api.call("callee", "GET", "/internal/echo")
        assert r.json()["request_id"] is None and r.json()["json"] is None and r.text.startswith("{")
        r.raise_for_status()  # an answer with its request, as httpx gives it (the storefront loader)
        with pytest.raises(httpx.HTTPStatusError):
            (await api.call("callee", "GET", "/internal/missing", retries=0)).raise_for_status()
        # The fast path's own client, or httpx when it is off.
        assert http.sent == (0 if fast_path == "all" else 3)
    finally:
        await api.aclose()
        await http.aclose()


async def test_keep_alive_connections_are_reused(fast_path: str, service: tuple[FastAPI, str]) -> None:
    api, http = api_for(service[1])
    try:
        ports = {(await api.call("callee", "GET", "/internal/echo")).json()["client_port"] for _ in range(5)}
        assert len(ports) == 1, ports
    finally:
        await api.aclose()
        await http.aclose()


async def test_an_idempotent_call_is_tried_again_after_a_5xx_and_a_post_is_not(
        fast_path: str, service: tuple[FastAPI, str]) -> None:
    app, url = service
    api, http = api_for(url)
    try:
        r = await api.call("callee", "GET", "/internal/flaky/get")
        assert r.status_code == 200 and r.json() == {"calls": 2}
        r = await api.call("callee", "POST", "/internal/flaky/post")
        assert r.status_code == 503 and app.state.failures["post"] == 1
    finally:
        await api.aclose()
        await http.aclose()


async def test_a_service_that_does_not_answer_is_unavailable(fast_path: str) -> None:
    async with uvicorn_service(callee()) as url:
        pass  # stopped: nothing listens on its port any more
    api, http = api_for(url)
    try:
        with pytest.raises(ServiceUnavailable):
            await api.call("callee", "GET", "/internal/echo", retries=1)
        with pytest.raises(ServiceUnavailable):
            await api.call("callee", "POST", "/internal/echo", json={})
    finally:
        await api.aclose()
        await http.aclose()


async def test_a_mounted_service_is_called_through_its_transport() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["x-service-token"])
        return httpx.Response(200, json={"mounted": True})

    api, http = api_for("http://callee.internal", mounted={"http://callee.internal": httpx.MockTransport(answer)})
    try:
        r = await api.call("callee", "GET", "/internal/anything")
        assert r.json() == {"mounted": True} and seen == ["s3cret"] and http.sent == 1
    finally:
        await api.aclose()
        await http.aclose()


async def test_a_service_of_several_processes_is_called_on_each_in_turn(fast_path: str) -> None:
    first, second = callee(), callee()
    async with uvicorn_service(first) as url_first, uvicorn_service(second) as url_second:
        settings = AtelierSettings(environment="test", service_urls={"callee": [url_first, url_second]},
                                   service_token="s3cret", http_timeout_seconds=10)
        http = Client({})
        api = InternalApi(http, settings)
        try:
            for key in ("a", "b", "c", "d"):
                # A failure on one process is retried on the other (an idempotent call).
                assert (await api.call("callee", "GET", f"/internal/flaky/{key}")).status_code == 200
        finally:
            await api.aclose()
            await http.aclose()
    assert sorted(first.state.failures) == sorted(second.state.failures) == ["a", "b", "c", "d"]


async def test_a_call_a_process_refused_goes_to_a_sibling_even_a_post(fast_path: str,
                                                                      service: tuple[FastAPI, str]) -> None:
    settings = AtelierSettings(environment="test", service_urls={"callee": [closed_url(), service[1]]},
                               service_token="s3cret", http_timeout_seconds=10)
    http = Client({})
    api = InternalApi(http, settings)
    try:
        answers = [await api.call("callee", "POST", "/internal/echo", json={"n": n}) for n in range(2)]
    finally:
        await api.aclose()
        await http.aclose()
    assert [(r.status_code, r.json()["json"]) for r in answers] == [(200, {"n": 0}), (200, {"n": 1})]


def test_a_service_url_is_a_list_of_one_however_the_settings_were_made() -> None:
    made = AtelierSettings(environment="test", service_urls={"a": "http://a:1", "b": ["http://b:1", "http://b:2"]})
    assert made.service_urls == {"a": ["http://a:1"], "b": ["http://b:1", "http://b:2"]}
    # `model_copy(update=...)` (the embedded mode's settings) skips validation: a string stays one.
    copied = made.model_copy(update={"service_urls": {"a": "http://a:9"}})
    assert copied.service_base_urls("a") == ["http://a:9"]
    assert made.service_base_urls("b") == ["http://b:1", "http://b:2"]
    assert made.service_base_urls("c") == ["http://c.internal"]
