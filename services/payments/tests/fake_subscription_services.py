"""Fakes of catalog's and generation's internal APIs that subscriptions call: the plans (as
catalog's demo data has them) and the quota used (set by tests)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

PLANS: dict[str, dict[str, Any]] = {
    "pro_monthly": {"id": str(uuid.UUID(int=1)), "sku": "pro_monthly", "name": "Pro (monthly)",
                    "kind": "subscription_plan", "price": "19.99", "currency": "USD", "is_active": True,
                    "attributes": {"interval": "month", "tier": "pro", "monthly_quota": 200,
                                   "provider_price_id": "price_pro_monthly"}},
    "studio_monthly": {"id": str(uuid.UUID(int=2)), "sku": "studio_monthly", "name": "Studio (monthly)",
                       "kind": "subscription_plan", "price": "49.99", "currency": "USD", "is_active": True,
                       "attributes": {"interval": "month", "tier": "studio", "monthly_quota": 1000,
                                      "provider_price_id": "price_studio_monthly"}},
}


class FakeCatalogAndGeneration:
    def __init__(self) -> None:
        self.quota: dict[uuid.UUID, dict[str, Any]] = {}
        # identity's accounts by email (the dev advance route names a user by email too)
        self.users: dict[str, uuid.UUID] = {}
        self.catalog = FastAPI()
        self.generation = FastAPI()
        self.identity = FastAPI()

        @self.identity.post("/internal/users/lookup")
        async def user_by_email(body: dict[str, Any]) -> JSONResponse:
            user_id = self.users.get(str(body.get("email", "")).strip().lower())
            if user_id is None:
                return JSONResponse({"error": {"code": "USER_NOT_FOUND", "message": "User not found",
                                               "details": {}}}, status_code=404)
            return JSONResponse({"id": str(user_id), "email": body["email"]})

        @self.catalog.post("/internal/products/lookup")
        async def lookup(body: dict[str, Any]) -> dict[str, Any]:
            return {"results": [PLANS[sku] for sku in body.get("skus", []) if sku in PLANS]}

        @self.generation.get("/internal/users/{user_id}/quota")
        async def quota(user_id: uuid.UUID) -> dict[str, Any]:
            return self.quota.get(user_id, {"monthly": 0, "used": 0, "remaining": 0})
