"""Races on PostgreSQL: guarded updates and row locks, never check-then-write."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from atelier_generation.service import CreditService

from ..conftest import credit_pack_paid, jpeg_bytes


@pytest.fixture
async def api(start_generation, db_backend):
    if db_backend != "postgres":
        pytest.skip("real concurrency needs PostgreSQL (set ATELIER_TEST_POSTGRES_URL)")
    # No worker: the races are about charging and limits, not about running the jobs.
    async with start_generation(roles={"api", "relay", "consumer"}) as generation:
        yield generation


class TestConcurrentSpending:
    async def test_thirty_requests_against_a_balance_for_five(self, api) -> None:
        user = api.user()
        await api.buy_credits(user, 10)  # flux-pro × 1 = 2 credits: five jobs
        responses = await asyncio.gather(*(api.generate(user, f"figure {n}", model="flux-pro") for n in range(30)))
        outcomes = Counter((r.status_code, r.json().get("status") or r.json()["error"]["code"]) for r in responses)
        assert outcomes == {(202, "queued"): 5, (403, "INSUFFICIENT_CREDITS"): 25}
        assert await api.balance(user) == 0
        history = await api.transactions(user)
        assert Counter(t["transaction_type"] for t in history) == {"consume": 5, "purchase": 1}
        assert sorted(t["balance_after"] for t in history if t["transaction_type"] == "consume") == [0, 2, 4, 6, 8]
        await api.h.drain()
        assert len(api.h.published("credit.consumed")) == 5

    async def test_one_restoration_unlocks_once(self, start_generation, db_backend) -> None:
        if db_backend != "postgres":
            pytest.skip("real concurrency needs PostgreSQL")
        async with start_generation() as api:
            user = api.user()
            await api.buy_credits(user, 5)
            restoration = await api.restored(user)
            path = f"/api/v1/restorations/{restoration['id']}/unlock"
            responses = await asyncio.gather(*(api.client.post(path, headers=user.headers) for _ in range(5)))
            assert sorted(r.status_code for r in responses) == [200, 409, 409, 409, 409]
            assert await api.balance(user) == 4


class TestConcurrentLimits:
    async def test_parallel_uploads_keep_the_history_limit(self, api) -> None:
        user = api.user()
        photo = jpeg_bytes(600, 500)
        responses = await asyncio.gather(*(api.upload(user, photo) for _ in range(10)))
        assert Counter(r.status_code for r in responses) == {201: 6, 403: 4}

    async def test_two_events_for_one_order_line_grant_once(self, api) -> None:
        user = api.user()
        paid = credit_pack_paid(user.id, 5)

        async def grant() -> int:
            async with api.runtime.db.transaction() as session:
                return await CreditService(session, api.runtime.context).grant_order(paid)

        assert sorted(await asyncio.gather(grant(), grant(), grant())) == [0, 0, 5]
        assert await api.balance(user) == 5
