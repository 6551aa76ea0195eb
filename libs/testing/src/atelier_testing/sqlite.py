"""SQLite's write lock, for the tests of background loops (the embedded mode's database).

`hold_statement(db, trigger)` stops a chosen statement inside SQLite (in aiosqlite's thread, its
locks taken) until the test releases it, so a test can stop a loop exactly there, where a cancel
used to leave the write lock held (`atelier_common.loops`). `assert_write_lock_free(url)` then
shows that nothing kept it.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url

from atelier_common.db import Database


class HeldStatement:
    def __init__(self) -> None:
        self._entered = asyncio.Event()
        self._released = threading.Event()
        self._loop = asyncio.get_running_loop()

    def hold(self) -> int:
        """The SQL function `atelier_hold()`, run in aiosqlite's thread: blocks until `release()`."""
        self._loop.call_soon_threadsafe(self._entered.set)
        self._released.wait(timeout=60)  # a test that fails before releasing must not hang its thread
        return 0

    async def entered(self) -> None:
        async with asyncio.timeout(10):
            await self._entered.wait()

    def release(self) -> None:
        self._released.set()


@asynccontextmanager
async def hold_statement(db: Database, trigger: str) -> AsyncIterator[HeldStatement]:
    """Statements of `db` matching `trigger` (`"AFTER UPDATE ON outbox"`) wait inside SQLite for
    `release()` (also done on exit). Only connections opened from now on: the idle ones are closed."""
    held = HeldStatement()

    def install(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.create_function("atelier_hold", 0, held.hold)
        cursor = dbapi_conn.cursor()
        cursor.execute(f"CREATE TEMP TRIGGER atelier_hold {trigger} BEGIN SELECT atelier_hold(); END")
        cursor.close()

    event.listen(db.engine.sync_engine, "connect", install)
    await db.engine.dispose()
    try:
        yield held
    finally:
        held.release()
        event.remove(db.engine.sync_engine, "connect", install)


def assert_write_lock_free(url: str) -> None:
    """A new connection to the database file takes the write lock within 10 s: the rollback of the
    statement cut off may still be finishing in aiosqlite's thread on a busy machine, while the
    fault this guards against held the lock until the connection was garbage-collected (the app's
    own wait, 30 s, then ran out: the CI failure's "database is locked").

    It blocks the event loop on purpose: with the loop running, the dropped connection can be freed
    before the check and hide the fault. So nothing else of the app may be writing (an event being
    relayed): its COMMIT waits for the loop, and its lock fails this check."""
    path = make_url(url).database
    assert path, url
    with contextlib.closing(sqlite3.connect(path, timeout=10)) as conn:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise AssertionError(f"the write lock of {path} is still held: {exc}") from exc
        conn.rollback()
