"""Payments' housekeeping: idempotency keys past their 24 hours go, live ones stay (a retried POST
still gets its first answer); local checkout pages go a week after they expired, the payment they
were for stays. SQLite, and PostgreSQL when set."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from atelier_common.columns import utcnow
from atelier_common.housekeeping import Housekeeper
from atelier_payments.housekeeping import sweeps
from atelier_payments.models import CheckoutSession, Payment
from atelier_testing.housekeeping import check_expired_keys_go

from ..conftest import assert_error

pytestmark = pytest.mark.databases("sqlite", "postgres", why="housekeeping's batched deletes and row locks")


async def test_expired_idempotency_keys_go(api) -> None:
    runtime = api.h.runtime
    await check_expired_keys_go(runtime.db, sweeps(runtime.context), "payments")


async def _checkout(api) -> str:
    anon_id, headers = api.anon()
    response = await api.checkout(api.orders.add(anon_id)["id"], headers)
    assert response.status_code == 200, response.text
    return response.json()["session_id"]


async def _expire(api, session_id: str, ago: timedelta) -> None:
    async with api.db.transaction() as session:
        checkout = await session.get(CheckoutSession, session_id)
        checkout.expires_at = utcnow() - ago


async def test_checkout_pages_go_a_week_after_they_expired(api) -> None:
    gone = [await _checkout(api) for _ in range(3)]
    for session_id in gone:
        await _expire(api, session_id, timedelta(days=7, minutes=5))
    expired_lately, open_page = await _checkout(api), await _checkout(api)
    await _expire(api, expired_lately, timedelta(days=6, hours=23))

    report = await Housekeeper(api.db, sweeps(api.h.runtime.context), service="payments", batch_size=2).run_once()

    assert report.removed["checkout_pages"] == 3 and not report.failed
    async with api.db.read_only() as session:
        assert set((await session.exec(select(CheckoutSession.id))).all()) == {expired_lately, open_page}
        kept = (await session.exec(select(Payment.provider_session_id))).all()
    assert set(kept) == {*gone, expired_lately, open_page}  # the payments stay
    assert_error(await api.client.get(f"/api/dev/checkout/{gone[0]}"), 404, "NOT_FOUND")
    assert (await api.client.get(f"/api/dev/checkout/{open_page}")).status_code == 200
