"""/internal/accounts: what other services may show about an account (never routed by the
gateway; the service credential is required)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from atelier_common.auth import require_service
from atelier_generation.api.deps import AccountServiceDep, CreditServiceDep
from atelier_generation.schemas import AccountSummary, QuotaRead

router = APIRouter(prefix="/internal", tags=["internal"], dependencies=[require_service], include_in_schema=False)


@router.get("/accounts/{owner_id}", response_model=AccountSummary)
async def get_account_summary(owner_id: uuid.UUID, accounts: AccountServiceDep) -> AccountSummary:
    """Credits, tier, images made and whether the one-time share unlock was used (zeros when unknown)."""
    return await accounts.summary(owner_id)


@router.get("/users/{user_id}/quota", response_model=QuotaRead)
async def get_quota(user_id: uuid.UUID, credits: CreditServiceDep) -> QuotaRead:
    """The subscription quota this period (zeros without an active subscription)."""
    return await credits.quota(user_id)
