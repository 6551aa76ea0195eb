"""Events of staff work, produced by whichever service a staffer acted on."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from atelier_common.events.envelope import IntegrationEvent


class StaffActionRecorded(IntegrationEvent):
    """A staff write happened: queued in the same transaction as the write (`atelier_common.audit`),
    so there is no write without its audit row and no audit row of a write rolled back. Identity
    keeps them all in one audit log that admins read."""

    type = "staff.action_recorded"
    actor_id: uuid.UUID
    actor_email: str | None = None
    actor_roles: list[str]
    service: str
    action: str  # `<resource>.<verb>`, e.g. `refund.create`, `order.status_change`
    target_type: str
    target_id: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    reason: str | None = None
    at: datetime
