"""Idempotency keys as a service's housekeeping finds them, and the check that its sweeps remove the
expired ones: every service that keeps keys runs the same test against its own sweeps."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import col, select

from atelier_common.columns import utcnow
from atelier_common.db import Database
from atelier_common.housekeeping import Housekeeper, Sweep
from atelier_common.idempotency import IdempotencyKey


def idempotency_key(service: str, expires_in: timedelta, *, now: datetime | None = None) -> IdempotencyKey:
    """A stored answer of `service` that expires `expires_in` from `now` (negative: already expired)."""
    now = now or utcnow()
    return IdempotencyKey(scope=f"{service}:POST /x:user:{uuid.uuid4()}", key=uuid.uuid4().hex, request_hash="0" * 64,
                          status_code=201, response_body="{}", created_at=now + expires_in - timedelta(hours=24),
                          expires_at=now + expires_in)


async def check_expired_keys_go(db: Database, sweeps: Sequence[Sweep], service: str) -> None:
    """Keys past their 24 hours go, in batches; live ones stay (a retried POST still gets its first answer)."""
    expired = [idempotency_key(service, -timedelta(seconds=1)) for _ in range(5)]
    live = [idempotency_key(service, timedelta(hours=23)) for _ in range(2)]
    async with db.transaction() as session:
        session.add_all([*expired, *live])

    report = await Housekeeper(db, sweeps, service=service, batch_size=2).run_once()

    assert report.removed["idempotency_keys"] == 5 and not report.failed
    async with db.read_only() as session:
        assert set((await session.exec(select(col(IdempotencyKey.key)))).all()) == {k.key for k in live}
