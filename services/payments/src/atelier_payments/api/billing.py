"""/api/v1/billing/ledger: the caller's money and credit movements, newest first (S0, S4)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from atelier_common.auth import UserPrincipal
from atelier_common.pagination import Page, PageParamsDep, build_page
from atelier_payments.api.deps import AUTH, LedgerServiceDep
from atelier_payments.schemas import LedgerEntryRead

router = APIRouter(prefix="/api/v1/billing", tags=["billing"])


@router.get("/ledger", summary="List my billing ledger", response_model=Page[LedgerEntryRead], responses=AUTH)
async def list_ledger(request: Request, user: UserPrincipal, page: PageParamsDep,
                      ledger: LedgerServiceDep) -> dict[str, Any]:
    """The caller's billing entries (payments, refunds, credit use), newest first."""
    count, entries = await ledger.page(user.owner_id, limit=page.limit, offset=page.offset)
    return build_page(request, page, count, list(entries))
