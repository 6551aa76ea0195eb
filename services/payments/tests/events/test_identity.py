"""identity.anonymous_claimed moves an anonymous buyer's payments and ledger; user_deleted
anonymises them (they stay as accounting records)."""

from __future__ import annotations

import pytest

from atelier_common.contracts.identity import AnonymousClaimed, UserDeleted

# Handlers upsert and lock their aggregate's row (CONTRIBUTING.md, "Consumers commute").
pytestmark = pytest.mark.databases("sqlite", "postgres", why="handlers' upserts and locks are written per dialect")


class TestAnonymousClaimed:
    async def test_payments_and_ledger_move_to_the_user(self, api) -> None:
        anon_id, anon_headers = api.anon()
        order, _ = await api.paid_locally((anon_id, anon_headers))
        user_id, user_headers = api.user()
        await api.h.deliver(AnonymousClaimed(anon_id=anon_id, user_id=user_id))
        [payment] = await api.payments(order["id"])
        assert (payment.owner_id, payment.user_id, payment.anon_id) == (user_id, user_id, anon_id)
        ledger = (await api.client.get("/api/v1/billing/ledger", headers=user_headers)).json()
        assert [e["order_id"] for e in ledger["results"]] == [order["id"]]


class TestUserDeleted:
    async def test_the_user_is_removed_from_payments_and_ledger(self, api) -> None:
        user_id, headers = api.user()
        order, _ = await api.paid_locally((user_id, headers), user_id=user_id)
        await api.h.deliver(UserDeleted(user_id=user_id))
        [payment] = await api.payments(order["id"])
        assert payment.owner_id != user_id and payment.user_id is None
        assert payment.order_snapshot["buyer"] is None and payment.order_snapshot["shipping_address"] is None
        assert payment.status == "succeeded" and payment.amount == 85.5  # the record itself stays
        assert await api.ledger(user_id) == []
        assert [e.owner_id for e in await api.ledger()] == [payment.owner_id]
