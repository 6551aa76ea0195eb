"""Races on PostgreSQL: guarded updates and row locks, never check-then-write."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from atelier_generation.service import CreditService

from ..conftest import credit_pack_paid, jpeg_bytes

pytestmark = pytest.mark.databases("sqlite", "postgres", why="parallel transactions against the database's locks")


class TestConcurrentSpending:
    async def test_thirty_requests_against_a_balance_for_five(self, api) -> None:
        user = await api.user_with_credits(10)  # flux-pro × 1 = 2 credits: five jobs
        responses = await asyncio.gather(*(api.generate(user, f"figure {n}", model="flux-pro") for n in range(30)))
        outcomes = Counter((r.status_code, r.json().get("status") or r.json()["error"]["code"]) for r in responses)
        assert outcomes == {(202, "queued"): 5, (403, "INSUFFICIENT_CREDITS"): 25}
        assert await api.balance(user) == 0
        history = await api.transactions(user)
        assert Counter(t["transaction_type"] for t in history) == {"consume": 5, "purchase": 1}
        assert sorted(t["balance_after"] for t in history if t["transaction_type"] == "consume") == [0, 2, 4, 6, 8]
        await api.h.drain()
        assert len(api.h.published("credit.consumed")) == 5

    @pytest.mark.databases("postgres", why="real concurrency needs PostgreSQL")
    async def test_one_restoration_unlocks_once(self, start_generation, db_backend) -> None:
        async with start_generation() as api:
            user = await api.user_with_credits(5)
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


class TestConcurrentRegeneration:
    async def test_ten_regenerations_with_three_retries_left(self, api) -> None:
        from ..api.test_books import call, new_book, new_character, print_order_paid, retries_of, user

        owner = user(api)
        book = await new_book(api, owner)
        character = await new_character(api, owner, book["id"])
        await api.h.deliver(print_order_paid(owner.id, book["id"], 3), producer="payments")
        path = f"/api/v1/books/{book['id']}/characters/{character['id']}/versions"
        responses = await asyncio.gather(*(api.client.post(path, headers=owner.headers) for _ in range(10)))
        outcomes = Counter((r.status_code, (r.json().get("error") or {}).get("code")) for r in responses)
        assert outcomes == {(201, None): 3, (403, "RETRY_LIMIT"): 7}
        versions = await call(api, owner, "GET", path.removeprefix("/api/v1"))
        assert [v["version_number"] for v in versions["results"]] == [1, 2, 3, 4]
        assert await retries_of(api, owner, book["id"], character["id"]) == {
            "content_type": "CHARACTER", "content_id": character["id"], "used": 3, "max": 3, "remaining": 0}

    async def test_one_pack_applied_by_five_requests_adds_once(self, api) -> None:
        from ..api.test_books import call, new_book, new_page, retries_of, retry_pack_paid, user

        owner = user(api)
        book = await new_book(api, owner)
        page = await new_page(api, owner, book["id"])
        paid = retry_pack_paid(owner.id)
        await api.h.deliver(paid, producer="payments")
        body = {"content_type": "PAGE", "content_id": page["id"], "order_id": str(paid.order_id)}
        responses = await asyncio.gather(*(api.client.post("/api/v1/retries/apply", json=body, headers=owner.headers)
                                           for _ in range(5)))
        assert sorted(r.status_code for r in responses) == [200, 400, 400, 400, 400]
        assert (await retries_of(api, owner, book["id"], page["id"]))["remaining"] == 3
        assert (await call(api, owner, "GET", f"/books/{book['id']}/pages"))["count"] == 1
