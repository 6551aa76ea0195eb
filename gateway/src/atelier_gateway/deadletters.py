"""The staff API over the platform's dead letters: `/api/v1/ops/dead-letters`.

The gateway is the one process that reaches every consumer's dead-letter queue without importing a
service; the work is the bus's (`atelier_common.events.deadletters`). A replay goes back through
the consumer's normal queue and inbox, so it is applied at most once.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import Field, model_validator

from atelier_common.auth import AdminPrincipal, SupportPrincipal
from atelier_common.errors import NotFound, ServiceUnavailable
from atelier_common.events.deadletters import DeadLetterQueues
from atelier_common.inputs import InputModel
from atelier_gateway.settings import SERVICES

# Each service consumes as itself, and its job workers (if any) as `<service>-worker`.
CONSUMERS = tuple(name for service in SERVICES for name in (service, f"{service}-worker"))

router = APIRouter(prefix="/api/v1/ops/dead-letters", tags=["operations"])


class Selection(InputModel):
    """Which dead letters: the listed event ids, or all of the consumer's."""

    ids: list[uuid.UUID] = Field(default_factory=list, max_length=1000)
    all: bool = False

    @model_validator(mode="after")
    def _one_of(self) -> Selection:
        if bool(self.ids) == self.all:
            raise ValueError("give either ids or all=true")
        return self

    def chosen(self) -> set[str] | None:
        return None if self.all else {str(i) for i in self.ids}


def _queues(request: Request, consumer: str | None = None) -> DeadLetterQueues:
    if consumer is not None and consumer not in CONSUMERS:
        raise NotFound(f"No consumer {consumer!r}")
    bus = request.app.state.bus
    if not isinstance(bus, DeadLetterQueues):
        raise ServiceUnavailable("This event bus keeps no dead letters")
    return bus


async def _guarded(call: Any) -> Any:
    try:
        return await call
    except ConnectionError as exc:
        raise ServiceUnavailable("The event broker is not reachable") from exc


@router.get("")
async def list_dead_letter_queues(request: Request, staff: SupportPrincipal) -> dict[str, Any]:
    counts = await _guarded(_queues(request).count_dead_letters(CONSUMERS))
    return {"consumers": [{"consumer": c, "count": n} for c, n in counts.items()]}


@router.get("/{consumer}")
async def list_dead_letters(request: Request, consumer: str, staff: SupportPrincipal,
                            limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
    letters = await _guarded(_queues(request, consumer).list_dead_letters(consumer, limit=limit))
    return {"consumer": consumer, "results": [letter.summary() for letter in letters]}


@router.get("/{consumer}/{event_id}")
async def get_dead_letter(request: Request, consumer: str, event_id: uuid.UUID, staff: SupportPrincipal,
                          ) -> dict[str, Any]:
    # A dead-letter queue is read front to back: a show looks through at most this many.
    letters = await _guarded(_queues(request, consumer).list_dead_letters(consumer, limit=10_000))
    found = next((letter for letter in letters if letter.id == str(event_id)), None)
    if found is None:
        raise NotFound("No such dead letter")
    detail: dict[str, Any] = found.detail()
    return detail


@router.post("/{consumer}/replay")
async def replay_dead_letters(request: Request, consumer: str, body: Selection, staff: SupportPrincipal,
                              ) -> dict[str, int]:
    return {"replayed": await _guarded(_queues(request, consumer).replay_dead_letters(consumer, body.chosen()))}


@router.post("/{consumer}/drop")
async def drop_dead_letters(request: Request, consumer: str, body: Selection, staff: AdminPrincipal,
                            ) -> dict[str, int]:
    return {"dropped": await _guarded(_queues(request, consumer).drop_dead_letters(consumer, body.chosen()))}
