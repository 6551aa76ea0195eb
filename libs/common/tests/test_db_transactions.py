"""The embedded mode's SQLite transactions: one that may write queues for the write lock at its
BEGIN, so one that reads first never finds its snapshot overtaken by another writer (which SQLite
refuses at once, whatever the busy timeout), while a reader takes no lock."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from atelier_common.db import Database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'sessions.db'}", service="test")
    async with database.transaction() as session:
        await session.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)"))
        await session.execute(text("INSERT INTO counter VALUES (1, 0)"))
    yield database
    await database.dispose()


def _write_lock_taken(db: Database) -> bool:
    path = db.engine.url.database
    assert path
    with contextlib.closing(sqlite3.connect(path, timeout=0)) as other:
        try:
            other.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            assert "locked" in str(exc)
            return True
        other.rollback()
        return False


async def test_a_transaction_holds_the_write_lock_from_its_first_read_and_a_reader_none(db: Database) -> None:
    read = text("SELECT value FROM counter WHERE id = 1")
    async with db.transaction() as session:
        assert (await session.execute(read)).scalar_one() == 0
        assert _write_lock_taken(db)
    async with db.read_only() as session:
        assert (await session.execute(read)).scalar_one() == 0
        assert not _write_lock_taken(db)
    assert not _write_lock_taken(db)


async def test_transactions_that_read_then_write_at_once_all_commit(db: Database) -> None:
    async def increment() -> None:
        async with db.transaction() as session:
            value = (await session.execute(text("SELECT value FROM counter WHERE id = 1"))).scalar_one()
            await asyncio.sleep(0)  # let the others start theirs
            await session.execute(text("UPDATE counter SET value = :v WHERE id = 1"), {"v": value + 1})

    await asyncio.gather(*(increment() for _ in range(8)))
    async with db.read_only() as session:
        assert (await session.execute(text("SELECT value FROM counter"))).scalar_one() == 8

