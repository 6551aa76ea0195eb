"""The fast paths: every place the platform reads a library's private API for speed, and nowhere else.

Each fast path replaces a plain library path that does the same thing more slowly, and the one
setting `ATELIER_FAST_PATHS` switches them (`all`, `none`, or a comma-separated list of names) so
that the plain path can always be run instead: when a library's internals change under a fast path
(`tests/test_fast_canary.py` fails, naming it), or to tell whether a fault is the fast path's.

| name | fast path | plain path it replaces | private API read |
|---|---|---|---|
| `statements` | `db.Statement` compiled once, run on the transaction's psycopg connection (`statements.py`) | the connection's `execute` (SQLAlchemy) | SQLAlchemy's compiled `_result_columns`, `_bind_processors`, its `__[POSTCOMPILE_name]` placeholder of a `literal_execute` value, `TypeEngine._cached_result_processor`, the engine's `dispatch` |
| `protocol` | uvicorn's httptools protocol, trailers kept out of the headers (`protocol.py`) | uvicorn's h11 protocol | uvicorn's `HttpToolsProtocol` (subclassed: its `headers` list) |
| `http1` | the platform's own pooled HTTP/1.1 client (`http1.py`): the gateway's forwards to the services, and calls between services (`internal.InternalApi`) | httpx (`atelier_gateway.upstream.HttpxUpstream`; httpx's client for `InternalApi`) | none (httptools' public parser) |
| `hits` | a cache hit the gateway can answer with no I/O written by the protocol itself (`protocol.py`'s `EarlyAnswer` and its bytes, `render_answer`; `atelier_gateway.proxy.EarlyHits`); needs `protocol` | the ASGI app's `HitLane` | uvicorn's `HttpToolsProtocol._start_asgi_task`, its cycle's state, `on_response_complete` |

One more lives here for the test-suite alone, not switched by `ATELIER_FAST_PATHS`: `routes.py`, one
FastAPI route state per route for every app a process starts (atelier_testing installs it; FastAPI's
`_EffectiveRouteContext.from_api_route`).

Its gain, measured, is in docs/capacity.md ("The fast paths"); a fast path whose gain is within the
noise or under ~5 % of the operation it serves is removed rather than kept.
"""

from __future__ import annotations

import os

STATEMENTS = "statements"
PROTOCOL = "protocol"
HTTP1 = "http1"
HITS = "hits"
NAMES = (STATEMENTS, PROTOCOL, HTTP1, HITS)
ENV = "ATELIER_FAST_PATHS"

_on: frozenset[str] | None = None


def parse(value: str) -> frozenset[str]:
    """`all`, `none` (or empty) or names separated by commas; an unknown name is refused."""
    value = value.strip().lower()
    if value == "all":
        return frozenset(NAMES)
    names = frozenset(name.strip() for name in value.split(",") if name.strip() and name.strip() != "none")
    if unknown := names - set(NAMES):
        raise ValueError(f"{ENV}: unknown fast path(s) {sorted(unknown)}; known: all, none, {', '.join(NAMES)}")
    return names


def switched_on() -> frozenset[str]:
    """The fast paths on in this process, read from the environment once."""
    global _on
    if _on is None:
        _on = parse(os.environ.get(ENV, "all"))
    return _on


def enabled(name: str) -> bool:
    return name in switched_on()


def switch(value: str | None) -> None:
    """Set the fast paths of this process (`None`: read the environment again); for tests."""
    global _on
    _on = None if value is None else parse(value)
