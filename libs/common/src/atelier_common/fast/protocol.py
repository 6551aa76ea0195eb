"""The `protocol` fast path: uvicorn's httptools protocol, with a chunked body's trailer fields kept
out of the request's headers.

uvicorn's httptools protocol costs a process ~18 µs of CPU per small answer where its h11 one costs
~75–80 µs (docs/capacity.md), but it appends the trailer fields that the parser reports after a
chunked body to the very list the request's scope holds: a client could add headers (a token, an
anonymous id) after the gateway has read the head. This subclass of uvicorn's internal
`HttpToolsProtocol` (its `headers` list) sends them nowhere: pinned (`uvicorn<0.55`), checked by
the canary test. Switched off (`ATELIER_FAST_PATHS`), the processes serve with uvicorn's h11
protocol, which never turns trailers into headers.

(It used to join a response's writes of one loop turn into one `send` too: within the noise of
uvicorn's own writes when measured per answer, so removed.)
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from atelier_common import fast

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


class TrailerlessHttpToolsProtocol(HttpToolsProtocol):
    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        # The parser reports a chunked body's trailer fields through `on_header` too, and uvicorn
        # appends them to the list the request's scope holds. Trailers go nowhere.
        self.headers = []
