"""Payments' housekeeping: idempotency keys past their 24 hours go, live ones stay (a retried POST
still gets its first answer); local checkout pages go a week after they expired, the payment they
were for stays. SQLite, and PostgreSQL when set."""

from __future__ import annotations

import uuid
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


async def test_gift_cards_held_by_a_checkout_nobody_paid_go_back_once_its_pages_closed(api) -> None:
    from .test_gift_card_checkout import card, checkout
    from .test_gift_cards import issued_code

    card_id, code = await issued_code(api, "30.00")
    other_id, other = await issued_code(api, "30.00")
    anon_id, headers = api.anon()
    stale, recent = api.orders.add(anon_id, total="50.00"), api.orders.add(anon_id, total="50.00")
    for order, used in ((stale, code), (recent, other)):
        assert (await checkout(api, order["id"], headers, [used])).status_code == 200
    assert (await card(api, card_id))["balance"] == "0.00"  # held
    async with api.db.transaction() as session:
        [payment] = (await session.exec(select(Payment).where(Payment.order_id == uuid.UUID(stale["id"])))).all()
        payment.created_at = utcnow() - timedelta(hours=25, minutes=5)

    report = await Housekeeper(api.db, sweeps(api.h.runtime.context), service="payments").run_once()

    assert report.removed["gift_card_holds"] == 1 and not report.failed
    assert [p.status for p in await api.payments(stale["id"])] == ["canceled"]
    assert [p.status for p in await api.payments(recent["id"])] == ["requires_payment"]
    assert (await card(api, card_id))["balance"] == "30.00"
    assert (await card(api, other_id))["balance"] == "0.00"  # its checkout may still be paid
