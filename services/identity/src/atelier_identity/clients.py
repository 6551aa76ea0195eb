"""Other services' internal APIs that identity calls."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from atelier_common.errors import ServiceUnavailable
from atelier_common.internal import call_internal

log = logging.getLogger("atelier.identity.clients")

SUBSCRIPTION_FIELDS = ("plan_id", "tier", "status", "current_period_start", "current_period_end",
                       "cancel_at_period_end")
QUOTA_FIELDS = ("monthly", "used", "remaining")


@dataclass(frozen=True)
class Subscription:
    """The user's plan and generation quota as payments reports them (`GET /subscriptions/current`)."""

    subscription: dict[str, Any]
    quota: dict[str, Any]


class PaymentsClient:
    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime

    async def subscription(self, user_id: uuid.UUID) -> Subscription | None:
        """The user's subscription and quota; None (logged) when payments cannot tell us now."""
        try:
            response = await call_internal(self.runtime, "payments", "GET", f"/internal/subscriptions/{user_id}")
        except ServiceUnavailable as exc:
            log.warning("payments is unreachable; profile of %s without subscription: %s", user_id, exc)
            return None
        if response.status_code != 200:
            log.warning("payments answered %s for the subscription of %s: %s", response.status_code, user_id,
                        response.text[:500])
            return None
        try:
            body = response.json()
            quota = body["quota"]
            return Subscription(subscription={k: body[k] for k in SUBSCRIPTION_FIELDS},
                                quota={k: quota[k] for k in QUOTA_FIELDS})
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("payments sent a subscription identity cannot read: %s", exc)
            return None
