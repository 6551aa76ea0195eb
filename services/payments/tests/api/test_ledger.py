"""GET /billing/ledger: the caller's own entries, newest first, paginated."""

from __future__ import annotations

import uuid

from atelier_common.contracts.generation import CreditConsumed

from ..conftest import assert_error


class TestLedger:
    async def test_own_entries_newest_first_and_paginated(self, api) -> None:
        user_id, headers = api.user()
        for credits in (1, 2, 3):
            await api.h.deliver(CreditConsumed(user_id=user_id, credits=credits, reason="unlock",
                                               reference_id=uuid.uuid4(), balance_after=10 - credits))
        other_id = uuid.uuid4()
        await api.h.deliver(CreditConsumed(user_id=other_id, credits=7, reason="job", balance_after=0))

        first = (await api.client.get("/api/v1/billing/ledger", params={"limit": 2}, headers=headers)).json()
        assert first["count"] == 3 and first["previous"] is None and first["next"]
        assert [e["credits"] for e in first["results"]] == [-3, -2]
        assert first["results"][0]["kind"] == "credit_consumed"
        assert first["results"][0]["description"] == "Used 3 credits (unlock)"
        second = (await api.client.get("/api/v1/billing/ledger", params={"page": 2, "page_size": 2},
                                       headers=headers)).json()
        assert [e["credits"] for e in second["results"]] == [-1] and second["next"] is None

    async def test_an_empty_ledger(self, api) -> None:
        _, headers = api.user()
        body = (await api.client.get("/api/v1/billing/ledger", headers=headers)).json()
        assert body == {"count": 0, "next": None, "previous": None, "results": []}

    async def test_the_ledger_needs_a_signed_in_user(self, api) -> None:
        _, anon = api.anon()
        assert_error(await api.client.get("/api/v1/billing/ledger", headers=anon), 401, "AUTHENTICATION_REQUIRED")
        assert_error(await api.client.get("/api/v1/billing/ledger"), 401, "AUTHENTICATION_REQUIRED")

    async def test_a_redelivered_credit_consumed_is_recorded_once(self, api) -> None:
        user_id, _ = api.user()
        event = CreditConsumed(user_id=user_id, credits=1, reason="unlock", balance_after=4)
        envelope = await api.h.deliver(event)
        await api.h.deliver(event, envelope_id=envelope.id)
        assert len(await api.ledger(user_id)) == 1
