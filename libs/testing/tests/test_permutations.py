"""deliver_in_every_order: every permutation (and redelivery) of a scenario's events, one outcome."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from pathlib import Path

import pytest

import atelier_cart
from atelier_common.contracts.identity import UserDeleted
from atelier_common.db import Database
from atelier_testing.permutations import deliver_in_every_order, delivery_orders, racing_consumers

pytestmark = pytest.mark.databases("sqlite", "postgres", why="the test kit's interleavings on each database")


def test_every_permutation_alone_each_twice_and_again() -> None:
    orders = delivery_orders(3)
    assert len(orders) == 6 * 3
    assert {o.indexes for o in orders if o.label.count(",") == 2 and " " not in o.label} == {
        (0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)}
    assert next(o for o in orders if o.label == "1,0,2 each twice").indexes == (1, 1, 0, 0, 2, 2)
    assert next(o for o in orders if o.label == "2,1,0 then again").indexes == (2, 1, 0, 2, 1, 0)
    assert [o.indexes for o in delivery_orders(2, twice=False)] == [(0, 1), (1, 0)]


class _Store:
    """A toy consumer: one aggregate per scenario run, keyed by the run's number."""

    def __init__(self) -> None:
        self.runs = 0
        self.seen: dict[int, list[str]] = {}

    async def scenario(self) -> list[tuple[int, str]]:
        self.runs += 1
        return [(self.runs, "placed"), (self.runs, "paid")]


async def test_a_consumer_that_commutes_has_one_outcome() -> None:
    store = _Store()
    deliveries: list[int] = []

    async def deliver(event: tuple[int, str], nth: int) -> None:
        deliveries.append(nth)
        run, name = event
        if name not in store.seen.setdefault(run, []):  # idempotent, order-free: a set
            store.seen[run].append(name)

    async def outcome(events: Sequence[tuple[int, str]]) -> list[str]:
        return sorted(store.seen[events[0][0]])

    assert await deliver_in_every_order(store.scenario, deliver, outcome) == ["paid", "placed"]
    assert store.runs == 6  # one fresh aggregate per delivery order
    assert deliveries.count(1) == 2 * 4  # the redeliveries are told apart


async def test_a_consumer_that_depends_on_the_order_is_reported_with_each_order() -> None:
    store = _Store()

    async def deliver(event: tuple[int, str], nth: int) -> None:
        run, name = event
        store.seen[run] = [name]  # last writer wins: the order shows

    async def outcome(events: Sequence[tuple[int, str]]) -> str:
        return store.seen[events[0][0]][0]

    with pytest.raises(AssertionError) as failure:
        await deliver_in_every_order(store.scenario, deliver, outcome, twice=False)
    assert "[0,1] tuple → tuple: 'paid'" in str(failure.value)
    assert "[1,0] tuple → tuple: 'placed'" in str(failure.value)


async def test_the_expected_outcome_is_checked_and_deliveries_may_race() -> None:
    store = _Store()
    started = asyncio.Event()
    waiting = 0

    async def deliver(event: tuple[int, str], nth: int) -> None:
        nonlocal waiting
        waiting += 1
        if waiting % 2:  # every other delivery waits for the next one to start: they overlap
            await started.wait()
            started.clear()
        else:
            started.set()
        store.seen.setdefault(event[0], []).append(event[1])

    async def outcome(events: Sequence[tuple[int, str]]) -> int:
        return len(store.seen[events[0][0]])

    assert await deliver_in_every_order(store.scenario, deliver, outcome, twice=False, concurrently=True,
                                        expected=2) == 2
    with pytest.raises(AssertionError, match="expected 3"):
        await deliver_in_every_order(store.scenario, deliver, outcome, twice=False, concurrently=True, expected=3)


class TestRacingConsumers:
    """`racing_consumers` delivers as production's consumer does: a transient failure again, any
    other raised to the test (the bus would redeliver it; a saga test must see it)."""

    @pytest.fixture
    async def db(self, service_database):
        database = Database(service_database("cart", Path(atelier_cart.__file__).parent / "migrations"),
                            service="cart")
        yield database
        await database.dispose()

    async def test_a_transient_failure_is_retried_as_production_does(self, db) -> None:
        calls: list[int] = []

        async def flaky(event: UserDeleted, ctx: object) -> None:
            calls.append(1)
            if len(calls) < 3:
                raise ConnectionError("the database went away")

        await racing_consumers(db, "cart", {UserDeleted: flaky}, None)(UserDeleted(user_id=uuid.uuid4()), 0)
        assert len(calls) == 3

    async def test_any_other_failure_is_raised_not_swallowed(self, db) -> None:
        calls: list[int] = []

        async def broken(event: UserDeleted, ctx: object) -> None:
            calls.append(1)
            raise RuntimeError("a bug")

        with pytest.raises(RuntimeError, match="a bug"):
            await racing_consumers(db, "cart", {UserDeleted: broken}, None)(UserDeleted(user_id=uuid.uuid4()), 0)
        assert len(calls) == 1
