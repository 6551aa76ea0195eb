"""Saga steps must commute: a consumer may hear one aggregate's events in any order, some of them
twice, some at once. `deliver_in_every_order` runs a scenario once per delivery order and checks
that every order ends in the same observable state.

```python
async def scenario() -> list[IntegrationEvent]:      # a fresh aggregate for each run
    order = placed(line(slab, 2))
    return [order, paid(order)]

async def outcome(events) -> tuple[int, list[str]]:   # what must not depend on the order
    return await stock(harness, slab), statuses(events[0].order_id)

result = await deliver_in_every_order(scenario, redelivering(harness), outcome)
```

Each run gets its own events from `scenario` (one new aggregate), so runs do not disturb each
other and share one service. With `twice` (the default) every permutation is also run with each
event redelivered at once and with the whole sequence redelivered after it; `deliver` is told
which delivery of the event it is (0 first, 1 again), so it can reuse the envelope id as a broker
does (`redelivering`). With `concurrently` each run delivers everything at once (asyncio.gather):
for consumers on PostgreSQL, whose handlers then really race.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from atelier_common.db import Database
from atelier_common.events.envelope import Envelope, IntegrationEvent
from atelier_common.inbox import EventHandler, apply_once

E = TypeVar("E")
T = TypeVar("T")

Scenario = Callable[[], Awaitable[Sequence[E]]]
Deliver = Callable[[E, int], Awaitable[object]]
Outcome = Callable[[Sequence[E]], Awaitable[T]]


@dataclass(frozen=True)
class DeliveryOrder:
    """One way to deliver a scenario's events: indexes into its events, in delivery order, and
    a label for messages ("1,0 then again")."""

    indexes: tuple[int, ...]
    label: str


def delivery_orders(count: int, *, twice: bool = True) -> list[DeliveryOrder]:
    """Every permutation of `count` events; with `twice`, each also with every event delivered
    twice in a row, and followed by itself (every event redelivered after all the others)."""
    orders: list[DeliveryOrder] = []
    for perm in itertools.permutations(range(count)):
        name = ",".join(map(str, perm))
        orders.append(DeliveryOrder(perm, name))
        if twice:
            orders.append(DeliveryOrder(tuple(i for i in perm for _ in range(2)), f"{name} each twice"))
            orders.append(DeliveryOrder(perm + perm, f"{name} then again"))
    return orders


def _name(event: object) -> str:
    """An event's type ("order.paid", a Stripe event's "charge.refunded"), else its class name."""
    if isinstance(event, dict) and isinstance(event.get("type"), str):
        return str(event["type"])
    kind = getattr(event, "type", None)
    return kind if isinstance(kind, str) else type(event).__name__


@dataclass
class Run(Generic[E, T]):
    order: DeliveryOrder
    events: Sequence[E]
    outcome: T

    def describe(self) -> str:
        names = [_name(self.events[i]) for i in self.order.indexes]
        return f"[{self.order.label}] {' → '.join(names)}: {self.outcome!r}"


async def deliver_in_every_order(scenario: Scenario[E], deliver: Deliver[E], outcome: Outcome[E, T], *,
                                  twice: bool = True, concurrently: bool = False,
                                  expected: Any = None) -> T:
    """Run `scenario` once per delivery order (`delivery_orders`), deliver its events in that
    order through `deliver(event, nth)` and read `outcome(events)`. Every outcome must be equal
    (and equal to `expected` when given); the common outcome is returned. An AssertionError
    lists each order with its outcome when they differ."""
    runs: list[Run[E, T]] = []
    orders: list[DeliveryOrder] | None = None
    while orders is None or len(runs) < len(orders):
        events = list(await scenario())
        if orders is None:
            if not events:
                raise ValueError("the scenario has no events")
            orders = delivery_orders(len(events), twice=twice)
        order = orders[len(runs)]
        seen: dict[int, int] = {}
        deliveries: list[tuple[E, int]] = []
        for index in order.indexes:
            deliveries.append((events[index], seen.get(index, 0)))
            seen[index] = seen.get(index, 0) + 1
        if concurrently:
            await asyncio.gather(*(deliver(event, nth) for event, nth in deliveries))
        else:
            for event, nth in deliveries:
                await deliver(event, nth)
        runs.append(Run(order, events, await outcome(events)))
    first = runs[0].outcome if expected is None else expected
    if any(run.outcome != first for run in runs):
        lines = "\n".join(run.describe() for run in runs)
        raise AssertionError(f"the outcome depends on the delivery order (expected {first!r}):\n{lines}")
    return runs[0].outcome


class Publisher(Protocol):
    """What `redelivering` needs of a harness (`ServiceHarness` is one)."""

    async def deliver(self, event: IntegrationEvent, *, producer: str = ..., envelope_id: Any = ...) -> Envelope: ...


def redelivering(harness: Publisher, *, producer: str = "test") -> Callable[[IntegrationEvent, int], Awaitable[Envelope]]:
    """A `deliver` through a `ServiceHarness`: every delivery of one event carries the same
    envelope id, so a second one is the broker redelivering it (which the inbox must absorb).
    Ids are chosen before delivering, so concurrent deliveries share them too."""
    ids: dict[int, tuple[IntegrationEvent, uuid.UUID]] = {}  # the event is kept: its id() stays unique

    async def deliver(event: IntegrationEvent, nth: int) -> Envelope:
        _, envelope_id = ids.setdefault(id(event), (event, uuid.uuid4()))
        return await harness.deliver(event, producer=producer, envelope_id=envelope_id)

    return deliver


def racing_consumers(db: Database, consumer: str, subscriptions: Mapping[type[IntegrationEvent], EventHandler],
                     context: Any) -> Callable[[IntegrationEvent, int], Awaitable[None]]:
    """A `deliver` straight into the consumer's inbox, as parallel consumers of its queue would: the
    handlers really race. Each delivery is what production's consumer does (`inbox.apply_once`: a
    transient failure retried with back-off); any other failure is raised, never swallowed."""
    envelopes: dict[int, tuple[IntegrationEvent, Envelope]] = {}  # the event kept: its id() stays unique

    async def deliver(event: IntegrationEvent, nth: int) -> None:
        _, envelope = envelopes.setdefault(id(event), (event, Envelope.wrap(event, producer="test")))
        await apply_once(db, consumer, envelope, event, subscriptions[type(event)], context)

    return deliver
