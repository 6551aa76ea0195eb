"""What every event bus offers. Delivery is at least once; consumers make effects idempotent."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from atelier_common.errors import ServiceUnavailable
from atelier_common.events.envelope import Envelope

log = logging.getLogger("atelier.bus")

Handler = Callable[[Envelope], Awaitable[None]]


class EventBus(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, envelopes: list[Envelope]) -> None:
        """Return only once the bus has taken responsibility for every envelope."""

    def subscribe(self, consumer: str, types: Iterable[str], handler: Handler, *,
                  broadcast: bool = False) -> None:
        """Deliver events of `types` to `handler`, one queue per consumer service.

        `broadcast`: every running instance gets its own copy (the gateway's denylist) instead of
        the instances sharing one durable queue.
        """

    async def bind(self, consumer: str, types: Iterable[str]) -> None:
        """Route events of `types` to `consumer`'s queue as well, from now on: once this returns,
        every event of them published later reaches the queue, whether or not an instance of the
        consumer runs (the broker declares the queue if need be). Bindings are only ever added."""

    async def ready(self) -> bool: ...


@runtime_checkable
class DrainableBus(Protocol):
    """A bus whose `drain()` waits for the outbox too (the in-memory one): relays register their flush."""

    def add_drain_source(self, flush: Callable[[], Awaitable[int]]) -> None: ...


@dataclass(frozen=True)
class Routes:
    """One consumer's bindings made on demand (`ServiceSpec.worker_routes`): a consumer that hears
    an event only while something of the service's own state wants it (identity's webhook fan-out,
    only while an endpoint subscribes to the type) is not bound to the rest, so they cost no delivery.

    `open(types)` runs before the commit that makes them wanted: an event published after that
    commit cannot miss the queue. A broker that cannot be reached refuses the write (503) rather
    than accept it and lose events. Bindings are never removed here: a removal racing the next
    `open` could drop an event, and a binding nobody wants any more costs a delivery, not a loss."""

    bus: EventBus
    consumer: str

    async def open(self, types: Iterable[str]) -> None:
        wanted = sorted(set(types))
        if not wanted:
            return
        try:
            await self.bus.bind(self.consumer, wanted)
        except Exception as exc:
            log.warning("binding %s to %s failed: %s", self.consumer, ", ".join(wanted), exc)
            raise ServiceUnavailable("The event broker is unavailable; try again") from exc
