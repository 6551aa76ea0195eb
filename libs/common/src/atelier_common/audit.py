"""The audit log of staff writes: who, what, on which target, before/after, when, why.

Where it lives: each service records its staff writes by queueing `StaffActionRecorded` through
its outbox in the write's own transaction; identity consumes them into one `staff_audit` table
that `GET /api/v1/staff/audit` reads. Chosen over a table per service read by fan-out because the
admin's question ("what did this person do yesterday?") crosses services and wants one ordered,
paginated, filterable list; the outbox keeps the all-or-nothing guarantee a local table would give
(the write and its record commit together), at the price of the log trailing the write by a relay
hop. A service never writes another's table (docs/architecture.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic_core import to_jsonable_python
from sqlmodel.ext.asyncio.session import AsyncSession

from atelier_common import outbox
from atelier_common.auth import ROLE_CUSTOMER, ROLE_STAFF, Principal
from atelier_common.contracts.staff import StaffActionRecorded
from atelier_common.events.bus import EventBus
from atelier_common.events.envelope import Envelope
from atelier_common.telemetry import current_request_id


def staff_action(staff: Principal, service: str, action: str, target_type: str, target_id: object, *,
                 before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
                 reason: str | None = None) -> StaffActionRecorded:
    """The audit event of a staff write. `before`/`after` are the fields the write changed (the
    caller picks them: a whole product would bloat the log and could carry what an auditor needs
    not see); decimals, ids and dates become their JSON strings."""
    assert staff.user_id is not None  # staff routes require a user (RequireRole)
    return StaffActionRecorded(
        actor_id=staff.user_id, actor_email=staff.email,
        actor_roles=sorted(staff.roles - {ROLE_CUSTOMER, ROLE_STAFF}),
        service=service, action=action, target_type=target_type,
        target_id=str(target_id), before=_json(before), after=_json(after), reason=reason, at=datetime.now(UTC))


async def record(session: AsyncSession, staff: Principal, action: str, target_type: str, target_id: object, *,
                 before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
                 reason: str | None = None) -> None:
    """Queue the audit row of a staff write in the write's transaction (see `staff_action`)."""
    await outbox.add(session, staff_action(staff, session.info.get("service", "unknown"), action, target_type,
                                           target_id, before=before, after=after, reason=reason))


async def publish(bus: EventBus, staff: Principal, action: str, target_type: str, target_id: object, *,
                  service: str, before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
                  reason: str | None = None) -> None:
    """The audit row of a staff action of a process without a database (the gateway's dead-letter
    operations): published at once, after the action, with the bus's confirms. There is no
    transaction to share: an action whose audit cannot be published is still done (and logged by
    the caller) — the alternative, refusing the action, would not undo it either."""
    event = staff_action(staff, service, action, target_type, target_id, before=before, after=after, reason=reason)
    await bus.publish([Envelope.wrap(event, producer=service, correlation_id=current_request_id())])


def _json(values: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if values is None else dict(to_jsonable_python(values))
