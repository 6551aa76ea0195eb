"""Repository tests exercise PostgreSQL itself (row locks, full-text search): never SQLite."""

from __future__ import annotations

import pytest

from atelier_testing.infra import postgres_from_env, unavailable


@pytest.fixture
def db_backend() -> str:
    if postgres_from_env() is None:
        unavailable("PostgreSQL")  # a visible skip, or a failure when ATELIER_REQUIRE_INFRA=1
    return "postgres"
