"""How the gateway reaches services: aiohttp over the network, or ASGI calls in one process.

Both stream the response body back as it arrives. aiohttp is the distributed mode's client
because the gateway's hot path is the proxy (it measured ~3× httpx's throughput here).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Protocol

import aiohttp
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HOP_BY_HOP = {
    b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te", b"trailers",
    b"transfer-encoding", b"upgrade",
}
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


class AiohttpUpstream:
    def __init__(self, base_urls: dict[str, str], *, timeout: float, connections: int) -> None:
        self.base_urls = {k: v.rstrip("/") for k, v in base_urls.items()}
        self.timeout = aiohttp.ClientTimeout(total=timeout, connect=5)
        self.connections = connections
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self.connections, limit_per_host=self.connections,
                                             ttl_dns_cache=300, keepalive_timeout=30)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self.timeout,
                                                  auto_decompress=False, skip_auto_headers=("User-Agent",))
        return self._session

    async def forward(self, service: str, scope: Scope, receive: Receive, send: Send,
                      headers: list[tuple[bytes, bytes]], on_start: OnStart) -> None:
        url = self.base_urls[service] + scope["path"]
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("latin-1")
        out_headers: list[tuple[str, str]] = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]
        length = next((int(v) for k, v in headers if k == b"content-length" and v.isdigit()), None)
        body: bytes | object
        if scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE") and not length:
            body = None
        elif length is not None and length <= STREAM_BODY_OVER:
            body = await read_body(receive)
        else:
            body = _stream_body(receive)
        async with self.session.request(scope["method"], url, headers=out_headers, data=body,
                                        allow_redirects=False, compress=None) as resp:
            resp_headers = [(k.lower(), v) for k, v in resp.raw_headers if k.lower() not in HOP_BY_HOP]
            on_start(resp.status, resp_headers)
            await send({"type": "http.response.start", "status": resp.status, "headers": resp_headers})
            if resp.content_length is not None and resp.content_length <= STREAM_BODY_OVER:
                # A small answer of known length (almost every JSON one): one body message, not a
                # chunk and an empty last one, each going through every middleware's `send`.
                await send({"type": "http.response.body", "body": await resp.read(), "more_body": False})
                return
            async for chunk in resp.content.iter_any():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


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


async def _stream_body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return
        if chunk := message.get("body"):
            yield chunk
        if not message.get("more_body"):
            return

