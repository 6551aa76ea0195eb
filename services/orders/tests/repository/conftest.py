"""Race tests need real row locks: they run on PostgreSQL only (skipped, with the reason, without
one; failing instead when ATELIER_REQUIRE_INFRA=1). Migration tests get an empty database of each
kind (`empty_database`, atelier_testing's), to migrate step by step."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

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
