"""The `protocol` fast path: uvicorn's httptools protocol, with a chunked body's trailer fields kept
out of the request's headers.

uvicorn's httptools protocol costs a process ~18 µs of CPU per small answer where its h11 one costs
~75–80 µs (docs/capacity.md), but it appends the trailer fields that the parser reports after a
chunked body to the very list the request's scope holds: a client could add headers (a token, an
anonymous id) after the gateway has read the head. This subclass of uvicorn's internal
`HttpToolsProtocol` (its `headers` list) sends them nowhere: pinned (`uvicorn<0.55`), checked by
the canary test. Switched off (`ATELIER_FAST_PATHS`), the processes serve with uvicorn's h11
protocol, which never turns trailers into headers.

The `hits` fast path rides on it: a GET the process can answer at once, with no I/O (the gateway's
cache hits, `atelier_gateway.proxy.EarlyHits`), is answered by the protocol itself, as the bytes
the answer takes on the wire, without an ASGI task, the middleware stack or uvicorn's response
writer: `EarlyAnswer`. Anything else, or an answer it declines (None), goes the usual way. The
bytes of such an answer are written here (`render_headers`, `render_answer`), as uvicorn's writer
writes them, so no lane of the platform writes HTTP/1.1 by hand.

(It used to join a response's writes of one loop turn into one `send` too: within the noise of
uvicorn's own writes when measured per answer, so removed.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from atelier_common import fast

log = logging.getLogger("atelier.fast")

# What `uvicorn.run(http=...)` imports in each worker process.
HTTPTOOLS = "atelier_common.fast.protocol:TrailerlessHttpToolsProtocol"
# The plain position: uvicorn's own pure-Python protocol (it drops trailers; its httptools one does not).
PLAIN = "h11"
# uvicorn's modules a served process imports by name at start, whichever position it runs in: a
# parent that forks its servers imports them first (`atelier_platform.processes.preload`).
UVICORN_MODULES = ("uvicorn.main", "uvicorn.loops.uvloop", "uvicorn.protocols.http.httptools_impl",
                   "uvicorn.protocols.http.h11_impl", "uvicorn.lifespan.on", "uvicorn.supervisors.multiprocess")


def http_protocol() -> str:
    """`uvicorn.run(http=...)` for this process, as `ATELIER_FAST_PATHS` has it."""
    return HTTPTOOLS if fast.enabled(fast.PROTOCOL) else PLAIN


# (scope, uvicorn's default headers — `date`, `server` —, keep-alive) → the whole answer's bytes, or
# None: the request goes to the app. Called for a GET only, with nothing of an earlier request of
# the connection still being answered; it must not block, nor fail.
EarlyAnswer = Callable[[Any, list[tuple[bytes, bytes]], bool], bytes | None]  # Any: uvicorn's `HTTPScope`
_early: EarlyAnswer | None = None


def answer_early(lane: EarlyAnswer | None) -> None:
    """Set (None: clear) this process's `EarlyAnswer`: the `hits` fast path, when it is on."""
    global _early
    _early = lane if lane is None or fast.enabled(fast.HITS) else None


def early_answer() -> EarlyAnswer | None:
    """This process's `EarlyAnswer`, if one is set."""
    return _early


def render_headers(headers: Iterable[tuple[bytes, bytes]]) -> bytes:
    """Header fields as an answer's head holds them (`name: value` lines), for `render_answer`: an
    answer's own headers may be rendered once and written many times."""
    return b"".join([name + b": " + value + b"\r\n" for name, value in headers])


def render_answer(status: int, default_headers: list[tuple[bytes, bytes]], rendered: bytes,
                  headers: Iterable[tuple[bytes, bytes]], keep_alive: bool, body: bytes) -> bytes:
    """A whole answer as an `EarlyAnswer` returns it, laid out as uvicorn's writer lays it: the
    status line, uvicorn's default headers (`date`, `server`), the headers already rendered
    (`render_headers`), then `headers`, `connection: close` when the connection ends with it, and
    the body (its `content-length` is among the headers given)."""
    lines = [_STATUS_LINES.get(status) or _status_line(status)]
    # Loops, not comprehensions: a few headers each, and a comprehension's frame costs ~0.2 µs.
    for name, value in default_headers:
        lines.append(name + b": " + value + b"\r\n")
    lines.append(rendered)
    for name, value in headers:
        lines.append(name + b": " + value + b"\r\n")
    if not keep_alive:
        lines.append(b"connection: close\r\n")
    lines.append(b"\r\n")
    lines.append(body)
    return b"".join(lines)


def _status_line(status: int) -> bytes:
    return f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n".encode()


_STATUS_LINES = {status: _status_line(status) for status in (200, 304)}


class TrailerlessHttpToolsProtocol(HttpToolsProtocol):
    def on_headers_complete(self) -> None:
        # An answer written early arms the keep-alive timer in the middle of the parser's chunk;
        # a request pipelined behind it in that chunk must not run under that timer.
        self._unset_keepalive_if_required()
        super().on_headers_complete()
        # The parser reports a chunked body's trailer fields through `on_header` too, and uvicorn
        # appends them to the list the request's scope holds. Trailers go nowhere.
        self.headers = []

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        lane = _early
        if (lane is not None and app is self.app and cycle.scope["method"] == "GET"
                and not self.flow.write_paused and not cycle.waiting_for_100_continue):
            try:
                answer = lane(cycle.scope, self.server_state.default_headers, cycle.keep_alive)
            except Exception:  # a fault of the lane: the app answers instead, as without it
                log.exception("the early answer failed; the app answers the request")
                answer = None
            if answer is not None:
                # As uvicorn's writer ends an answer: the body that may still arrive is dropped
                # (`on_body` and `on_message_complete` skip a complete cycle), a closing answer closes,
                # and the next pipelined request starts (or the keep-alive timer).
                cycle.response_started = cycle.response_complete = True
                self.transport.write(answer)
                if not cycle.keep_alive:
                    self.transport.close()
                self.on_response_complete()
                return
        super()._start_asgi_task(cycle, app)
