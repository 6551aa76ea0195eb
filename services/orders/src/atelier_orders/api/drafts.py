"""Draft orders: staff (support, admin) take an order for a customer, `/api/v1/staff/draft-orders`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status

from atelier_common.auth import SupportPrincipal, key_access
from atelier_common.pagination import Page, PageParamsDep, build_page
from atelier_common.responses import ErrorResponses
from atelier_common.service import use_case
from atelier_common.versions import IfMatchDep
from atelier_orders.drafts.service import DraftOrders, draft_read
from atelier_orders.schemas.drafts import (
    DraftCreate,
    DraftLineCreate,
    DraftLineUpdate,
    DraftQuery,
    DraftRead,
    DraftSent,
    DraftSummaryRead,
    DraftUpdate,
)

router = APIRouter(prefix="/api/v1/staff/draft-orders", tags=["staff"])
DraftsDep = Annotated[DraftOrders, use_case(DraftOrders)]
DraftReaderDep = Annotated[DraftOrders, use_case(DraftOrders, read_only=True)]

STAFF: ErrorResponses = {401: {"description": "Authentication required"},
                         403: {"description": "Support or admin only"}}
NOT_FOUND: ErrorResponses = {404: {"description": "NOT_FOUND: no such draft order (or line)"}}
WRITE_ERRORS: ErrorResponses = {
    **STAFF, **NOT_FOUND,
    400: {"description": "VALIDATION_ERROR (a custom price or manual discount without its reason), "
                         "PRODUCT_UNAVAILABLE (unknown, inactive, or not sold on the draft's storefront), "
                         "NOT_PURCHASABLE or UNKNOWN_STOREFRONT"},
    409: {"description": "DRAFT_ALREADY_SENT (it is an order now) or STALE_VERSION (If-Match: the draft changed "
                         "since it was read)"},
}
SEND_ERRORS: ErrorResponses = {
    **STAFF, **NOT_FOUND,
    400: {"description": "DRAFT_EMPTY, VALIDATION_ERROR (no e-mail for a customer without an account), "
                         "ADDRESS_REQUIRED, PRODUCT_UNAVAILABLE, CURRENCY_MISMATCH, SHIPPING_NOT_AVAILABLE, "
                         "SHIPPING_METHOD_UNAVAILABLE or PROMOTION_CODE_INVALID"},
    409: {"description": "INSUFFICIENT_STOCK or PROMOTION_EXHAUSTED"},
}


@router.get("", summary="List draft orders", response_model=Page[DraftSummaryRead], responses=STAFF)
@key_access()
async def list_drafts(request: Request, query: Annotated[DraftQuery, Query()], page: PageParamsDep,
                      staff: SupportPrincipal, drafts: DraftReaderDep) -> dict[str, Any]:
    """Every draft order (or one storefront's, `open` or `sent` ones), newest first."""
    count, rows = await drafts.search(query, staff, limit=page.limit, offset=page.offset)
    return build_page(request, page, count, rows)


@router.post("", summary="Start a draft order", response_model=DraftRead, status_code=status.HTTP_201_CREATED,
             responses=WRITE_ERRORS)
@key_access()
async def create_draft(data: DraftCreate, staff: SupportPrincipal, drafts: DraftsDep) -> dict[str, Any]:
    """A draft for an existing customer (`user_id`) or a new e-mail, on `storefront`; `customer_group` prices
    it at that group's price lists (a business buyer)."""
    return draft_read(await drafts.create(data, staff))


@router.get("/{draft_id}", summary="Get a draft order with its priced preview", response_model=DraftRead,
            responses={**STAFF, **NOT_FOUND})
@key_access()
async def get_draft(draft_id: str, staff: SupportPrincipal, drafts: DraftReaderDep) -> dict[str, Any]:
    """The draft, its lines priced now and `preview`: the money exactly as sending it charges the customer
    (placement's pricing), or `problem` when it cannot be priced as it is; `version` for If-Match."""
    return draft_read(await drafts.get(draft_id, staff))


@router.patch("/{draft_id}", summary="Edit a draft order", response_model=DraftRead, responses=WRITE_ERRORS)
@key_access()
async def update_draft(draft_id: str, data: DraftUpdate, staff: SupportPrincipal, if_match: IfMatchDep,
                       drafts: DraftsDep) -> dict[str, Any]:
    """The discount code, a manual discount with its reason, the shipping address and method, the e-mail."""
    return draft_read(await drafts.update(draft_id, data, staff, if_match=if_match))


@router.post("/{draft_id}/lines", summary="Add a line to a draft order", response_model=DraftRead,
             status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS)
@key_access()
async def add_line(draft_id: str, data: DraftLineCreate, staff: SupportPrincipal, if_match: IfMatchDep,
                   drafts: DraftsDep) -> dict[str, Any]:
    """A catalog product or variant at catalog's price, or at `unit_price` with its `price_reason` (audited)."""
    return draft_read(await drafts.add_line(draft_id, data, staff, if_match=if_match))


@router.patch("/{draft_id}/lines/{line_id}", summary="Change a draft order's line", response_model=DraftRead,
              responses=WRITE_ERRORS)
@key_access()
async def update_line(draft_id: str, line_id: str, data: DraftLineUpdate, staff: SupportPrincipal,
                      if_match: IfMatchDep, drafts: DraftsDep) -> dict[str, Any]:
    """A line's `quantity`, or its price: `unit_price` with its `price_reason` (audited), or `catalog_price: true`
    to charge catalog's again."""
    return draft_read(await drafts.update_line(draft_id, line_id, data, staff, if_match=if_match))


@router.delete("/{draft_id}/lines/{line_id}", summary="Remove a draft order's line", response_model=DraftRead,
               responses=WRITE_ERRORS)
@key_access()
async def remove_line(draft_id: str, line_id: str, staff: SupportPrincipal, if_match: IfMatchDep,
                      drafts: DraftsDep) -> dict[str, Any]:
    """The line leaves the draft (audited with what it was)."""
    return draft_read(await drafts.remove_line(draft_id, line_id, staff, if_match=if_match))


@router.post("/{draft_id}/send", summary="Send a draft order to the customer", response_model=DraftSent,
             responses=SEND_ERRORS)
@key_access()
async def send_draft(draft_id: str, staff: SupportPrincipal, drafts: DraftsDep) -> dict[str, Any]:
    """The draft becomes an order awaiting payment (catalog reserves its stock as for any order) and the customer
    is mailed `payment_url`, which pays that order without signing in until `payment_url_expires_at`. Sending
    it again answers the same order."""
    return await drafts.send(draft_id, staff)
