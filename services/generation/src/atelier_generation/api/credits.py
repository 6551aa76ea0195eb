"""/api/v1/credits (balance, transactions, packs) and /api/v1/me/usage (S2, S4)."""

from __future__ import annotations

from fastapi import APIRouter

from atelier_common.auth import UserPrincipal
from atelier_common.db import SessionDep
from atelier_generation.api.deps import USER, CreditServiceDep
from atelier_generation.schemas import BalanceRead, CreditPackRead, TransactionRead, UsageRead

router = APIRouter(prefix="/api/v1", tags=["credits"], responses=USER)


@router.get("/credits/balance", response_model=BalanceRead)
async def get_balance(principal: UserPrincipal, session: SessionDep, credits: CreditServiceDep) -> BalanceRead:
    return BalanceRead(balance=await credits.balance(session, principal.owner_id))


@router.get("/credits/transactions", response_model=list[TransactionRead])
async def list_transactions(principal: UserPrincipal, session: SessionDep,
                            credits: CreditServiceDep) -> list[TransactionRead]:
    """The last 50, newest first (S2)."""
    return await credits.transactions(session, principal.owner_id)


@router.get("/credits/packs", response_model=list[CreditPackRead])
async def list_credit_packs(principal: UserPrincipal, session: SessionDep,
                            credits: CreditServiceDep) -> list[CreditPackRead]:
    return await credits.packs(session)


@router.get("/me/usage", response_model=UsageRead)
async def get_usage(principal: UserPrincipal, session: SessionDep, credits: CreditServiceDep) -> UsageRead:
    return await credits.usage(session, principal.owner_id)
