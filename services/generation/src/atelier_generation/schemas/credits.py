"""Credits: the balance, staff's adjustments, the ledger, packs, usage and quota."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from atelier_common.inputs import InputModel
from atelier_common.money import Money


class BalanceRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"balance": 10}]})

    balance: int


class CreditAdjustment(InputModel):
    """Staff's grant (positive) or deduction (negative) of credits."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"amount": 5, "reason": "Goodwill after a failed job"}]})

    amount: int = Field(ge=-1_000_000, le=1_000_000, description="credits to add (positive) or take (negative)")
    reason: str = Field(min_length=1, max_length=200, description="shown to the customer in their ledger")

    @field_validator("amount")
    @classmethod
    def _not_zero(cls, amount: int) -> int:
        if amount == 0:
            raise ValueError("A grant or deduction of zero credits changes nothing")
        return amount


class CreditAdjustmentRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"transaction_id": "15b86943-5e3a-4736-9086-7a59785121c2",
         "user_id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a", "amount": 5, "balance": 12}]})

    transaction_id: uuid.UUID
    user_id: uuid.UUID
    amount: int
    balance: int


class TransactionRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "e653b571-1338-43e1-8abe-21862f708c51", "amount": 10, "transaction_type": "purchase",
         "balance_after": 10, "reference_id": None, "order_id": "7ea73ec4-c195-4af3-8be3-bf6adfbecb99",
         "description": "PACK_10 × 1", "storefront": "default", "created_at": "2026-11-26T02:15:27.417917Z"}]})

    id: uuid.UUID
    amount: int
    transaction_type: str
    balance_after: int
    reference_id: uuid.UUID | None
    order_id: uuid.UUID | None
    description: str
    # Where the credits were bought or spent (the balance is the account's, on every storefront).
    storefront: str
    created_at: datetime


class CreditPackRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "1ccbbc64-a25e-4235-9055-95b9c3f6f2bd", "sku": "PACK_5", "name": "5 credits", "credits": 5,
         "price": "4.99", "currency": "USD", "price_cents": 499, "active": True}]})

    id: uuid.UUID
    sku: str
    name: str
    credits: int
    price: Money
    currency: str
    price_cents: int
    active: bool


class UsageRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"images_generated": 0, "credits_balance": 10, "images_remaining": 10, "subscription_tier": "free",
         "free_preview_used": True, "social_share_unlock_used": False}]})

    images_generated: int
    credits_balance: int
    images_remaining: int
    subscription_tier: str
    # S2's one-offs: a restoration started (its free preview) and the one share unlock spent.
    free_preview_used: bool
    social_share_unlock_used: bool


class QuotaRead(BaseModel):
    """A user's subscription quota this period (GET /internal/users/{user_id}/quota, for payments)."""

    monthly: int
    used: int
    remaining: int
    # The end of the period `used` counts in (generation's copy of the plan, from `subscription.changed`):
    # payments tells by it whether generation has heard of the plan's current period yet.
    period_end: datetime | None = None
