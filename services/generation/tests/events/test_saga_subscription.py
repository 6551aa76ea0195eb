"""The subscription saga in every delivery order (`atelier_testing.permutations`): payments'
`subscription.changed` of one user (started, renewed, cancelled at period end) may arrive in any
order or twice; generation keeps the newest, whatever came last."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from atelier_common.contracts.payments import SubscriptionChanged
from atelier_common.events.envelope import Envelope
from atelier_generation.models import Subscription
from atelier_testing import deliver_in_every_order

# Handlers upsert and lock their aggregate's row (CONTRIBUTING.md, "Consumers commute").
pytestmark = pytest.mark.databases("sqlite", "postgres", why="handlers' upserts and locks are written per dialect")

START = datetime(2026, 11, 1, tzinfo=UTC)


class TestSubscriptionInEveryOrder:
    async def test_the_newest_change_wins_in_any_order(self, api) -> None:
        occurred: dict[int, tuple[SubscriptionChanged, Envelope]] = {}  # the event kept: its id() stays unique

        async def scenario() -> list[SubscriptionChanged]:
            user_id = uuid.uuid4()
            first, second = START + timedelta(days=30), START + timedelta(days=60)
            changes = [
                SubscriptionChanged(user_id=user_id, plan_sku="pro_monthly", tier="pro", status="active",
                                    monthly_quota=100, current_period_end=first),
                SubscriptionChanged(user_id=user_id, plan_sku="pro_monthly", tier="pro", status="active",
                                    monthly_quota=100, current_period_end=second),
                SubscriptionChanged(user_id=user_id, plan_sku="pro_monthly", tier="pro", status="active",
                                    monthly_quota=100, current_period_end=second, cancel_at_period_end=True),
            ]
            for n, change in enumerate(changes):  # as payments produced them, a day apart
                envelope = Envelope.wrap(change, producer="payments").model_copy(
                    update={"occurred_at": START + timedelta(days=n)})
                occurred[id(change)] = (change, envelope)
            return changes

        async def deliver(event: SubscriptionChanged, nth: int) -> None:
            await api.h.bus.publish([occurred[id(event)][1]])  # a second delivery is the same envelope
            await api.h.drain()

        async def outcome(events: Sequence[SubscriptionChanged]) -> tuple[str, datetime | None, bool]:
            async with api.runtime.db.read_only() as session:
                row = await session.get(Subscription, events[0].user_id)
            assert row is not None
            end = row.current_period_end.astimezone(UTC) if row.current_period_end else None
            return row.status, end, row.cancel_at_period_end

        await deliver_in_every_order(scenario, deliver, outcome,
                                     expected=("active", START + timedelta(days=60), True))
