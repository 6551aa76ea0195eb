"""A service test's PostgreSQL database is empty when the test starts (`atelier_testing.plugin`):
only the tables with rows are truncated, and every sequence used since is restarted, the ones
whose rows are gone too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

import atelier_orders
from atelier_testing.plugin import _PostgresDatabases

pytestmark = pytest.mark.infra

MIGRATIONS = Path(atelier_orders.__file__).parent / "migrations"


@pytest.fixture
def databases(postgres_server_url: str) -> Iterator[_PostgresDatabases]:
    dbs = _PostgresDatabases(postgres_server_url)
    yield dbs
    dbs.drop_all()


def test_the_next_test_finds_no_rows_and_fresh_sequences(databases: _PostgresDatabases) -> None:
    dsn = databases.url("orders", MIGRATIONS).replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE scratch (id bigint GENERATED ALWAYS AS IDENTITY, note text)")
        conn.execute("CREATE TABLE untouched (note text)")
        conn.execute("CREATE SEQUENCE numbers")
        conn.execute("INSERT INTO scratch (note) VALUES ('a'), ('b')")
        conn.execute("SELECT nextval('numbers'), nextval('numbers')")  # used, no row holds it

    assert databases.url("orders", MIGRATIONS).replace("postgresql+psycopg://", "postgresql://", 1) == dsn

    with psycopg.connect(dsn, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM scratch").fetchone() == (0,)
        assert conn.execute("INSERT INTO scratch (note) VALUES ('c') RETURNING id").fetchone() == (1,)
        assert conn.execute("SELECT nextval('numbers')").fetchone() == (1,)
        # The migrations' own tables are still there, and still empty.
        assert conn.execute("SELECT count(*) FROM outbox").fetchone() == (0,)
