"""How the gateway reaches services: pooled HTTP/1.1 connections (the `http1` fast path of
`atelier_common.fast`, or httpx with it off), or ASGI calls in one process.

All stream the response body back as it arrives.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol
from urllib.parse import quote

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atelier_common import fast
from atelier_common.fast.http1 import IDLE_SECONDS, Pool, UpstreamBroken, UpstreamUnavailable, retryable, serialise
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

    def __init__(self, base_urls: dict[str, str], *, timeout: float, connections: int) -> None:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections,
                              keepalive_expiry=IDLE_SECONDS)
        self.clients = {service: _client(url, limits) for service, url in base_urls.items()}
        self.timeout = timeout

    async def forward(self, service: str, scope: Scope, receive: Receive, send: Send,
                      headers: list[tuple[bytes, bytes]], on_start: OnStart) -> None:
        method: str = scope["method"]
        client = self.clients[service]
        body = await read_body(receive) if _has_body(scope) else b""
        target = quote(scope["path"], safe=_PATH_SAFE)
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        # httpx sets the body's Content-Length itself; the client's Host, when it sent one, is kept.
        sent = [(name, value) for name, value in headers if name not in _SET_BY_HTTPX]
        request = client.build_request(method, target, headers=sent, content=body,
                                       timeout=httpx.Timeout(self.timeout))
        response = await _send(client, request, retry=retryable(method, headers))
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

    async def close(self) -> None:
        for client in self.clients.values():
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
        except httpx.TransportError as exc:  # refused, reset, not found, not HTTP
            raise UpstreamUnavailable(f"{request.url.host}:{request.url.port}: {exc}") from None
    raise AssertionError("unreachable")


class PooledUpstream:
    """The distributed mode: each service over keep-alive HTTP/1.1 connections (`fast/http1.py`)."""

    def __init__(self, base_urls: dict[str, str], *, timeout: float, connections: int) -> None:
        self.pools = {service: Pool(url, limit=connections) for service, url in base_urls.items()}
        self.timeout = timeout

    async def forward(self, service: str, scope: Scope, receive: Receive, send: Send,
                      headers: list[tuple[bytes, bytes]], on_start: OnStart) -> None:
        method: str = scope["method"]
        pool = self.pools[service]
        body = await read_body(receive) if _has_body(scope) else b""
        target = quote(scope["path"], safe=_PATH_SAFE).encode()
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]
        request = serialise(method, target, headers, body, pool.host_header)
        started = False
        # The timeout bounds the wait for the head and the whole of a small answer, then each wait
        # for a streamed answer's next chunk, never a stream's whole length (an SSE stream of a
        # long job) nor the time a slow client takes to read.
        async with asyncio.timeout(self.timeout):
            response, connection = await pool.exchange(method, request, retryable=retryable(method, headers))
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
        for pool in self.pools.values():
            pool.close()


def pooled_upstream(base_urls: dict[str, str], *, timeout: float, connections: int) -> Upstream:
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
