"""Transient failures — a refused or dropped database connection, an exhausted pool, a serialization
failure or deadlock, a broker connection lost — are retried with back-off (stamina), and a request
that still meets one answers 503 with `Retry-After`, never 500. Business errors are never retried.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import stamina
from sqlalchemy import exc as sa_exc

T = TypeVar("T")

# PostgreSQL's SQLSTATEs for "try the same transaction again": serialization failure, deadlock,
# and the connection-exception class (08xxx), plus "too many connections" (53300), admin shutdown,
# a server starting or in recovery (57P03) and a write on a node that is read-only (25006: a
# standby, or the old primary while a failover promotes another).
_RETRYABLE_SQLSTATES = ("40001", "40P01", "53300", "57P01", "57P02", "57P03", "25006")


def _amqp_connection_error() -> tuple[type[Exception], ...]:
    try:
        from aiormq.exceptions import AMQPConnectionError
    except ImportError:  # pragma: no cover - aio-pika is a dependency
        return ()
    return (AMQPConnectionError,)


_LOST_TRANSPORT: tuple[type[Exception], ...] = (ConnectionError, asyncio.TimeoutError, *_amqp_connection_error())
# The types `is_transient` may say yes to (a DBAPIError then by its code): the error handlers
# answer these with a 503 inside the middleware stack.
TRANSIENT_TYPES: tuple[type[Exception], ...] = (sa_exc.TimeoutError, sa_exc.DBAPIError, *_LOST_TRANSPORT)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.TimeoutError):  # the pool had no connection to give in time
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        sqlstate = getattr(exc.orig, "sqlstate", None) or ""
        if sqlstate.startswith("08") or sqlstate in _RETRYABLE_SQLSTATES:
            return True
        # psycopg: a refused or dropped connection is an OperationalError without a SQLSTATE. SQLite:
        # "database is locked", its busy timeout passed or (at once, whatever the timeout) a write in a
        # transaction whose snapshot another writer has since changed: the whole transaction again.
        return isinstance(exc, sa_exc.OperationalError) and not sqlstate
    return isinstance(exc, _LOST_TRANSPORT)


# The back-off: the first wait, and the most any wait grows to.
WAIT_INITIAL_SECONDS = 0.05
WAIT_MAX_SECONDS = 2.0


async def retry_transient(work: Callable[[], Awaitable[T]], *, attempts: int = 6, timeout: float = 30.0) -> T:
    """`await work()`, again with back-off while it fails transiently (at most `attempts` times)."""
    # The first attempt runs outside stamina's retry context: setting that up costs ~65 µs, and
    # every delivery of every consumer comes through here, nearly all of them passing at once.
    started = time.monotonic()
    try:
        return await work()
    except Exception as exc:
        if attempts <= 1 or not is_transient(exc):
            raise
    await asyncio.sleep(WAIT_INITIAL_SECONDS)
    left = max(timeout - (time.monotonic() - started), WAIT_INITIAL_SECONDS)
    async for attempt in stamina.retry_context(on=is_transient, attempts=attempts - 1, timeout=left,
                                               wait_initial=2 * WAIT_INITIAL_SECONDS, wait_max=WAIT_MAX_SECONDS):
        with attempt:
            return await work()
    raise AssertionError("unreachable: stamina re-raises the last failure")  # pragma: no cover
