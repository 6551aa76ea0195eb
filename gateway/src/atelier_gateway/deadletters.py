"""The staff API over the platform's dead letters: `/api/v1/staff/dead-letters`, also at its
first path `/api/v1/ops/dead-letters`. Support reads them; replaying and dropping are the admin's,
and each is in the audit log (published by the gateway, which has no outbox: `audit.publish`).

The gateway is the one process that reaches every consumer's dead-letter queue without importing a
service; the work is the bus's (`atelier_common.events.deadletters`). A replay goes back through
the consumer's normal queue and inbox, so it is applied at most once.
"""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import Field, model_validator

from atelier_common import audit
from atelier_common.auth import AdminPrincipal, Principal, SupportPrincipal
from atelier_common.errors import NotFound, ServiceUnavailable
from atelier_common.events.deadletters import DeadLetterQueues
from atelier_common.inputs import InputModel
from atelier_gateway.settings import SERVICES, WORKER_SERVICES
from atelier_gateway.state import gateway_state

# Each service consumes as itself, and its job workers as `<service>-worker`.
CONSUMERS = (*SERVICES, *(f"{service}-worker" for service in WORKER_SERVICES))

log = logging.getLogger("atelier.gateway.deadletters")
router = APIRouter(tags=["operations"])
PREFIXES = ("/api/v1/staff/dead-letters", "/api/v1/ops/dead-letters")


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
    bus = gateway_state(request.app).bus
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


async def _audited(request: Request, staff: Principal, action: str, consumer: str, body: Selection,
                   count: int) -> None:
    selection: dict[str, Any] = {"all": True} if body.all else {"ids": [str(i) for i in body.ids]}
    try:
        await audit.publish(gateway_state(request.app).bus, staff, action, "dead_letters", consumer, service="gateway",
                            after={**selection, "count": count})
    except Exception:  # the action is done either way; an unrecorded one must at least be seen
        log.exception("the audit row of %s on %s by %s could not be published", action, consumer, staff.user_id)


@router.post("/{consumer}/replay")
async def replay_dead_letters(request: Request, consumer: str, body: Selection, staff: AdminPrincipal,
                              ) -> dict[str, int]:
    """Send the chosen dead letters back through the consumer's queue and inbox (at most once)."""
    replayed = await _guarded(_queues(request, consumer).replay_dead_letters(consumer, body.chosen()))
    await _audited(request, staff, "dead_letters.replay", consumer, body, replayed)
    return {"replayed": replayed}


@router.post("/{consumer}/drop")
async def drop_dead_letters(request: Request, consumer: str, body: Selection, staff: AdminPrincipal,
                            ) -> dict[str, int]:
    dropped = await _guarded(_queues(request, consumer).drop_dead_letters(consumer, body.chosen()))
    await _audited(request, staff, "dead_letters.drop", consumer, body, dropped)
    return {"dropped": dropped}
