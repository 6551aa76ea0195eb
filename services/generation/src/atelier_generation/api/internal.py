"""/internal/accounts: what other services may show about an account (never routed by the
gateway; the service credential is required)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from atelier_common.auth import require_service
from atelier_generation.api.deps import AccountServiceDep, BookServiceDep, CreditServiceDep
from atelier_generation.domain import ContentType
from atelier_generation.schemas import AccountSummary, BookItemOwnership, BookOwnership, QuotaRead

router = APIRouter(prefix="/internal", tags=["internal"], dependencies=[require_service], include_in_schema=False)


@router.get("/accounts/{owner_id}", response_model=AccountSummary)
async def get_account_summary(owner_id: uuid.UUID, accounts: AccountServiceDep) -> AccountSummary:
    """Credits, tier, images made and whether the one-time share unlock was used (zeros when unknown)."""
    return await accounts.summary(owner_id)


@router.get("/users/{user_id}/quota", response_model=QuotaRead)
async def get_quota(user_id: uuid.UUID, credits: CreditServiceDep) -> QuotaRead:
    """The subscription quota this period (zeros without an active subscription)."""
    return await credits.quota(user_id)


@router.get("/books/{book_id}", response_model=BookOwnership)
async def get_owned_book(book_id: uuid.UUID, owner_id: Annotated[uuid.UUID, Query()],
                         books: BookServiceDep) -> BookOwnership:
    """The book when `owner_id` owns it (404 otherwise): orders checks print orders with it."""
    return await books.owned_book(book_id, owner_id)


@router.get("/book-items/{content_type}/{content_id}", response_model=BookItemOwnership)
async def get_owned_book_item(content_type: ContentType, content_id: uuid.UUID, owner_id: Annotated[uuid.UUID, Query()],
                              books: BookServiceDep) -> BookItemOwnership:
    """A character, cover or page when `owner_id` owns its book (404 otherwise): orders checks
    a retry pack's target with it."""
    return await books.owned_item(content_type, content_id, owner_id)
