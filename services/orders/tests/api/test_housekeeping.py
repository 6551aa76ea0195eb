"""Orders' housekeeping: idempotency keys past their 24 hours go, live ones stay (a retried POST
still gets its first answer). SQLite, and PostgreSQL when set."""

from __future__ import annotations

import pytest

from atelier_orders.housekeeping import sweeps
from atelier_testing.housekeeping import check_expired_keys_go

pytestmark = pytest.mark.databases("sqlite", "postgres", why="housekeeping's batched deletes and row locks")


async def test_expired_idempotency_keys_go(harness) -> None:
    runtime = harness.runtime
    await check_expired_keys_go(runtime.db, sweeps(runtime.context), "orders")
