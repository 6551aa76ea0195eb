"""`http1.Transport`, the runtime's transport for plain-http calls between services, under httpx as
the services use it: what is sent and received, keep-alive, a streamed answer, httpx's timeouts and
errors, and the trace context carried on once tracing is set up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from opentelemetry import trace
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from atelier_common.http1 import Transport
from atelier_common.settings import AtelierSettings
from atelier_common.telemetry import TracedTransport, setup_tracing
from atelier_testing.servers import raw_service, read_request, uvicorn_service
from atelier_testing.spans import memory_spans


def service_app(release: asyncio.Event) -> Starlette:
    async def echo(request: Request) -> Response:
        assert request.client is not None
        return JSONResponse({"method": request.method, "path": request.url.path, "query": request.url.query,
                             "headers": dict(request.headers), "body": (await request.body()).decode(),
                             "client_port": request.client.port})

    async def slow(request: Request) -> Response:
        await release.wait()
        return JSONResponse({"late": True})

    async def stream(request: Request) -> Response:
        async def parts() -> AsyncIterator[bytes]:
            for i in range(50):
                yield b"%05d" % i * 2000  # 10 kB a part, 500 kB in all
        return StreamingResponse(parts(), media_type="application/octet-stream")

    return Starlette(routes=[Route("/slow", slow), Route("/stream", stream),
                             Route("/{path:path}", echo, methods=["GET", "POST", "PUT", "DELETE"])])


@pytest.fixture
async def service() -> AsyncIterator[tuple[str, asyncio.Event]]:
    release = asyncio.Event()
    async with uvicorn_service(service_app(release)) as url:
        yield url, release
        release.set()


def client(**kwargs: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(mounts={"http://": Transport()}, **kwargs)  # type: ignore[arg-type]  # keyword arguments passed through to httpx


async def test_a_call_sends_the_request_and_returns_the_answer(service: tuple[str, asyncio.Event]) -> None:
    url, _ = service
    async with client() as http:
        r = await http.post(f"{url}/internal/orders", params={"a": "1 2"}, json={"x": [1, 2]},
                            headers={"X-Service-Token": "secret"})
        assert r.status_code == 200
        body = r.json()
        assert body["method"] == "POST" and body["path"] == "/internal/orders" and body["query"] == "a=1+2"
        assert body["body"] == '{"x":[1,2]}'
        assert body["headers"]["x-service-token"] == "secret"
        assert body["headers"]["content-type"] == "application/json"
        assert body["headers"]["content-length"] == str(len(body["body"]))
        assert r.headers["content-type"] == "application/json"
        deleted = await http.delete(f"{url}/internal/thing")
        assert deleted.json()["method"] == "DELETE" and deleted.json()["body"] == ""


async def test_calls_in_turn_reuse_one_connection_and_parallel_ones_open_more(
        service: tuple[str, asyncio.Event]) -> None:
    url, _ = service
    async with client() as http:
        ports = {(await http.get(f"{url}/x")).json()["client_port"] for _ in range(5)}
        assert len(ports) == 1
        parallel = await asyncio.gather(*(http.get(f"{url}/x") for _ in range(4)))
        assert len({r.json()["client_port"] for r in parallel}) > 1


async def test_a_streamed_answer_arrives_whole_and_one_left_unread_is_not_reused(
        service: tuple[str, asyncio.Event]) -> None:
    url, _ = service
    async with client() as http:
        port = (await http.get(f"{url}/x")).json()["client_port"]
        r = await http.get(f"{url}/stream")
        assert len(r.content) == 500_000 and r.content.startswith(b"00000") and r.content.endswith(b"00049")
        # An answer read whole gives its connection back.
        assert (await http.get(f"{url}/x")).json()["client_port"] == port
        async with http.stream("GET", f"{url}/stream") as streamed:
            first = await anext(streamed.aiter_raw())
            assert first.startswith(b"00000")
        # The connection left mid-answer is closed, not handed to the next call.
        assert (await http.get(f"{url}/x")).json()["client_port"] != port


async def test_a_service_that_does_not_answer_in_time_is_httpx_read_timeout(
        service: tuple[str, asyncio.Event]) -> None:
    url, release = service
    async with client(timeout=httpx.Timeout(0.3)) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get(f"{url}/slow")
        release.set()
        assert (await http.get(f"{url}/slow")).json() == {"late": True}


async def test_a_refused_connection_is_httpx_connect_error() -> None:
    async with raw_service(lambda reader, writer: asyncio.sleep(0)) as url:
        pass  # closed: its port now refuses
    async with client() as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"{url}/x")


async def test_an_answer_cut_off_mid_body_is_an_httpx_error() -> None:
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"partial")
        await writer.drain()
        writer.close()

    async with raw_service(cut) as url, client() as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get(f"{url}/x")


async def test_https_is_left_to_httpx() -> None:
    with pytest.raises(httpx.UnsupportedProtocol):
        await Transport().handle_async_request(httpx.Request("GET", "https://example.invalid/"))


async def test_once_tracing_is_on_a_call_carries_the_trace_context(service: tuple[str, asyncio.Event]) -> None:
    url, _ = service
    spans = memory_spans()  # the process's provider, which `setup_tracing` keeps
    assert setup_tracing(AtelierSettings(environment="test"), "test")
    async with httpx.AsyncClient(mounts={"http://": TracedTransport(Transport())}) as http:
        with trace.get_tracer("test").start_as_current_span("caller") as caller:
            sent = (await http.get(f"{url}/x")).json()["headers"]
    assert sent["traceparent"].split("-")[1] == format(caller.get_span_context().trace_id, "032x")
    call = next(s for s in spans.get_finished_spans() if s.kind is trace.SpanKind.CLIENT)
    assert call.parent is not None and call.parent.span_id == caller.get_span_context().span_id
