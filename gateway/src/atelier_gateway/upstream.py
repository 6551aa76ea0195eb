"""How the gateway reaches services: pooled HTTP/1.1 connections (the `http1` fast path of
`atelier_common.fast`, or httpx with it off), or ASGI calls in one process.

All stream the response body back as it arrives. A service run as several processes (several base
URLs in `service_urls`) gets its requests in turn (`Replicas`); a request one of them could not
take is sent once to a sibling, within the same deadline, when that is safe: always when no
connection could be made (nothing was sent), otherwise only for a request that may be repeated
(GET, HEAD, OPTIONS, PUT, DELETE, or one with an `Idempotency-Key`, which the services answer once).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import quote

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atelier_common import fast
from atelier_common.fast.http1 import (
    IDLE_SECONDS,
    Pool,
    Response,
    UpstreamBroken,
    UpstreamRefused,
    UpstreamUnavailable,
    retryable,
    serialise,
)
from atelier_common.tls import client_tls

HOP_BY_HOP = {
    b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te", b"trailers",
    b"transfer-encoding", b"upgrade",
    # The edge has read the body whole: the service is sent it at once, without waiting for a 100.
    b"expect",
}
# What the gateway's own HTTP server writes on every answer: the service's copy would make a
# second Date and a second Server header.
STAMPED_BY_EDGE = {b"date", b"server"}
NOT_PASSED_BACK = HOP_BY_HOP | STAMPED_BY_EDGE
STREAM_BODY_OVER = 1 << 20
OnStart = Callable[[int, list[tuple[bytes, bytes]]], None]


# How long a process that refused a connection gets no request (passive health): long enough that
# a dead one costs its siblings' requests no refused connect each, short enough that a restarted one
# is back in turn within seconds (`atelier up` restarts a child within a second or so).
SKIP_REFUSED_SECONDS = 2.0

Member = TypeVar("Member")


class Replicas(Generic[Member]):
    """The processes of one service (a pool or a client each), taken in turn; one that refused a
    connection is passed over for `SKIP_REFUSED_SECONDS`, unless every one did lately."""

    __slots__ = ("_skip_until", "_turn", "members")

    def __init__(self, members: Sequence[Member]) -> None:
        self.members = list(members)
        self._turn = 0
        self._skip_until = [0.0] * len(self.members)

    def pick(self) -> int:
        """The index of the process to send the next request to."""
        turn = self._turn
        self._turn = turn + 1
        return self._next_up(turn % len(self.members))

    def sibling(self, index: int) -> int:
        """Another process than `index` to send its request to once more."""
        return self._next_up((index + 1) % len(self.members), avoid=index)

    def refused(self, index: int) -> None:
        self._skip_until[index] = time.monotonic() + SKIP_REFUSED_SECONDS

    def _next_up(self, start: int, avoid: int = -1) -> int:
        count = len(self.members)
        skip_until = self._skip_until
        now = time.monotonic()
        for step in range(count):
            index = (start + step) % count
            if index != avoid and skip_until[index] <= now:
                return index
        return start  # every other one refused lately: try it all the same


def with_time_left(headers: list[tuple[bytes, bytes]], started: float, timeout: float) -> list[tuple[bytes, bytes]]:
    """`headers` for a sibling's try: `X-Request-Timeout` says the time left of the request's
    deadline, by which the service must answer (an idempotency key's lease ends then too)."""
    left = f"{max(0.0, timeout - (time.monotonic() - started)):.3f}".encode()
    return [(name, left if name == b"x-request-timeout" else value) for name, value in headers]


def may_go_to_sibling(error: UpstreamUnavailable, *, repeatable: bool) -> bool:
    """Whether a request that failed with `error` may be sent to another process: when nothing was
    sent, or when it is safe to repeat (a process killed mid-request resets its connections)."""
    return repeatable or isinstance(error, UpstreamRefused)


Answer = TypeVar("Answer")


async def on_a_sibling_once(replicas: Replicas[Member],
                            send: Callable[[Member, list[tuple[bytes, bytes]]], Awaitable[Answer]],
                            headers: list[tuple[bytes, bytes]], *, repeatable: bool, timeout: float) -> Answer:
    """`send` to the next process of a service; once more to a sibling when `may_go_to_sibling`,
    with the time left of the deadline. A process that refused is passed over for a while."""
    index, started = replicas.pick(), time.monotonic()
    for attempt in (1, 2):
        try:
            return await send(replicas.members[index], headers)
        except UpstreamUnavailable as exc:
            if isinstance(exc, UpstreamRefused):
                replicas.refused(index)
            if attempt == 2 or not may_go_to_sibling(exc, repeatable=repeatable):
                raise
        index = replicas.sibling(index)
        headers = with_time_left(headers, started, timeout)
    raise AssertionError("unreachable")


class Upstream(Protocol):
    async def forward(self, service: str, scope: Scope, receive: Receive, send: Send,
                      headers: list[tuple[bytes, bytes]], on_start: OnStart) -> None: ...

    async def close(self) -> None: ...


class AsgiUpstream:
    """The embedded mode: each service is an ASGI app in this process."""

    def __init__(self, apps: dict[str, ASGIApp]) -> None:
        self.apps = apps

    async def forward(self, service: str, scope: Scope, receive: Receive, send: Send,
                      headers: list[tuple[bytes, bytes]], on_start: OnStart) -> None:
        inner = dict(scope)
        inner["headers"] = headers

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = list(message.get("headers", []))
                on_start(message["status"], out)
                message = {**message, "headers": out}
            await send(message)

        await self.apps[service](inner, receive, send_wrapper)

    async def close(self) -> None:
        return None


class HttpxUpstream:
    """The distributed mode over httpx (the plain library path): one client per service, its
    connections kept alive for `IDLE_SECONDS` (less than a service's keep-alive, uvicorn's 5 s, so
    a request is not sent on a connection the service is closing). A request a reused connection
    dropped unanswered is sent again once when repeating it is safe, as `PooledUpstream` does."""

    def __init__(self, base_urls: BaseUrls, *, timeout: float, connections: int) -> None:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections,
                              keepalive_expiry=IDLE_SECONDS)
        single, several = _by_count(base_urls)
        self.clients = {service: _client(url, limits) for service, url in single.items()}
        self.replicas = {service: Replicas([_client(url, limits) for url in urls]) for service, urls in several.items()}
        self.timeout = timeout

    async def forward(self, service: str, scope: Scope, receive: Receive, send: Send,
                      headers: list[tuple[bytes, bytes]], on_start: OnStart) -> None:
        method: str = scope["method"]
        body = await read_body(receive) if _has_body(scope) else b""
        target = quote(scope["path"], safe=_PATH_SAFE)
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        # httpx sets the body's Content-Length itself; the client's Host, when it sent one, is kept.
        sent = [(name, value) for name, value in headers if name not in _SET_BY_HTTPX]
        replicas = self.replicas.get(service)
        if replicas is None:
            client = self.clients[service]
            request = client.build_request(method, target, headers=sent, content=body,
                                           timeout=httpx.Timeout(self.timeout))
            response = await _send(client, request, retry=retryable(method, headers))
        else:
            async with asyncio.timeout(self.timeout):  # both tries within the one deadline
                response = await self._send_spread(replicas, method, target, sent, body,
                                                   repeatable=retryable(method, headers))
        try:
            response_headers = [(name.lower(), value) for name, value in response.headers.raw
                                if name.lower() not in NOT_PASSED_BACK]
            on_start(response.status_code, response_headers)
            chunks = response.aiter_raw()  # as the service sent it (no decoding): each read bounded by the timeout
            length = response.headers.get("content-length")
            if length is not None and length.isdigit() and int(length) <= STREAM_BODY_OVER:
                # A small answer of known length: one body message (see `PooledUpstream`).
                try:
                    content = b"".join([chunk async for chunk in chunks])
                except httpx.TimeoutException:
                    raise TimeoutError(f"the {service} service's answer stalled") from None
                except httpx.TransportError as exc:
                    raise UpstreamUnavailable(f"the {service} service broke off its answer: {exc}") from None
                await send({"type": "http.response.start", "status": response.status_code,
                            "headers": response_headers})
                await send({"type": "http.response.body", "body": content, "more_body": False})
                return
            await send({"type": "http.response.start", "status": response.status_code, "headers": response_headers})
            while True:
                try:
                    chunk = await anext(chunks, None)
                except httpx.TransportError as exc:  # a stall (the read timeout) or a cut
                    raise UpstreamBroken(f"the {service} service's answer broke off: {exc}") from None
                if chunk is None:
                    break
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await response.aclose()

    async def _send_spread(self, replicas: Replicas[httpx.AsyncClient], method: str, target: str,
                           headers: list[tuple[bytes, bytes]], body: bytes, *, repeatable: bool) -> httpx.Response:
        async def send(client: httpx.AsyncClient, headers: list[tuple[bytes, bytes]]) -> httpx.Response:
            request = client.build_request(method, target, headers=headers, content=body,
                                           timeout=httpx.Timeout(self.timeout))
            return await _send(client, request, retry=repeatable)

        return await on_a_sibling_once(replicas, send, headers, repeatable=repeatable, timeout=self.timeout)

    async def close(self) -> None:
        for client in [*self.clients.values(), *(c for r in self.replicas.values() for c in r.members)]:
            await client.aclose()


# httpx writes these from the body it is given.
_SET_BY_HTTPX = frozenset({b"content-length", b"transfer-encoding"})


def _client(base_url: str, limits: httpx.Limits) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base_url, limits=limits, trust_env=False, follow_redirects=False,
                               verify=client_tls())
    client.headers = httpx.Headers()  # no User-Agent, Accept or Accept-Encoding of httpx's own
    return client


async def _send(client: httpx.AsyncClient, request: httpx.Request, *, retry: bool) -> httpx.Response:
    """The head of the answer; httpx's errors as the proxy's (503, 504)."""
    for attempt in (1, 2):
        try:
            return await client.send(request, stream=True)
        except httpx.TimeoutException:
            raise TimeoutError(f"{request.url.host}:{request.url.port} did not answer in time") from None
        except httpx.RemoteProtocolError as exc:
            # A kept-alive connection the service closed as the request went out: once more, on a
            # new connection, when repeating the request is safe.
            if retry and attempt == 1 and "without sending" in str(exc):
                continue
            raise UpstreamUnavailable(f"{request.url.host}:{request.url.port}: {exc}") from None
        except httpx.ConnectError as exc:  # refused, not found: nothing was sent
            raise UpstreamRefused(f"{request.url.host}:{request.url.port}: {exc}") from None
        except httpx.TransportError as exc:  # reset, not HTTP
            raise UpstreamUnavailable(f"{request.url.host}:{request.url.port}: {exc}") from None
    raise AssertionError("unreachable")


class PooledUpstream:
    """The distributed mode: each service over keep-alive HTTP/1.1 connections (`fast/http1.py`)."""

    def __init__(self, base_urls: BaseUrls, *, timeout: float, connections: int) -> None:
        single, several = _by_count(base_urls)
        self.pools = {service: Pool(url, limit=connections) for service, url in single.items()}
        # Services of several processes; the one-process path above stays as it was, one lookup more.
        self.replicas = {service: Replicas([Pool(url, limit=connections) for url in urls])
                         for service, urls in several.items()}
        self.timeout = timeout

    async def forward(self, service: str, scope: Scope, receive: Receive, send: Send,
                      headers: list[tuple[bytes, bytes]], on_start: OnStart) -> None:
        method: str = scope["method"]
        body = await read_body(receive) if _has_body(scope) else b""
        target = quote(scope["path"], safe=_PATH_SAFE).encode()
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]
        started = False
        # The timeout bounds the wait for the head (a sibling's try included) and the whole of a
        # small answer, then each wait for a streamed answer's next chunk, never a stream's whole
        # length (an SSE stream of a long job) nor the time a slow client takes to read.
        replicas = self.replicas.get(service)
        if replicas is None:
            pool = self.pools[service]
            request = serialise(method, target, headers, body, pool.host_header)
            async with asyncio.timeout(self.timeout):
                response, connection = await pool.exchange(method, request, retryable=retryable(method, headers))
        else:
            async with asyncio.timeout(self.timeout):
                pool, response, connection = await _exchange_spread(replicas, method, target, headers, body,
                                                                     self.timeout)
        try:
            response_headers = [item for item in response.headers if item[0] not in NOT_PASSED_BACK]
            on_start(response.status, response_headers)
            if response.length is not None and response.length <= STREAM_BODY_OVER:
                # A small answer of known length (almost every JSON one): one body message, not
                # a chunk and an empty last one, each going through every middleware's `send`.
                async with asyncio.timeout(self.timeout):
                    content = await response.read()
                started = True
                await send({"type": "http.response.start", "status": response.status,
                            "headers": response_headers})
                await send({"type": "http.response.body", "body": content, "more_body": False})
                return
            started = True
            await send({"type": "http.response.start", "status": response.status, "headers": response_headers})
            chunks = response.chunks()
            while True:
                try:
                    async with asyncio.timeout(self.timeout):
                        chunk = await anext(chunks, None)
                except TimeoutError:
                    raise UpstreamBroken(f"the {service} service's answer stalled") from None
                if chunk is None:
                    break
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except UpstreamBroken:
            if not started:
                raise UpstreamUnavailable(f"the {service} service broke off its answer") from None
            raise
        finally:
            pool.release(connection)

    async def close(self) -> None:
        for pool in [*self.pools.values(), *(p for r in self.replicas.values() for p in r.members)]:
            pool.close()


async def _exchange_spread(replicas: Replicas[Pool], method: str, target: bytes, headers: list[tuple[bytes, bytes]],
                           body: bytes, timeout: float) -> tuple[Pool, Response, Any]:
    """`Pool.exchange` on the next process of a service, once more on a sibling when that is safe."""
    repeatable = retryable(method, headers)

    async def send(pool: Pool, headers: list[tuple[bytes, bytes]]) -> tuple[Pool, Response, Any]:
        response, connection = await pool.exchange(method, serialise(method, target, headers, body, pool.host_header),
                                                   retryable=repeatable)
        return pool, response, connection

    return await on_a_sibling_once(replicas, send, headers, repeatable=repeatable, timeout=timeout)


# Each service's base URL, or several: one per process serving its API.
BaseUrls = Mapping[str, str | Sequence[str]]


def _by_count(base_urls: BaseUrls) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The services of one base URL, and those of several."""
    single: dict[str, str] = {}
    several: dict[str, list[str]] = {}
    for service, urls in base_urls.items():
        listed = [urls] if isinstance(urls, str) else list(urls)
        if len(listed) == 1:
            single[service] = listed[0]
        else:
            several[service] = listed
    return single, several


def pooled_upstream(base_urls: BaseUrls, *, timeout: float, connections: int) -> Upstream:
    """The distributed mode's upstream, as the `http1` fast path is switched."""
    kind = PooledUpstream if fast.enabled(fast.HTTP1) else HttpxUpstream
    return kind(base_urls, timeout=timeout, connections=connections)


# What `quote` leaves as is in a path: RFC 3986's pchar and "/" (the path arrives decoded).
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def _has_body(scope: Scope) -> bool:
    """A declared or chunked body (the edge has read it whole); a GET without either keeps its own
    `receive` (an SSE stream's), which must not be awaited here."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return bool(value != b"0")
        if name == b"transfer-encoding":
            return True
    return False


async def read_body(receive: Receive) -> bytes:
    """The whole request body (already bounded by the edge, `edge.read_bounded_body`)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)
