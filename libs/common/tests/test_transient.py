"""Transient failures are retried with back-off and, at the edge, answer 503; business errors are not."""

from __future__ import annotations

import logging
import socket
import sqlite3
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from atelier_common.db import SessionDep
from atelier_common.errors import AtelierError, ValidationFailed, install_error_handlers
from atelier_common.service import ServiceSpec, build_app
from atelier_common.settings import ServiceSettings
from atelier_common.transient import is_transient, retry_transient
from atelier_testing import RecordingBus, ServiceHarness, TestKeys


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


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends: nothing listens there


async def test_a_database_out_of_reach_answers_503_counted_under_its_route(
        test_keys: TestKeys, tmp_path: Path) -> None:
    """During a failover the service answers, logs and counts what the client gets: 503 in the
    common format with Retry-After, one warning line, the request metric under the route's label
    (the gateway's X-Forwarded-For on the request, as always) and nothing raised on to the server,
    which would log a trace of its own."""
    router = APIRouter()

    @router.get("/api/v1/things/{thing_id}")
    async def read_thing(thing_id: int, session: SessionDep) -> dict:
        await session.execute(text("SELECT 1"))
        return {}

    settings = ServiceSettings(environment="test", data_dir=tmp_path, jwks_json=test_keys.jwks_json,
                               jwt_issuer=test_keys.issuer, jwt_audience=test_keys.audience, auto_migrate=False,
                               database_url=f"postgresql+psycopg://atelier:x@127.0.0.1:{_closed_port()}/gone",
                               postgres_connect_timeout_seconds=2, log_json=False)
    bus = RecordingBus()
    app = build_app(ServiceSpec(name="outage", routers=[router]), settings, bus=bus, roles=frozenset({"api"}))
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]  # a handler that keeps what it is given
    async with ServiceHarness(app, bus) as h:  # its client raises what the app raises on to the server
        logging.getLogger("atelier").addHandler(handler)  # the service's loggers do not reach the root's
        try:
            response = await h.client.get("/api/v1/things/7", headers={"X-Forwarded-For": "203.0.113.9"})
        finally:
            logging.getLogger("atelier").removeHandler(handler)
        metrics = (await h.client.get("/metrics")).text
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert not [r for r in records if r.levelno >= logging.ERROR or r.exc_info]
    [warning] = [r for r in records if r.levelno == logging.WARNING and r.name == "atelier.errors"]
    assert "transient failure on GET /api/v1/things/7" in warning.getMessage()
    [access] = [r for r in records if r.name == "atelier.access"]
    assert access.fields["status"] == 503  # type: ignore[attr-defined]  # the access log's structured fields, set as an extra on the record
    assert ('atelier_http_requests_total{method="GET",route="/api/v1/things/{thing_id}",service="outage",'
            'status="503",storefront=""} 1.0') in metrics
    assert 'service="outage",status="500"' not in metrics


@pytest.mark.parametrize("sqlstate", ["25006", "57P03"])
def test_a_node_read_only_or_in_recovery_is_transient(sqlstate: str) -> None:
    """After a promotion the old primary refuses writes (25006) and a node starting up or in
    recovery refuses connections (57P03): both pass once the pool reaches the new primary."""
    assert is_transient(_dbapi(sa_exc.InternalError, sqlstate))
