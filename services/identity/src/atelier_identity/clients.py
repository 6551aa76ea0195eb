"""Other services' internal APIs that identity calls."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from pydantic import ValidationError

from atelier_common.errors import ServiceUnavailable
from atelier_common.internal import InternalApi
from atelier_identity.schemas import QuotaRead, SubscriptionRead

log = logging.getLogger("atelier.identity.clients")


@dataclass(frozen=True)
class Subscription:
    """The user's plan and generation quota as payments reports them."""

    plan: SubscriptionRead
    quota: QuotaRead


class PaymentsClient:
    def __init__(self, internal: InternalApi) -> None:
        self.internal = internal

    async def subscription(self, user_id: uuid.UUID) -> Subscription | None:
        """The user's subscription and quota; None (logged) when payments cannot tell us now."""
        try:
            response = await self.internal.call("payments", "GET", f"/internal/subscriptions/{user_id}")
        except ServiceUnavailable as exc:
            log.warning("payments is unreachable; the profile of %s goes without its subscription: %s",
                        user_id, exc)
            return None
        if response.status_code != 200:
            log.warning("payments answered %s for the subscription of %s: %s", response.status_code, user_id,
                        response.text[:500])
            return None
        try:
            body = response.json()
            return Subscription(plan=SubscriptionRead.model_validate(body),
                                quota=QuotaRead.model_validate(body["quota"]))
        except (ValueError, KeyError, TypeError, ValidationError) as exc:
            log.warning("payments sent a subscription identity cannot read: %s", exc)
            return None


@dataclass(frozen=True)
class StorefrontOrders:
    """How many orders a storefront has, and how many of them are not paid yet."""

    orders: int
    unpaid: int


class OrdersClient:
    def __init__(self, internal: InternalApi) -> None:
        self.internal = internal

    async def storefront_orders(self, slug: str) -> StorefrontOrders:
        """The storefront's order counts; `ServiceUnavailable` (503) when orders cannot tell now, so
        that a change depending on them is not made blind."""
        response = await self.internal.call("orders", "GET", f"/internal/storefronts/{slug}/orders")
        if response.status_code != 200:
            log.warning("orders answered %s for the orders of storefront %s: %s", response.status_code, slug,
                        response.text[:500])
            raise ServiceUnavailable("orders cannot tell whether the storefront has orders")
        try:
            body = response.json()
            counts = StorefrontOrders(orders=int(body["orders"]), unpaid=int(body["unpaid"]))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("orders sent storefront counts identity cannot read: %s", exc)
            raise ServiceUnavailable("orders cannot tell whether the storefront has orders") from exc
        return counts
