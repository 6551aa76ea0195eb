"""An account's summary, for other services (`/internal`)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel


class AccountSummary(BaseModel):
    owner_id: uuid.UUID
    credits_balance: int
    subscription_tier: str
    images_generated: int
    social_share_unlock_used: bool
