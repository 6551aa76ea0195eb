"""/internal/accounts: what other services may show about an account (never routed by the
gateway; the service credential is required)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from atelier_common.auth import require_service
from atelier_generation.api.deps import AccountServiceDep
from atelier_generation.schemas import AccountSummary

router = APIRouter(prefix="/internal", tags=["internal"], dependencies=[require_service], include_in_schema=False)


@router.get("/accounts/{owner_id}", response_model=AccountSummary)
async def get_account_summary(owner_id: uuid.UUID, accounts: AccountServiceDep) -> AccountSummary:
    """Credits, tier, images made and whether the one-time share unlock was used (zeros when unknown)."""
    return await accounts.summary(owner_id)
