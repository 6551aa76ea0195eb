"""The HTTP protocol every Atelier process serves with: uvicorn's httptools protocol, whose writes
made in one turn of the event loop leave in one `send`.

uvicorn writes a response's status line and headers as soon as the app sends
`http.response.start`, then the body with a second write: two system calls and two TCP segments
for every small JSON answer. On loopback the sender's `send` also runs the receiver's network
stack, so on the 2-core benchmark machine the header write alone was a quarter of a gateway
worker's CPU (py-spy, a cheap route proxied). Buffering until the loop's next turn costs one
`call_soon` and no waiting: the body is written in the same turn as the headers.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# What `uvicorn.run(http=...)` imports in each worker process.
PROTOCOL = "atelier_platform.http:CoalescingHttpToolsProtocol"


class CoalescingTransport:
    """A transport whose writes are joined until the event loop's next turn. Everything else is
    the wrapped transport's; closing writes what is pending first."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(data)

    def flush(self) -> None:
        if not self._pending:
            return
        data = b"".join(self._pending) if len(self._pending) > 1 else self._pending[0]
        self._pending.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        # The parser reports a chunked body's trailer fields through `on_header` too, and uvicorn
        # appends them to the very list the request's scope holds: a client could add headers
        # (a token, an anonymous id) after the gateway has read the head. Trailers go nowhere.
        self.headers = []

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # uvicorn declares asyncio.Transport; a BaseTransport is what asyncio hands in
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]  # the coalescing wrapper is a Transport by duck typing
