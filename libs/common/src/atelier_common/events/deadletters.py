"""Dead letters: the events a consumer gave up on, for an operator to list, inspect, replay or drop.

Every bus keeps them per consumer (RabbitMQ: the `<consumer>.events.dlq` queue; in memory: a list).
A replay hands the event back to that consumer's normal queue with a fresh retry budget, so it
goes through the same inbox as any delivery: an event replayed twice is still applied once.
The CLI (`atelier events dlq …`) and the gateway's staff API both use this one interface.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

ERROR_HEADER = "x-atelier-error"
# Kept short: a header travels with every retry of the message.
ERROR_MAX_CHARS = 1000


@dataclass(frozen=True)
class DeadLetter:
    consumer: str
    id: str
    type: str
    retries: int
    error: str
    # The envelope as published ({id, type, version, occurred_at, ..., data}); None when the
    # message could not even be read (then `body` holds its start).
    envelope: dict[str, Any] | None
    body: str = ""

    def summary(self) -> dict[str, Any]:
        """The list view: everything but the payload."""
        envelope = self.envelope or {}
        return {"id": self.id, "type": self.type, "consumer": self.consumer, "retries": self.retries,
                "error": self.error, "occurred_at": envelope.get("occurred_at"),
                "correlation_id": envelope.get("correlation_id")}

    def detail(self) -> dict[str, Any]:
        return {**self.summary(), "envelope": self.envelope, "body": self.body if self.envelope is None else None}


def error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:ERROR_MAX_CHARS]


@runtime_checkable
class DeadLetterQueues(Protocol):
    """What an operator can do with a bus's dead letters. `ids=None` means all of that consumer's."""

    async def count_dead_letters(self, consumers: Iterable[str]) -> dict[str, int]:
        """Dead letters per consumer, for the consumers of `consumers` that have a dead-letter queue."""

    async def list_dead_letters(self, consumer: str, *, limit: int) -> list[DeadLetter]: ...

    async def replay_dead_letters(self, consumer: str, ids: Collection[str] | None) -> int:
        """Hand these dead letters back to the consumer's queue; returns how many were."""

    async def drop_dead_letters(self, consumer: str, ids: Collection[str] | None) -> int:
        """Delete these dead letters for good; returns how many were."""
