"""Orders' internal API, the one fresh source of what an order costs and who owns it."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from atelier_common.internal import InternalApi, error_code
from atelier_common.money import quantize
from atelier_payments.domain import CountedQuota, EditView, OrderView, order_view
from atelier_payments.errors import (
    InsufficientStock,
    InvalidSku,
    NotPurchasable,
    OrdersUnavailable,
    ServiceDependencyUnavailable,
)

log = logging.getLogger("atelier.payments.orders")


class OrdersClient:
    def __init__(self, internal: InternalApi) -> None:
        self.internal = internal

    async def get(self, order_id: uuid.UUID) -> OrderView | None:
        response = await self.internal.call("orders", "GET", f"/internal/orders/{order_id}")
        if response.status_code == 404:
            return None
        return self._order(response, 200)

    async def edit(self, order_id: uuid.UUID, edit_id: uuid.UUID) -> EditView | None:
        """An edit of the order as orders reads it now (what it leaves due, whether it waits for
        its payment), with its order; None: no such edit of that order."""
        response = await self.internal.call("orders", "GET", f"/internal/orders/{order_id}/edits/{edit_id}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            log.warning("orders answered %s: %s", response.status_code, response.text[:500])
            raise OrdersUnavailable()
        try:
            data = response.json()
            return EditView(id=uuid.UUID(str(data["id"])), version=int(data["version"]), status=str(data["status"]),
                            amount_due=quantize(Decimal(str(data["amount_due"]))),
                            currency=str(data["currency"]).upper(), order=order_view(data["order"]))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("orders sent an edit payments cannot read: %s", exc)
            raise OrdersUnavailable() from exc

    async def create_for_sku(self, *, owner_id: uuid.UUID, user_id: uuid.UUID | None, sku: str,
                             storefront: str) -> OrderView:
        """An order of one `sku` placed on `storefront` (the request's)."""
        body = {"owner_id": str(owner_id), "user_id": str(user_id) if user_id else None,
                "items": [{"sku": sku, "quantity": 1}], "storefront": storefront}
        response = await self.internal.call("orders", "POST", "/internal/orders", json=body)
        if response.status_code in (400, 404, 422):
            if error_code(response) == NotPurchasable.code:  # a plan: bought only by subscribing
                raise NotPurchasable(details={"sku": sku})
            raise InvalidSku(details={"sku": sku})
        if response.status_code == 409 and error_code(response) == InsufficientStock.code:
            raise InsufficientStock(details={"sku": sku})  # the caller's answer, not orders being down
        # An orders service that does not echo the storefront placed it where it was asked to.
        return self._order(response, 201, 200, storefront=storefront)

    @staticmethod
    def _order(response: httpx.Response, *expected: int, storefront: str | None = None) -> OrderView:
        if response.status_code not in expected:
            log.warning("orders answered %s: %s", response.status_code, response.text[:500])
            raise OrdersUnavailable()
        try:
            data = response.json()
            if storefront is not None and isinstance(data, dict) and not data.get("storefront"):
                data = {**data, "storefront": storefront}
            return order_view(data)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("orders sent an order payments cannot read: %s", exc)
            raise OrdersUnavailable() from exc


class CatalogClient:
    """Catalog's internal API: the subscription plans (payments never reads catalog's tables)."""

    def __init__(self, internal: InternalApi, plan_skus: list[str]) -> None:
        self.internal = internal
        self.plan_skus = plan_skus

    async def plans(self) -> list[dict[str, Any]]:
        response = await self.internal.call("catalog", "POST", "/internal/products/lookup",
                                       json={"skus": self.plan_skus})
        if response.status_code != 200:
            log.warning("catalog answered %s: %s", response.status_code, response.text[:500])
            raise ServiceDependencyUnavailable()
        return [p for p in response.json()["results"]
                if p.get("kind") == "subscription_plan" and p.get("is_active")]


class GenerationClient:
    """Generation's internal API: the subscription quota used this period."""

    def __init__(self, internal: InternalApi) -> None:
        self.internal = internal

    async def quota(self, user_id: uuid.UUID) -> CountedQuota:
        response = await self.internal.call("generation", "GET", f"/internal/users/{user_id}/quota")
        if response.status_code != 200:
            log.warning("generation answered %s: %s", response.status_code, response.text[:500])
            raise ServiceDependencyUnavailable()
        body = response.json()
        period_end = body.get("period_end")
        return CountedQuota(monthly=int(body["monthly"]), used=int(body["used"]), remaining=int(body["remaining"]),
                            period_end=datetime.fromisoformat(period_end) if period_end else None)


class IdentityClient:
    """Identity's internal API: whose email an address is (the dev advance route)."""

    def __init__(self, internal: InternalApi) -> None:
        self.internal = internal

    async def user_id_by_email(self, email: str) -> uuid.UUID | None:
        response = await self.internal.call("identity", "POST", "/internal/users/lookup",
                                       json={"email": email})
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            log.warning("identity answered %s: %s", response.status_code, response.text[:500])
            raise ServiceDependencyUnavailable()
        return uuid.UUID(str(response.json()["id"]))
