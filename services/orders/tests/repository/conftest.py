"""Race tests need real row locks: they run on PostgreSQL only (skipped, with the reason, without
one; failing instead when ATELIER_REQUIRE_INFRA=1). Migration tests get an empty database of each
kind (`database`), to migrate step by step."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from atelier_common.migrations import upgrade
from atelier_orders.settings import OrdersSettings

from ..conftest import MIGRATIONS


@pytest.fixture(scope="module")
def race_database_url(postgres_server_url: str) -> Iterator[str]:
    server = postgres_server_url.rstrip("/")
    name = f"atelier_test_orders_races_{uuid.uuid4().hex[:6]}"
    url = f"{server}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    upgrade(MIGRATIONS, url)
    yield url
    with psycopg.connect(f"{server}/postgres".replace("postgresql+psycopg://", "postgresql://", 1),
                         autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def orders_settings(race_database_url: str, test_settings_overrides) -> OrdersSettings:
    return OrdersSettings(database_url=race_database_url, **test_settings_overrides)


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'orders.db'}"
    from atelier_testing.infra import postgres_from_env, postgres_server

    if not postgres_from_env():
        pytest.skip("no PostgreSQL (ATELIER_TEST_POSTGRES_URL)")
    with postgres_server() as found:
        server = found.rstrip("/")
    name = f"atelier_test_orders_migrations_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server.replace("postgresql://", "postgresql+psycopg://", 1).rstrip("/") + "/postgres",
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    request.addfinalizer(lambda: _drop(admin, name))
    return server.replace("postgresql://", "postgresql+psycopg://", 1).rstrip("/") + f"/{name}"


def _drop(admin: sa.Engine, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
