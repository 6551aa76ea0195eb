"""Orders' housekeeping: idempotency keys past their 24 hours go, live ones stay (a retried POST
still gets its first answer). SQLite, and PostgreSQL when set."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlmodel import select

from atelier_common.columns import utcnow
from atelier_common.housekeeping import Housekeeper
from atelier_common.idempotency import IdempotencyKey
from atelier_orders.housekeeping import sweeps

pytestmark = pytest.mark.databases("sqlite", "postgres", why="housekeeping's batched deletes and row locks")


def _key(expires_in: timedelta) -> IdempotencyKey:
    now = utcnow()
    return IdempotencyKey(scope=f"orders:POST /x:user:{uuid.uuid4()}", key=uuid.uuid4().hex, request_hash="0" * 64,
                          status_code=201, response_body="{}", created_at=now + expires_in - timedelta(hours=24),
                          expires_at=now + expires_in)


async def test_expired_idempotency_keys_go(harness) -> None:
    runtime = harness.runtime
    expired = [_key(-timedelta(seconds=1)) for _ in range(5)]
    live = [_key(timedelta(hours=23)) for _ in range(2)]
    async with runtime.db.transaction() as session:
        session.add_all([*expired, *live])

    report = await Housekeeper(runtime.db, sweeps(runtime.context), service="orders", batch_size=2).run_once()

    assert report.removed["idempotency_keys"] == 5 and not report.failed
    async with runtime.db.read_only() as session:
        assert set((await session.exec(select(IdempotencyKey.key))).all()) == {k.key for k in live}
