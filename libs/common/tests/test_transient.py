"""Transient failures are retried with back-off and, at the edge, answer 503; business errors are not."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import exc as sa_exc

from atelier_common.errors import AtelierError, ValidationFailed, install_error_handlers
from atelier_common.transient import is_transient, retry_transient


class _PgError(Exception):
    def __init__(self, sqlstate: str | None) -> None:
        super().__init__("pg")
        self.sqlstate = sqlstate


def _dbapi(cls: type[sa_exc.DBAPIError], sqlstate: str | None) -> sa_exc.DBAPIError:
    return cls("SELECT 1", {}, _PgError(sqlstate))


@pytest.mark.parametrize(("error", "transient"), [
    (sa_exc.TimeoutError("QueuePool limit reached"), True),
    (_dbapi(sa_exc.OperationalError, None), True),  # connection refused / dropped
    (_dbapi(sa_exc.OperationalError, "08006"), True),
    (_dbapi(sa_exc.OperationalError, "53300"), True),  # too many connections
    (_dbapi(sa_exc.DBAPIError, "40001"), True),  # serialization failure
    (_dbapi(sa_exc.IntegrityError, "23505"), False),  # a unique violation is a real answer
    (_dbapi(sa_exc.DataError, "22P02"), False),
    (ConnectionRefusedError(), True),
    (ValidationFailed("bad"), False),
    (ValueError("bug"), False),
])
def test_what_is_transient(error: BaseException, transient: bool) -> None:
    assert is_transient(error) is transient


def test_a_write_on_a_stale_sqlite_snapshot_is_transient(tmp_path: Path) -> None:
    """SQLite refuses at once (no busy wait) a write in a transaction that read before another
    writer committed: the request answers 503 and a consumer runs the transaction again."""
    path = tmp_path / "stale.db"
    with closing(sqlite3.connect(path, isolation_level=None)) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE t (n INTEGER)")
        setup.execute("INSERT INTO t VALUES (0)")
    with closing(sqlite3.connect(path, isolation_level=None, timeout=30)) as reader, \
            closing(sqlite3.connect(path, isolation_level=None)) as writer:
        reader.execute("BEGIN")
        reader.execute("SELECT n FROM t").fetchall()
        writer.execute("UPDATE t SET n = 1")
        with pytest.raises(sqlite3.OperationalError) as locked:
            reader.execute("UPDATE t SET n = 2")
    assert "database is locked" in str(locked.value)
    assert is_transient(sa_exc.OperationalError("UPDATE t SET n = 2", {}, locked.value))


async def test_a_transient_failure_is_retried_until_it_passes() -> None:
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionResetError("dropped")
        return "done"

    assert await retry_transient(flaky) == "done"
    assert calls == 3


async def test_a_transient_failure_that_lasts_is_raised_after_every_attempt() -> None:
    calls = 0

    async def down() -> None:
        nonlocal calls
        calls += 1
        raise ConnectionRefusedError(f"refused {calls}")

    with pytest.raises(ConnectionRefusedError, match="refused 3"):
        await retry_transient(down, attempts=3)
    assert calls == 3
    with pytest.raises(ConnectionRefusedError, match="refused 4"):
        await retry_transient(down, attempts=1)
    assert calls == 4


async def test_a_business_error_is_not_retried() -> None:
    calls = 0

    async def refuse() -> None:
        nonlocal calls
        calls += 1
        raise AtelierError("no")

    with pytest.raises(AtelierError):
        await retry_transient(refuse)
    assert calls == 1


async def test_an_unrecovered_transient_failure_answers_503_not_500() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/pool")
    async def pool() -> None:
        raise sa_exc.TimeoutError("QueuePool limit of size 5 overflow 5 reached")

    @app.get("/bug")
    async def bug() -> None:
        raise ZeroDivisionError

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/pool")
        assert response.status_code == 503 and response.headers["Retry-After"] == "1"
        assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
        assert (await client.get("/bug")).status_code == 500
