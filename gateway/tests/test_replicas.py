"""A service run as several processes: the gateway's upstream spreads requests over them, sends a
request a process refused to a sibling, and one the process took and dropped only when repeating
it is safe. Every forward test runs in both positions of the `http1` fast path (`PooledUpstream`,
`HttpxUpstream`), against real local servers."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from starlette.types import Message

from atelier_common import fast
from atelier_common.fast.http1 import UpstreamUnavailable
from atelier_gateway import upstream as upstream_module
from atelier_gateway.settings import SERVICES
from atelier_gateway.upstream import Replicas, pooled_upstream
from atelier_testing.servers import closed_url, raw_service, read_request


@pytest.fixture(params=["all", "none"], ids=["fast", "plain"])
def fast_path(request: pytest.FixtureRequest) -> Any:
    fast.switch(request.param)
    yield request.param
    fast.switch(None)


class Process:
    """A service process written by hand: answers with its name, or reads a request and drops it
    unanswered (killed mid-request), counting the requests it read."""

    def __init__(self, name: str, *, drops: bool = False) -> None:
        self.name = name
        self.drops = drops
        self.requests = 0
        self.last = b""

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                self.last = await read_request(reader)
                self.requests += 1
                if self.drops:
                    break
                body = self.name.encode()
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: "
                             + str(len(body)).encode() + b"\r\n\r\n" + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


async def forward(upstream: Any, method: str = "GET", *, headers: list[tuple[bytes, bytes]] | None = None) -> bytes:
    """One forward to the service "svc", as the proxy makes it: the answer's body."""
    body = b"{}" if method == "POST" else b""
    sent = [(b"host", b"shop.example"), *(headers or [])]
    if body:
        sent.append((b"content-length", str(len(body)).encode()))
    scope = {"type": "http", "method": method, "path": "/api/v1/things", "query_string": b"", "headers": sent}
    messages: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        messages.append(message)

    await upstream.forward("svc", scope, receive, send, sent, lambda status, headers: None)
    assert messages[0]["status"] == 200
    return b"".join(m.get("body", b"") for m in messages[1:])


def spread(urls: list[str]) -> Any:
    return pooled_upstream({"svc": urls}, timeout=30, connections=10)


async def test_requests_are_spread_over_the_processes_in_turn(fast_path: str) -> None:
    a, b = Process("a"), Process("b")
    async with raw_service(a) as url_a, raw_service(b) as url_b:
        upstream = spread([url_a, url_b])
        answers = [await forward(upstream) for _ in range(6)]
        await upstream.close()
    assert answers == [b"a", b"b"] * 3


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_refused_connection_is_sent_to_a_sibling_whatever_the_method(fast_path: str, method: str) -> None:
    # Nothing was sent to the process that refused: even a POST without a key is safe to send on.
    alive = Process("alive")
    async with raw_service(alive) as url:
        upstream = spread([closed_url(), url])
        answers = [await forward(upstream, method) for _ in range(4)]
        await upstream.close()
    assert answers == [b"alive"] * 4 and alive.requests == 4


async def test_a_process_that_refused_is_passed_over_for_a_while(fast_path: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(upstream_module, "SKIP_REFUSED_SECONDS", 3600.0)
    first, second = Process("first"), Process("second")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    async with raw_service(second) as url:
        upstream = spread([f"http://127.0.0.1:{port}", url])
        assert await forward(upstream) == b"second"  # the first refused
        # It comes back on the same port; the gateway does not try it again before its time is up.
        server = await asyncio.start_server(first, "127.0.0.1", port)
        try:
            answers = [await forward(upstream) for _ in range(4)]
        finally:
            server.close()
        await upstream.close()
    assert answers == [b"second"] * 4 and first.requests == 0


@pytest.mark.parametrize(("method", "headers", "retried"), [
    ("GET", [], True),
    ("POST", [(b"idempotency-key", b"k1")], True),  # the service answers a key once
    ("POST", [], False),  # a POST without a key the first process may have acted on is never sent twice
])
async def test_a_request_a_process_dropped_after_it_was_sent_goes_to_a_sibling_only_when_safe(
        fast_path: str, method: str, headers: list[tuple[bytes, bytes]], retried: bool) -> None:
    dying, sibling = Process("dying", drops=True), Process("sibling")
    headers = [*headers, (b"x-request-timeout", b"30")]  # as the proxy sends it
    async with raw_service(dying) as url_dying, raw_service(sibling) as url_sibling:
        upstream = spread([url_dying, url_sibling])  # the first request goes to the first process
        if retried:
            assert await forward(upstream, method, headers=headers) == b"sibling"
            assert sibling.requests == 1
            # The sibling is told the time left of the request's deadline, not the whole of it again.
            told = next(line for line in sibling.last.split(b"\r\n") if line.startswith(b"x-request-timeout:"))
            assert told != b"x-request-timeout: 30" and 0 < float(told.split(b":")[1]) <= 30
        else:
            with pytest.raises(UpstreamUnavailable):
                await forward(upstream, method, headers=headers)
            assert sibling.requests == 0
        await upstream.close()
    assert dying.requests >= 1  # it had the request before it dropped it


async def test_a_request_is_tried_on_one_sibling_only(fast_path: str) -> None:
    drops = [Process(name, drops=True) for name in ("a", "b", "c")]
    async with raw_service(drops[0]) as a, raw_service(drops[1]) as b, raw_service(drops[2]) as c:
        upstream = spread([a, b, c])
        with pytest.raises(UpstreamUnavailable):
            await forward(upstream)
        await upstream.close()
    assert [p.requests > 0 for p in drops] == [True, True, False]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def test_replicas_take_turns_skip_one_that_refused_until_its_time_is_up(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(upstream_module, "time", clock)
    replicas = Replicas(["a", "b", "c"])
    assert [replicas.pick() for _ in range(4)] == [0, 1, 2, 0]
    replicas.refused(1)
    assert [replicas.pick() for _ in range(3)] == [2, 2, 0]  # b's turn goes to the next one up
    assert replicas.sibling(0) == 2
    clock.now += upstream_module.SKIP_REFUSED_SECONDS
    assert [replicas.pick() for _ in range(3)] == [1, 2, 0]


def test_replicas_try_one_all_the_same_when_every_one_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(upstream_module, "time", Clock())
    replicas = Replicas(["a", "b"])
    replicas.refused(0)
    replicas.refused(1)
    assert [replicas.pick() for _ in range(2)] == [0, 1]
    assert replicas.sibling(0) == 1


async def test_health_counts_a_service_healthy_while_one_of_its_processes_is(start_gateway: Any) -> None:
    urls: dict[str, Any] = {s: f"http://{s}.internal" for s in SERVICES}
    urls["catalog"] = [closed_url(), "http://catalog.internal"]
    async with start_gateway(service_urls=urls) as gateway:
        report = (await gateway.client.get("/api/health")).json()
    assert report["services"]["catalog"]["status"] == "healthy"
    assert report["services"]["catalog"]["processes"] == {"ready": 1, "of": 2}
    assert "processes" not in report["services"]["cart"]
