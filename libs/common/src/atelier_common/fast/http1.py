"""The `http1` fast path: the platform's own HTTP/1.1 client, keep-alive connections parsed with
httptools (its public parser API only), for the gateway's forwards to the services and for calls
between services (`internal.InternalApi`). Switched off (`ATELIER_FAST_PATHS`), both go over httpx
(`atelier_gateway.upstream.HttpxUpstream`, httpx's client), which costs ~1.3–1.4 ms of CPU more per
forward or call on a slow 2-core machine (docs/capacity.md).

The gateway forwards a request it has already read whole (`edge.read_bounded_body`) and passes the
answer on as it arrives, so it needs one thing from a client: write these bytes on a pooled
connection and hand back the status, the headers and the body. aiohttp did that with a request
object, a response object, header multidicts, timers and tracing hooks per request; on the cheap
route that was most of a gateway worker's CPU (py-spy). Here an exchange is one write and one
`feed_data` into the connection's response parser.

A connection carries one exchange at a time and goes back to its pool when the answer allows
keep-alive. An idle one is dropped after `IDLE_SECONDS`, shorter than a service's keep-alive
(uvicorn's 5 s), so a request is not sent on a connection the service is closing; one the service
closed while idle is seen closed and skipped. A request the service never answered on a reused
connection (reset before any byte) is sent again once on a new connection when repeating it is
safe (an idempotent method, or an `Idempotency-Key`).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from typing import cast
from urllib.parse import urlsplit

import httptools

IDLE_SECONDS = 4.0
CONNECT_SECONDS = 5.0
_HIGH_WATER = 1 << 16  # streamed body bytes waiting for the client before the service is paused
_RETRYABLE = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class UpstreamUnavailable(ConnectionError):
    """No answer could be had: the service refused, reset or was not found (a 503 at the gateway)."""


class UpstreamRefused(UpstreamUnavailable):
    """No connection could be made (refused, not accepted in time, no such host): nothing was sent,
    so any request may go to another process of the service."""


class UpstreamBroken(Exception):
    """The service went away in the middle of its answer: the client's connection is closed too."""


class Response:
    """The head of an answer; its body from `read()` (whole) or `chunks()` (as it arrives)."""

    __slots__ = ("_connection", "headers", "length", "status")

    def __init__(self, connection: _Connection, status: int, headers: list[tuple[bytes, bytes]],
                 length: int | None) -> None:
        self._connection = connection
        self.status = status
        self.headers = headers  # names lower-cased, as the service sent them otherwise
        self.length = length

    async def read(self) -> bytes:
        connection = self._connection
        parts: list[bytes] = []
        while not connection.complete:
            if connection.pending_bytes > _HIGH_WATER:
                # Reading pauses past the high-water mark until the body is taken: take it now, or
                # a body that size never completes.
                parts.append(connection.take())
            await connection.wait()
        if not parts:
            return connection.take()
        parts.append(connection.take())
        return b"".join(parts)

    async def chunks(self) -> AsyncIterator[bytes]:
        connection = self._connection
        while True:
            if not connection.pending and not connection.complete:
                await connection.wait()
            if connection.pending:
                yield connection.take()
            elif connection.complete:
                return


class _Connection(asyncio.Protocol):
    """One keep-alive connection; the httptools parser calls its `on_*` methods."""

    def __init__(self, loop: asyncio.AbstractEventLoop, head_only: bool = False) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.idle_since = 0.0
        self._reset_exchange(head_only)

    def _reset_exchange(self, head_only: bool) -> None:
        self.head_only = head_only  # a HEAD's answer has a Content-Length and no body
        self.received = False
        self.headers: list[tuple[bytes, bytes]] = []
        self.head: Response | None = None
        self.pending: list[bytes] = []
        self.pending_bytes = 0
        self.complete = False
        self.keep_alive = False
        self.error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None

    # The exchange, seen from `Pool.exchange`.
    def send(self, request: bytes, head_only: bool) -> None:
        self._reset_exchange(head_only)
        if self.closed or self.transport is None or self.transport.is_closing():
            raise ConnectionResetError("the connection was closed")
        self.transport.write(request)

    async def response(self) -> Response:
        while self.head is None:
            await self.wait()
        return self.head

    async def wait(self) -> None:
        if self.error is not None:
            raise self.error
        self._waiter = self.loop.create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None
        if self.error is not None:
            raise self.error

    def take(self) -> bytes:
        data = self.pending[0] if len(self.pending) == 1 else b"".join(self.pending)
        self.pending.clear()
        if self.pending_bytes > _HIGH_WATER and self.transport is not None:
            self.transport.resume_reading()
        self.pending_bytes = 0
        return data

    def reusable(self) -> bool:
        return self.complete and self.keep_alive and not self.head_only and not self.closed

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            reason = f"the service's answer could not be parsed: {exc}"
            self._fail(UpstreamUnavailable(reason) if self.head is None else UpstreamBroken(reason))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.complete:
            return
        if self.head is not None and not self.head.length and (b"transfer-encoding", b"chunked") not in self.headers:
            self.complete = True  # an answer delimited by the end of the connection
            self._wake()
            return
        self._fail(UpstreamBroken("the service closed the connection mid-answer") if self.head is not None
                   else ConnectionResetError("the service closed the connection"))

    def _fail(self, error: BaseException) -> None:
        if self.error is None and not self.complete:
            self.error = error
            self._wake()

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        length = next((int(v) for k, v in self.headers if k == b"content-length" and v.isdigit()), None)
        self.head = Response(self, self.parser.get_status_code(), self.headers, length)
        # Read now: once the parser has finished the message it no longer says.
        self.keep_alive = self.parser.should_keep_alive()
        if self.head_only:
            self.complete = True
        self._wake()

    def on_body(self, body: bytes) -> None:
        self.pending.append(body)
        self.pending_bytes += len(body)
        if self.pending_bytes > _HIGH_WATER and self.transport is not None:
            self.transport.pause_reading()  # the client reads slower than the service writes
        self._wake()

    def on_message_complete(self) -> None:
        self.complete = True
        self._wake()


class Pool:
    """Keep-alive connections to one service (`http://host:port` or `https://…`), at most `limit`."""

    def __init__(self, base_url: str, *, limit: int) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.ssl = parts.scheme == "https"
        self.port = parts.port or (443 if self.ssl else 80)
        self.host_header = parts.netloc.encode()
        self.limit = limit
        self._idle: list[_Connection] = []
        self._slots: asyncio.Semaphore | None = None
        self._ssl_context: ssl.SSLContext | None = None

    async def exchange(self, method: str, request: bytes, *, retryable: bool) -> tuple[Response, _Connection]:
        """Sends `request` (whole, serialised) and waits for the head of the answer. The caller reads
        the body and then gives the connection back with `release`."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limit)
        await self._slots.acquire()
        head_only = method == "HEAD"
        connection = self._idle_connection()
        reused = connection is not None
        try:
            while True:
                if connection is None:
                    connection = await self._connect()
                try:
                    connection.send(request, head_only)
                    return await connection.response(), connection
                except ConnectionResetError:
                    connection.close()
                    if not (reused and retryable and not connection.received):
                        raise UpstreamUnavailable(f"{self.host}:{self.port} reset the connection") from None
                # The service had closed the idle connection without reading the request: once more
                # on a new one.
                connection, reused = None, False
        except BaseException:
            if connection is not None:
                connection.close()  # cut short (a timeout, a cancel): its state is unknown
            self._slots.release()
            raise

    def release(self, connection: _Connection) -> None:
        """Back to the pool if its answer was read whole and it may be kept alive; else closed (an
        exchange cut short by a timeout or the client leaves a connection in an unknown state)."""
        if connection.reusable():
            connection.idle_since = connection.loop.time()
            self._idle.append(connection)
        else:
            connection.close()
        assert self._slots is not None
        self._slots.release()

    def close(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()

    def _idle_connection(self) -> _Connection | None:
        while self._idle:
            connection = self._idle.pop()  # the most recently used: its peer certainly still has it
            if not connection.closed and connection.loop.time() - connection.idle_since < IDLE_SECONDS:
                return connection
            connection.close()
        return None

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        if self.ssl and self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        try:
            async with asyncio.timeout(CONNECT_SECONDS):
                _, connection = await loop.create_connection(
                    lambda: _Connection(loop), self.host, self.port,
                    ssl=self._ssl_context if self.ssl else None)
        except TimeoutError:
            raise UpstreamRefused(f"{self.host}:{self.port} did not accept a connection in time") from None
        except OSError as exc:  # refused, unreachable, no such host
            raise UpstreamRefused(f"{self.host}:{self.port}: {exc}") from None
        return connection


def serialise(method: str, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes,
              host: bytes) -> bytes:
    """The request's bytes: `headers` as given (already without hop-by-hop ones), the body's length,
    the service's host when the client sent none."""
    parts = [method.encode(), b" ", target, b" HTTP/1.1\r\n"]
    has_host = False
    for name, value in headers:
        if name == b"content-length":
            continue
        if name == b"host":
            has_host = True
        parts += (name, b": ", value, b"\r\n")
    if not has_host:
        parts += (b"host: ", host, b"\r\n")
    if body or method in ("POST", "PUT", "PATCH"):
        parts += (b"content-length: ", str(len(body)).encode(), b"\r\n")
    parts += (b"\r\n", body)
    return b"".join(parts)


def retryable(method: str, headers: list[tuple[bytes, bytes]]) -> bool:
    return method in _RETRYABLE or any(name == b"idempotency-key" for name, _ in headers)
