"""The staff audit log: kept from every service's `staff.action_recorded`, read by admins."""

from __future__ import annotations

from collections.abc import Sequence

from atelier_common.contracts.staff import StaffActionRecorded
from atelier_identity.models import StaffAudit
from atelier_identity.repository.staff import AuditFilter, StaffAuditRepository
from atelier_identity.service._use_case import IdentityUseCase


class AuditLog(IdentityUseCase):
    async def keep(self, event: StaffActionRecorded, event_id: object) -> None:
        await StaffAuditRepository(self.session).add({
            "id": event_id, "at": event.at, "actor_id": event.actor_id, "actor_email": event.actor_email,
            "actor_roles": event.actor_roles, "service": event.service, "action": event.action,
            "target_type": event.target_type, "target_id": event.target_id, "before": event.before,
            "after": event.after, "reason": event.reason})

    async def page(self, where: AuditFilter, *, limit: int, offset: int) -> tuple[int, Sequence[StaffAudit]]:
        return await StaffAuditRepository(self.session).page(where, limit=limit, offset=offset)
