"""Gift cards: staff issue and manage them (`/api/v1/staff/gift-cards`); their holder reads a
code's balance (`POST /api/v1/payments/gift-cards/balance`); checkouts spend them
(`gift_cards` of `POST /api/v1/payments/checkout`)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status

from atelier_common.auth import AnonPrincipal, ClientAddress, SupportPrincipal, key_access
from atelier_common.pagination import Page, PageParamsDep, build_page
from atelier_common.service import use_case
from atelier_common.staff_access import CONFIRMED_RESPONSES, CurrentSupportPrincipal
from atelier_common.storefronts import CurrentStorefront
from atelier_payments.api.deps import AUTH, STAFF
from atelier_payments.schemas import (
    GiftCardAction,
    GiftCardBalanceQuery,
    GiftCardBalanceRead,
    GiftCardCreate,
    GiftCardDetailRead,
    GiftCardIssuedRead,
    GiftCardRead,
    GiftCardTransactionRead,
)
from atelier_payments.service.gift_cards import GiftCardBalance, StaffGiftCards

staff_router = APIRouter(prefix="/api/v1/staff/gift-cards", tags=["staff"])
router = APIRouter(prefix="/api/v1/payments/gift-cards", tags=["payments"])
StaffGiftCardsDep = Annotated[StaffGiftCards, use_case(StaffGiftCards)]
StaffGiftCardsReadDep = Annotated[StaffGiftCards, use_case(StaffGiftCards, read_only=True)]
GiftCardBalanceDep = Annotated[GiftCardBalance, use_case(GiftCardBalance, read_only=True)]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "NOT_FOUND: no such gift card"}}


@staff_router.post("", summary="Issue a gift card", response_model=GiftCardIssuedRead,
                   status_code=status.HTTP_201_CREATED,
                   responses={**STAFF, **CONFIRMED_RESPONSES,
                              400: {"description": "VALIDATION_ERROR or UNKNOWN_STOREFRONT"}})
@key_access()
async def issue_gift_card(data: GiftCardCreate, staff: CurrentSupportPrincipal, cards: StaffGiftCardsDep) -> Any:
    """A card of `storefront` worth `amount` (in the storefront's currency unless `currency` names one); without
    `expires_at` it lasts payments' `gift_card_validity_days`. The answer's `code` is the whole code, shown this
    once: afterwards the card is named by its `last4` only."""
    issued = await cards.issue(staff, storefront=data.storefront, amount=data.amount, currency=data.currency,
                               expires_at=data.expires_at, note=data.note, recipient_email=data.recipient_email)
    return {**GiftCardRead.model_validate(issued.card).model_dump(), "code": issued.code}


@staff_router.get("", summary="List gift cards", response_model=Page[GiftCardRead])
@key_access()
async def list_gift_cards(request: Request, staff: SupportPrincipal, cards: StaffGiftCardsReadDep,
                          params: PageParamsDep,
                          storefront: Annotated[str | None, Query(max_length=64)] = None,
                          last4: Annotated[str | None, Query(min_length=4, max_length=4,
                                                             description="The code's last four characters")] = None,
                          active: bool | None = None) -> dict[str, Any]:
    """Gift cards, newest first; by storefront, the code's last four characters and whether active."""
    count, rows = await cards.page(staff, storefront=storefront, last4=last4, active=active, limit=params.limit,
                                   offset=params.offset)
    return build_page(request, params, count, list(rows))


@staff_router.get("/{gift_card_id}", summary="Get a gift card", response_model=GiftCardDetailRead,
                  responses={**STAFF, **_NOT_FOUND})
@key_access()
async def get_gift_card(gift_card_id: uuid.UUID, staff: SupportPrincipal, cards: StaffGiftCardsReadDep) -> Any:
    """A card and every movement of its balance, oldest first."""
    card, transactions = await cards.get(gift_card_id, staff)
    return {**GiftCardRead.model_validate(card).model_dump(),
            "transactions": [GiftCardTransactionRead.model_validate(t) for t in transactions]}


@staff_router.post("/{gift_card_id}/deactivate", summary="Deactivate a gift card", response_model=GiftCardRead,
                   responses={**STAFF, **CONFIRMED_RESPONSES, **_NOT_FOUND})
@key_access()
async def deactivate_gift_card(gift_card_id: uuid.UUID, staff: CurrentSupportPrincipal, cards: StaffGiftCardsDep,
                               body: GiftCardAction | None = None) -> Any:
    """No checkout may use the card any more (what a started checkout holds stays held). Again: no change."""
    return await cards.set_active(staff, gift_card_id, False, reason=body.reason if body else None)


@staff_router.post("/{gift_card_id}/reactivate", summary="Reactivate a gift card", response_model=GiftCardRead,
                   responses={**STAFF, **CONFIRMED_RESPONSES, **_NOT_FOUND})
@key_access()
async def reactivate_gift_card(gift_card_id: uuid.UUID, staff: CurrentSupportPrincipal, cards: StaffGiftCardsDep,
                               body: GiftCardAction | None = None) -> Any:
    """The card can pay again (until its expiry). Again: no change."""
    return await cards.set_active(staff, gift_card_id, True, reason=body.reason if body else None)


@router.post("/balance", summary="Check a gift card's balance", response_model=GiftCardBalanceRead,
             responses={**AUTH, 400: {"description": "GIFT_CARD_INVALID: no usable card of this storefront has this "
                                                     "code (unknown, expired and deactivated alike)"},
                        429: {"description": "RATE_LIMITED: too many wrong codes from this caller or address; "
                                             "Retry-After"}})
async def gift_card_balance(data: GiftCardBalanceQuery, principal: AnonPrincipal, storefront: CurrentStorefront,
                            address: ClientAddress, cards: GiftCardBalanceDep) -> Any:
    """What a code's card of this storefront still holds. A POST, so the code stays out of URLs and their logs;
    wrong codes count against the caller and its address (docs/limits.md)."""
    return await cards.check(data.code, storefront, caller=principal.owner_id, address=address)
