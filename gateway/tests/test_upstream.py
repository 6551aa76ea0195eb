"""The distributed mode's upstream against real local servers: what is forwarded, what comes back,
keep-alive, streaming and every way a service fails. Every test runs in both positions of the
`http1` fast path: `PooledUpstream` over `fast/http1.py`, and `HttpxUpstream` with it off."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Message

from atelier_common import fast
from atelier_common.fast.http1 import UpstreamBroken, UpstreamUnavailable
from atelier_gateway.upstream import Upstream, pooled_upstream
from atelier_testing import assert_error, poll_until
from atelier_testing.servers import Handler, raw_service, read_request, uvicorn_service


@pytest.fixture(autouse=True, params=["all", "none"], ids=["fast", "plain"])
def fast_path(request: pytest.FixtureRequest) -> Any:
    fast.switch(request.param)
    yield request.param
    fast.switch(None)


def service_app(release: asyncio.Event) -> Starlette:
    async def echo(request: Request) -> Response:
        assert request.client is not None
        return JSONResponse({"method": request.method, "raw_path": request.scope["raw_path"].decode(),
                             "query": request.scope["query_string"].decode(), "headers": dict(request.headers),
                             "body": (await request.body()).decode(), "client_port": request.client.port},
                            headers={"x-from": "service", "connection": "keep-alive"})

    async def stream(request: Request) -> Response:
        async def events() -> AsyncIterator[bytes]:
            yield b"data: first\n\n"
            await release.wait()
            yield b"data: second\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    async def ticking(request: Request) -> Response:
        async def ticks() -> AsyncIterator[bytes]:
            for _ in range(int(request.query_params["n"])):
                yield b": keep-alive\n\n"
                await asyncio.sleep(float(request.query_params["every"]))
            yield b"data: done\n\n"

        return StreamingResponse(ticks(), media_type="text/event-stream")

    async def sized(request: Request) -> Response:
        return Response(_pattern(int(request.path_params["n"])), media_type="image/png")

    return Starlette(routes=[Route("/stream", stream), Route("/ticks", ticking), Route("/bytes/{n:int}", sized),
                             Route("/{path:path}", echo, methods=["GET", "POST", "HEAD", "DELETE"])])


def _pattern(n: int) -> bytes:
    return (bytes(range(256)) * (n // 256 + 1))[:n]


OK = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok"


class Call:
    """One `forward` as the gateway's proxy makes it, with what it sent back."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.started: list[tuple[int, list[tuple[bytes, bytes]]]] = []
        self.first_body = asyncio.Event()

    async def send(self, message: Message) -> None:
        self.messages.append(message)
        if message["type"] == "http.response.body":
            self.first_body.set()

    def on_start(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        self.started.append((status, headers))

    @property
    def status(self) -> int:
        return int(self.messages[0]["status"])

    @property
    def headers(self) -> dict[bytes, bytes]:
        return dict(self.messages[0]["headers"])

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages[1:])


async def forward(upstream: Any, method: str = "GET", path: str = "/api/v1/things", *,
                  query: bytes = b"", body: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None,
                  call: Call | None = None) -> Call:
    headers = [(b"host", b"shop.example"), *(headers or [])]
    if body:
        headers.append((b"content-length", str(len(body)).encode()))
    scope: dict[str, Any] = {"type": "http", "method": method, "path": path, "query_string": query, "headers": headers}
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if delivered:
            await asyncio.Event().wait()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    call = call or Call()
    await upstream.forward("svc", scope, receive, call.send, headers, call.on_start)
    return call


def pooled(url: str, *, timeout: float = 30) -> Any:
    return pooled_upstream({"svc": url}, timeout=timeout, connections=10)


async def test_the_request_and_the_answer_pass_through_whole() -> None:
    async with uvicorn_service(service_app(asyncio.Event())) as url:
        upstream = pooled(url)
        body = json.dumps({"product_id": "p1", "quantity": 2}).encode()
        call = await forward(upstream, "POST", "/api/v1/products/café 1", query=b"a=1&b=%20x", body=body,
                             headers=[(b"content-type", b"application/json"), (b"x-request-id", b"r1")])
        await upstream.close()
    seen = json.loads(call.body)
    assert call.status == 200 and seen["method"] == "POST"
    assert seen["raw_path"] == "/api/v1/products/caf%C3%A9%201" and seen["query"] == "a=1&b=%20x"
    assert seen["body"] == body.decode() and seen["headers"]["content-length"] == str(len(body))
    assert seen["headers"]["host"] == "shop.example" and seen["headers"]["x-request-id"] == "r1"
    assert call.headers[b"x-from"] == b"service" and b"connection" not in call.headers
    # uvicorn stamps Date and Server on the service's answer; the gateway's own server stamps its
    # own, so the service's would make each header appear twice.
    names = [name for name, _ in call.messages[0]["headers"]]
    assert b"date" not in names and b"server" not in names
    assert call.started[0][0] == 200  # the proxy saw the head before it went out
    # One body message for a small answer of known length.
    assert [m["type"] for m in call.messages] == ["http.response.start", "http.response.body"]


async def test_a_connection_is_kept_alive_and_used_again() -> None:
    async with uvicorn_service(service_app(asyncio.Event())) as url:
        upstream = pooled(url)
        ports = [json.loads((await forward(upstream)).body)["client_port"] for _ in range(3)]
        await upstream.close()
    assert len(set(ports)) == 1


async def test_concurrent_requests_each_get_their_own_answer() -> None:
    async with uvicorn_service(service_app(asyncio.Event())) as url:
        upstream = pooled(url)
        calls = await asyncio.gather(*(forward(upstream, path=f"/n/{i}") for i in range(30)))
        await upstream.close()
    assert [json.loads(c.body)["raw_path"] for c in calls] == [f"/n/{i}" for i in range(30)]


@pytest.mark.parametrize("size", [1_000, 100_000, 900_000, 3_000_000])
async def test_an_answer_of_known_length_passes_through_whole_at_any_size(size: int) -> None:
    # Sizes on each side of the two thresholds: the reader's pause (64 KiB waiting to be passed on)
    # and streaming (over 1 MiB). An answer read whole must not pause its own reading.
    async with uvicorn_service(service_app(asyncio.Event())) as url:
        upstream = pooled(url, timeout=10)
        call = await forward(upstream, path=f"/bytes/{size}")
        again = await forward(upstream, path="/bytes/10")  # and the connection is still usable
        await upstream.close()
    assert call.status == 200 and call.body == _pattern(size)
    assert again.status == 200 and again.body == _pattern(10)


async def test_a_stream_arrives_as_the_service_writes_it() -> None:
    release = asyncio.Event()
    async with uvicorn_service(service_app(release)) as url:
        upstream = pooled(url)
        call = Call()
        task = asyncio.create_task(forward(upstream, path="/stream", call=call))
        await asyncio.wait_for(call.first_body.wait(), 30)
        assert call.body == b"data: first\n\n"  # before the service has written the rest
        release.set()
        await task
        await upstream.close()
    assert call.body == b"data: first\n\ndata: second\n\n" and call.messages[-1]["more_body"] is False


async def test_a_stream_may_last_longer_than_the_timeout_while_it_keeps_writing() -> None:
    # An SSE stream of a long job: the timeout bounds the wait for the head and each stall, not the
    # whole stream (here 15 writes 0.1 s apart against a 1 s timeout).
    async with uvicorn_service(service_app(asyncio.Event())) as url:
        upstream = pooled(url, timeout=1)
        call = await forward(upstream, path="/ticks", query=b"n=15&every=0.1")
        await upstream.close()
    assert call.status == 200 and call.body == b": keep-alive\n\n" * 15 + b"data: done\n\n"


async def test_a_stream_that_stalls_longer_than_the_timeout_breaks_the_client_connection() -> None:
    async with uvicorn_service(service_app(asyncio.Event())) as url:  # never released after "first"
        upstream = pooled(url, timeout=0.5)
        call = Call()
        with pytest.raises(UpstreamBroken):
            await forward(upstream, path="/stream", call=call)
        await upstream.close()
    assert call.status == 200 and call.body == b"data: first\n\n"


async def test_a_head_answer_has_no_body_and_the_next_request_still_works() -> None:
    async with uvicorn_service(service_app(asyncio.Event())) as url:
        upstream = pooled(url)
        head = await forward(upstream, "HEAD")
        after = await forward(upstream)
        await upstream.close()
    assert head.status == 200 and head.body == b"" and int(head.headers[b"content-length"]) > 0
    assert json.loads(after.body)["method"] == "GET"


async def test_a_connection_the_service_closed_while_idle_is_not_used(fast_path: str) -> None:
    if fast_path == "none":
        pytest.skip("watches the pool's idle connections (httpx checks one before it reuses it)")
    connections = 0

    async def answer_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await read_request(reader)
        writer.write(OK)
        await writer.drain()
        writer.close()  # keep-alive announced, then the connection closed (a restart, a timeout)

    async with raw_service(answer_once) as url:
        upstream = pooled(url)
        first = await forward(upstream)
        idle = upstream.pools["svc"]._idle

        async def seen_closed() -> bool:
            return all(connection.closed for connection in idle)

        await poll_until(seen_closed, message="the pooled connection seen closed")
        second = await forward(upstream, "POST", body=b"{}")
        await upstream.close()
    assert first.body == second.body == b"ok" and connections == 2


@pytest.mark.parametrize(("method", "headers", "retried"), [
    ("GET", [], True),
    ("POST", [(b"idempotency-key", b"k1")], True),
    ("POST", [], False),  # a POST without a key is never sent twice
])
async def test_a_request_the_service_dropped_unanswered_is_sent_again_only_when_that_is_safe(
        method: str, headers: list[tuple[bytes, bytes]], retried: bool) -> None:
    requests = 0

    async def drop_the_second_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # The first connection answers once, then reads the next request and closes unanswered:
        # the race of a keep-alive timeout against a request sent on it.
        nonlocal requests
        requests += 1
        await read_request(reader)
        if requests == 1:
            writer.write(OK)
            await writer.drain()
            await read_request(reader)
            requests += 1
        else:
            writer.write(OK)
            await writer.drain()
        writer.close()

    async with raw_service(drop_the_second_request) as url:
        upstream = pooled(url)
        await forward(upstream)
        if retried:
            call = await forward(upstream, method, body=b"{}", headers=headers)
            assert call.body == b"ok" and requests == 3
        else:
            with pytest.raises(UpstreamUnavailable):
                await forward(upstream, method, body=b"{}", headers=headers)
            assert requests == 2
        await upstream.close()


async def test_a_refused_connection_is_unavailable() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there
    with pytest.raises(UpstreamUnavailable):
        await forward(pooled(f"http://127.0.0.1:{port}"))


async def test_a_service_that_does_not_answer_in_time_times_out_and_its_connection_is_dropped() -> None:
    connections = 0

    async def answer_late(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await read_request(reader)
        if connections == 1:
            await reader.read()  # never answers; its connection must not be used again
        else:
            writer.write(OK)
            await writer.drain()
        writer.close()

    async with raw_service(answer_late) as url:
        upstream = pooled(url, timeout=0.3)
        with pytest.raises(TimeoutError):
            await forward(upstream)
        upstream.timeout = 30
        assert (await forward(upstream)).body == b"ok" and connections == 2
        await upstream.close()


def answering(raw: bytes) -> Handler:
    """A service that reads a request, writes `raw` and closes the connection."""
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(raw)
        await writer.drain()
        writer.close()

    return answer


async def test_an_answer_cut_short_before_it_was_passed_on_is_unavailable() -> None:
    async with raw_service(answering(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly ten..")) as url:
        call = Call()
        with pytest.raises(UpstreamUnavailable):
            await forward(pooled(url), call=call)
    assert call.messages == []  # nothing half-sent: the proxy answers 503


async def test_a_stream_cut_short_after_it_started_breaks_the_client_connection() -> None:
    async with raw_service(answering(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nfirst\r\n")) as url:
        call = Call()
        with pytest.raises(UpstreamBroken):
            await forward(pooled(url), call=call)
    assert call.status == 200 and call.body == b"first"


async def test_an_answer_that_is_not_http_is_unavailable() -> None:
    async with raw_service(answering(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")) as url:
        with pytest.raises(UpstreamUnavailable):
            await forward(pooled(url))


async def test_through_the_gateway_a_service_down_is_a_503_and_a_slow_one_a_504(start_gateway) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    closed_port = sock.getsockname()[1]
    sock.close()

    async def never_answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    async with raw_service(never_answers) as slow:
        upstream: Upstream = pooled_upstream({"cart": f"http://127.0.0.1:{closed_port}", "catalog": slow},
                                             timeout=0.3, connections=10)
        async with start_gateway(upstream=upstream) as gateway:
            down = await gateway.client.get("/api/v1/cart")
            late = await gateway.client.get("/api/v1/products")
    assert_error(down, 503, "SERVICE_UNAVAILABLE")
    assert_error(late, 504, "GATEWAY_TIMEOUT")
