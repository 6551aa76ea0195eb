"""An anonymous buyer's `order.paid` and `identity.anonymous_claimed` handled at once on PostgreSQL
(parallel consumers): the credits always end in the user's wallet, once."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import pytest

from atelier_common.contracts.identity import AnonymousClaimed
from atelier_common.contracts.payments import OrderPaid
from atelier_common.events.envelope import IntegrationEvent
from atelier_generation.events import SUBSCRIPTIONS
from atelier_testing import deliver_in_every_order, racing_consumers

from ..conftest import User, credit_pack_paid

pytestmark = pytest.mark.databases("sqlite", "postgres", why="parallel transactions against the database's locks")


class TestPaidAndClaimedAtOnce:
    async def test_the_credits_are_the_users_however_the_two_race(self, api) -> None:
        users: dict[uuid.UUID, User] = {}

        async def scenario() -> list[IntegrationEvent]:
            anon_id, user = uuid.uuid4(), api.user()
            users[anon_id] = user
            return [credit_pack_paid(anon_id, 5, anonymous=True), AnonymousClaimed(anon_id=anon_id, user_id=user.id)]

        deliver = racing_consumers(api.runtime.db, "generation", SUBSCRIPTIONS, api.runtime.context)

        async def outcome(events: Sequence[IntegrationEvent]) -> tuple[int, int]:
            paid = next(e for e in events if isinstance(e, OrderPaid))
            return await api.balance(users[paid.owner_id]), len(await api.transactions(users[paid.owner_id]))

        for _ in range(5):
            await deliver_in_every_order(scenario, deliver, outcome, concurrently=True, expected=(5, 1))
