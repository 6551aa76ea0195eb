"""What every event bus offers. Delivery is at least once; consumers make effects idempotent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol, runtime_checkable

from atelier_common.events.envelope import Envelope

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

    async def ready(self) -> bool: ...


@runtime_checkable
class DrainableBus(Protocol):
    """A bus whose `drain()` waits for the outbox too (the in-memory one): relays register their flush."""

    def add_drain_source(self, flush: Callable[[], Awaitable[int]]) -> None: ...
