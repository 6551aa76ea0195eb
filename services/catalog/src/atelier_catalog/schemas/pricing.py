"""The digital offers (`/pricing`): credit packs, plans, print tiers and retry packs."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict

from atelier_catalog.domain import ProductKind
from atelier_common.money import Money


class OfferRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    sku: str
    slug: str
    name: str
    description: str
    kind: ProductKind
    price: Money
    compare_price: Money | None
    currency: str
    attributes: dict[str, Any]


class PricingRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"credit_packs": [{"id": "1ccbbc64-a25e-4235-9055-95b9c3f6f2bd", "sku": "PACK_5", "slug": "pack-5",
           "name": "5 credits", "description": "Five credits for generations and unlocks.", "kind": "credit_pack",
           "price": "4.99", "compare_price": None, "currency": "USD", "attributes": {"credits": 5}}],
         "subscription_plans": [{"id": "39105d10-fd2d-42ef-862e-e8543742783c", "sku": "pro_monthly",
           "slug": "pro-monthly", "name": "Pro (monthly)", "description": "200 generations a month.",
           "kind": "subscription_plan", "price": "19.99", "compare_price": None, "currency": "USD",
           "attributes": {"interval": "month", "tier": "pro", "monthly_quota": 200, "provider_price_id": None}}],
         "print_tiers": [{"id": "00eda94b-8848-4b08-ab55-9aeaf64e76b6", "sku": "basic", "slug": "print-basic",
           "name": "Basic print", "description": "Softcover print; 3 regenerations per character, cover and page.",
           "kind": "print_tier", "price": "49.00", "compare_price": None, "currency": "GEL",
           "attributes": {"max_retries_per_unit": 3}}],
         "retry_packs": [{"id": "46f67b67-eb35-4c3d-bf2a-1b06b664dc65", "sku": "RETRY_PACK_3",
           "slug": "retry-pack-3", "name": "3 extra retries",
           "description": "Three more regenerations for one storybook item.", "kind": "retry_pack", "price": "2.00",
           "compare_price": None, "currency": "GEL", "attributes": {"retries": 3}}]}]})

    credit_packs: list[OfferRead]
    subscription_plans: list[OfferRead]
    print_tiers: list[OfferRead]
    retry_packs: list[OfferRead]
