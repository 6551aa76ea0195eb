"""Promotions and discount codes: staff's `/api/v1/staff/promotions` (merchandisers and
admins, who manage them; the contract's "merchandiser+") and cart's `/internal/promotions/quote`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status

from atelier_common.auth import MerchandiserPrincipal, key_access, require_service
from atelier_common.contracts.orders import PromotionQuote
from atelier_common.pagination import Page, PageParamsDep, build_page
from atelier_common.responses import ErrorResponses
from atelier_common.service import use_case
from atelier_common.storefronts import CurrentStorefront
from atelier_common.versions import IfMatchDep
from atelier_orders.api.deps import ShippingOptionsDep
from atelier_orders.promotions.service import PromotionAdmin, promotion_read
from atelier_orders.schemas import (
    PromotionCreate,
    PromotionQuery,
    PromotionQuoteRequest,
    PromotionRead,
    PromotionWrite,
)

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])
internal = APIRouter(prefix="/internal", tags=["internal"], dependencies=[require_service], include_in_schema=False)

PromotionAdminDep = Annotated[PromotionAdmin, use_case(PromotionAdmin)]
PromotionReaderDep = Annotated[PromotionAdmin, use_case(PromotionAdmin, read_only=True)]

NOT_FOUND: ErrorResponses = {404: {"description": "NOT_FOUND: no such promotion"}}
WRITE_ERRORS: ErrorResponses = {
    400: {"description": "VALIDATION_ERROR (e.g. a percentage above 100, ends_at before starts_at) or "
                         "UNKNOWN_STOREFRONT"},
    403: {"description": "Merchandiser or admin only"},
    409: {"description": "PROMOTION_CODE_TAKEN (the storefront has this code, whatever its case) or STALE_VERSION "
                         "(If-Match: the promotion changed since it was read; details.current)"},
}


@router.get("/promotions", summary="List promotions", response_model=Page[PromotionRead])
@key_access()
async def list_promotions(request: Request, query: Annotated[PromotionQuery, Query()], page: PageParamsDep,
                          staff: MerchandiserPrincipal, promotions: PromotionReaderDep) -> dict[str, Any]:
    """Every storefront's promotions (or one's: `storefront`; `active`, `code`), newest first, with their uses."""
    count, rows = await promotions.search(query, staff, limit=page.limit, offset=page.offset)
    return build_page(request, page, count, [promotion_read(p) for p in rows])


@router.post("/promotions", summary="Create a promotion", response_model=PromotionRead,
             status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS)
@key_access()
async def create_promotion(data: PromotionCreate, staff: MerchandiserPrincipal, storefront: CurrentStorefront,
                           promotions: PromotionAdminDep) -> dict[str, Any]:
    """An automatic promotion (no `code`) or a discount code on one storefront: a percentage, a fixed amount or
    free shipping, on the order, some products or some categories, with a minimum subtotal, dates and limits."""
    return promotion_read(await promotions.create(data, staff, storefront))


@router.get("/promotions/{promotion_id}", summary="Get a promotion", response_model=PromotionRead,
            responses=NOT_FOUND)
@key_access()
async def get_promotion(promotion_id: str, staff: MerchandiserPrincipal,
                        promotions: PromotionReaderDep) -> dict[str, Any]:
    """One promotion with its uses so far; `version` for an edit's If-Match."""
    return promotion_read(await promotions.get(promotion_id, staff))


@router.patch("/promotions/{promotion_id}", summary="Edit a promotion", response_model=PromotionRead,
              responses={**NOT_FOUND, **WRITE_ERRORS})
@key_access()
async def update_promotion(promotion_id: str, data: PromotionWrite, staff: MerchandiserPrincipal,
                           if_match: IfMatchDep, promotions: PromotionAdminDep) -> dict[str, Any]:
    """Change what is sent (an order already placed keeps the discount it was given)."""
    return promotion_read(await promotions.update(promotion_id, data, staff, if_match=if_match))


@router.delete("/promotions/{promotion_id}", summary="Deactivate a promotion", response_model=PromotionRead,
               responses={**NOT_FOUND, **WRITE_ERRORS})
@key_access()
async def deactivate_promotion(promotion_id: str, staff: MerchandiserPrincipal, if_match: IfMatchDep,
                               promotions: PromotionAdminDep) -> dict[str, Any]:
    """Promotions are never deleted (orders keep pointing at them): it stops applying at once."""
    return promotion_read(await promotions.deactivate(promotion_id, staff, if_match=if_match))


@internal.post("/promotions/quote", response_model=PromotionQuote)
async def quote_promotions(data: PromotionQuoteRequest, quotes: ShippingOptionsDep) -> dict[str, Any]:
    return await quotes.cart_quote(data)
