"""/api/v1/credits (balance, transactions, packs) and /api/v1/me/usage (S2, S4)."""

from __future__ import annotations

from fastapi import APIRouter

from atelier_common.auth import UserPrincipal
from atelier_common.storefronts import CurrentStorefront
from atelier_generation.api.deps import USER, CreditServiceDep
from atelier_generation.schemas import BalanceRead, CreditPackRead, TransactionRead, UsageRead

router = APIRouter(prefix="/api/v1", tags=["credits"], responses=USER)


@router.get("/credits/balance", summary="Get the credit balance", response_model=BalanceRead)
async def get_balance(principal: UserPrincipal, credits: CreditServiceDep) -> BalanceRead:
    """How many credits the caller has."""
    return BalanceRead(balance=await credits.balance(principal.owner_id))


@router.get("/credits/transactions", summary="List credit transactions", response_model=list[TransactionRead])
async def list_transactions(principal: UserPrincipal,
                            credits: CreditServiceDep) -> list[TransactionRead]:
    """The last 50 credit movements (purchases, grants, consumption, refunds), newest first."""
    return await credits.transactions(principal.owner_id)


@router.get("/credits/packs", summary="List credit packs", response_model=list[CreditPackRead])
async def list_credit_packs(principal: UserPrincipal, storefront: CurrentStorefront,
                            credits: CreditServiceDep) -> list[CreditPackRead]:
    """The packs the request's storefront sells (none where it sells no credit packs); buy one with `POST
    /api/v1/credits/purchase`."""
    return await credits.packs(storefront)


@router.get("/me/usage", summary="Get my usage", response_model=UsageRead)
async def get_usage(principal: UserPrincipal, credits: CreditServiceDep) -> UsageRead:
    """The caller's plan, this period's quota and what is used of it."""
    return await credits.usage(principal.owner_id)
