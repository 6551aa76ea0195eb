"""What generation asks other services over their `/internal` APIs.

orders tells whether an order is the caller's, paid, and holds a retry pack (`/retries/apply`
may name an order whose `order.paid` has not reached generation yet). payments tells a user's plan
(a job posted the moment a subscription was paid may come before `subscription.changed`).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from atelier_common.contracts.identity import DEFAULT_STOREFRONT
from atelier_common.contracts.payments import SubscriptionChanged
from atelier_common.errors import ServiceUnavailable
from atelier_common.internal import InternalApi

log = logging.getLogger("atelier.generation.clients")


class _Answer(BaseModel):
    # Another service may add fields before we know them.
    model_config = ConfigDict(extra="ignore")


class OrderLineAnswer(_Answer):
    product_id: uuid.UUID
    sku: str
    kind: str
    quantity: int
    attributes: dict[str, Any] = {}
    content_type: str | None = None
    content_id: uuid.UUID | None = None


class OrderAnswer(_Answer):
    id: uuid.UUID
    owner_id: uuid.UUID
    user_id: uuid.UUID | None = None
    status: str
    # Orders' own reading of its status: the money arrived (what a status means is orders' rule).
    is_paid: bool = False
    # The storefront the order was placed on (an orders without storefronts: the default).
    storefront: str = DEFAULT_STOREFRONT
    items: list[OrderLineAnswer] = []


class PlanAnswer(_Answer):
    event: SubscriptionChanged
    # When payments' row last changed: ordered against the events as their `occurred_at`.
    changed_at: datetime


_Found = TypeVar("_Found", bound=_Answer)


class ServiceClients:
    """The internal calls generation makes; through `internal` (the HTTP client, the URLs, the credential)."""

    def __init__(self, internal: InternalApi) -> None:
        self.internal = internal

    async def order(self, order_id: uuid.UUID) -> OrderAnswer | None:
        """The order as orders keeps it, or None when there is none."""
        return await self._found("orders", f"/internal/orders/{order_id}", OrderAnswer)

    async def plan(self, user_id: uuid.UUID) -> PlanAnswer | None:
        """The user's plan as payments' `subscription.changed` tells it, or None while there is none."""
        return await self._found("payments", f"/internal/subscriptions/{user_id}/plan", PlanAnswer)

    async def _found(self, service: str, path: str, answer: type[_Found]) -> _Found | None:
        """`service`'s answer to GET `path`: None for 404; ServiceUnavailable for anything unreadable."""
        response = await self.internal.call(service, "GET", path)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            log.error("%s answered %s to generation: %s", service, response.status_code, response.text[:500])
            raise ServiceUnavailable(f"{service} gave an unexpected answer")
        try:
            return answer.model_validate(response.json())
        except (ValidationError, ValueError) as exc:
            log.error("%s answered generation with an unreadable body: %s", service, exc)
            raise ServiceUnavailable(f"{service} gave an unexpected answer") from exc
