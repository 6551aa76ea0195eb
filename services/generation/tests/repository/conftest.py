"""The races' app: on PostgreSQL only (SQLite has one writer, so nothing races there)."""

from __future__ import annotations

import pytest


@pytest.fixture
async def api(start_generation, db_backend):
    if db_backend != "postgres":
        pytest.skip("real concurrency needs PostgreSQL (set ATELIER_TEST_POSTGRES_URL)")
    # No worker: the races are about charging, limits and claims, not about running the jobs.
    async with start_generation(roles={"api", "relay", "consumer"}) as generation:
        yield generation
