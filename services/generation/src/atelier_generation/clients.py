"""What generation asks other services over their `/internal` APIs.

orders tells whether an order is the caller's, paid, and holds a retry pack (`/retries/apply`
may name an order whose `order.paid` has not reached generation yet).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from atelier_common.contracts.identity import DEFAULT_STOREFRONT
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


class ServiceClients:
    """The internal calls generation makes; through `internal` (the HTTP client, the URLs, the credential)."""

    def __init__(self, internal: InternalApi) -> None:
        self.internal = internal

    async def order(self, order_id: uuid.UUID) -> OrderAnswer | None:
        """The order as orders keeps it, or None when there is none."""
        response = await self.internal.call("orders", "GET", f"/internal/orders/{order_id}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            log.error("orders answered %s to generation: %s", response.status_code, response.text[:500])
            raise ServiceUnavailable("orders gave an unexpected answer")
        try:
            return OrderAnswer.model_validate(response.json())
        except (ValidationError, ValueError) as exc:
            log.error("orders answered generation with an unreadable body: %s", exc)
            raise ServiceUnavailable("orders gave an unexpected answer") from exc
