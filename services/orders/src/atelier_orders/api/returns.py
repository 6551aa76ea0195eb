"""Returns: a customer opens and follows the returns of a delivered order under
/api/v1/orders; support (or admin) open them for a customer, receive and reject them under
/api/v1/staff, and order readers list them. Claims (damaged or missing goods, refunded or
replaced at once) are kept with the returns and read the same way."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from atelier_common.auth import (
    SCOPE_ORDERS_READ,
    AnonPrincipal,
    OptionalPrincipal,
    OrderReaderPrincipal,
    SupportPrincipal,
    key_access,
)
from atelier_common.pagination import Page, PageParamsDep, build_page
from atelier_common.responses import ErrorResponses
from atelier_common.service import use_case
from atelier_orders.api.deps import ORDER_IN_SCOPE
from atelier_orders.returns.exchanges import Exchanges
from atelier_orders.returns.service import Returns
from atelier_orders.schemas import (
    ClaimCreate,
    ExchangeCreate,
    ExchangePreview,
    ReturnCreate,
    ReturnRead,
    ReturnReceive,
    ReturnReject,
    StaffReturnQuery,
)

router = APIRouter(prefix="/api/v1", tags=["orders"])
staff = APIRouter(prefix="/api/v1/staff", tags=["staff"])
ReturnsDep = Annotated[Returns, use_case(Returns)]
ReturnReaderDep = Annotated[Returns, use_case(Returns, read_only=True)]
ExchangesDep = Annotated[Exchanges, use_case(Exchanges)]
ExchangeReaderDep = Annotated[Exchanges, use_case(Exchanges, read_only=True)]


async def _return_in_scope(return_id: str, principal: OptionalPrincipal, returns: ReturnReaderDep) -> None:
    await returns.check_scope(return_id, principal)


# On every staff route of one return: an API key limited to some storefronts gets 404 for a return
# of another (docs/security.md, "API keys"), as `ORDER_IN_SCOPE` does for an order.
RETURN_IN_SCOPE = Depends(_return_in_scope)

OPEN_ERRORS: ErrorResponses = {
    404: {"description": "NOT_FOUND: unknown order, or another customer's"},
    400: {"description": "VALIDATION_ERROR: a line that is not a shipped line of the order"},
    409: {"description": "ORDER_NOT_RETURNABLE (not delivered; details.status) or RETURN_QUANTITY_EXCEEDED "
                         "(more units than delivered less those in other returns; details.returnable per item)"}}
STAFF_ONLY: ErrorResponses = {401: {"description": "Authentication required"},
                              403: {"description": "Support (or admin) only; reading: support or finance"}}
STAFF_WRITE_ERRORS: ErrorResponses = {
    **STAFF_ONLY, 404: {"description": "NOT_FOUND: unknown return"},
    400: {"description": "VALIDATION_ERROR: an order item not in this return, or more units than requested"},
    409: {"description": "RETURN_NOT_OPEN: received, refunded or rejected already (approve: not requested; an "
                         "exchange: received once approved, rejected while requested; details.status); nothing "
                         "changed"}}


@router.post("/orders/{order_id}/returns", summary="Return items of a delivered order", status_code=201,
             response_model=ReturnRead, responses=OPEN_ERRORS)
async def open_return(order_id: str, data: ReturnCreate, viewer: AnonPrincipal, returns: ReturnsDep) -> Any:
    """Open a return of some shipped units of one of the caller's delivered orders, with a reason. Staff
    receive it, then the refund follows (the lines with their tax, less their share of any discount)."""
    return (await returns.open(order_id, data, viewer)).read()


@router.get("/orders/{order_id}/returns", summary="List an order's returns", response_model=list[ReturnRead],
            responses={404: {"description": "NOT_FOUND: unknown order, or another customer's"}})
async def list_order_returns(order_id: str, viewer: AnonPrincipal, returns: ReturnReaderDep) -> Any:
    """The returns of one of the caller's orders, oldest first, with their status and refund."""
    return [picture.read() for picture in await returns.of_order(order_id, viewer)]


@staff.post("/orders/{order_id}/returns", summary="Open a return for a customer", status_code=201,
            response_model=ReturnRead, responses={**OPEN_ERRORS, **STAFF_ONLY}, dependencies=[ORDER_IN_SCOPE])
@key_access()
async def open_staff_return(order_id: str, data: ReturnCreate, support: SupportPrincipal,
                            returns: ReturnsDep) -> Any:
    """Open a return of any customer's delivered order (support, admin; audited as `return.open`)."""
    return (await returns.open(order_id, data, support, staff=True)).read()


@staff.post("/orders/{order_id}/claims", summary="Settle a claim: refund or replace damaged or missing goods",
            status_code=201, response_model=ReturnRead, responses={
                **STAFF_ONLY, 403: {"description": "Support, finance or admin only"},
                404: {"description": "NOT_FOUND: unknown order"},
                400: {"description": "VALIDATION_ERROR: a line that is not a shipped line of the order, or (replace) "
                                     "not goods from stock"},
                409: {"description": "ORDER_NOT_RETURNABLE (not shipped or delivered; details.status) or "
                                     "RETURN_QUANTITY_EXCEEDED (more units than shipped less those in returns and "
                                     "claims; details.returnable per item)"}}, dependencies=[ORDER_IN_SCOPE])
@key_access()
async def open_claim(order_id: str, data: ClaimCreate, staff_member: OrderReaderPrincipal, returns: ReturnsDep) -> Any:
    """Damaged or missing units of a shipped or delivered order, settled at once without a parcel (support,
    finance, admin; audited as `claim.open`): `refund` refunds their share of what was charged through payments,
    once, as a received return's (nothing restocked); `replace` sends them again as a new order at no charge
    (`replacement_order_id`; ready to ship once catalog holds its stock, never invoiced)."""
    return (await returns.claim(order_id, data, staff_member)).read()


@staff.get("/returns", summary="Search returns", response_model=Page[ReturnRead], responses=STAFF_ONLY)
@key_access(SCOPE_ORDERS_READ)
async def search_returns(request: Request, query: Annotated[StaffReturnQuery, Query()], page: PageParamsDep,
                         staff_member: OrderReaderPrincipal, returns: ReturnReaderDep) -> dict[str, Any]:
    """Every return by status, storefront, order and number; newest first (support, finance)."""
    count, results = await returns.search(query, limit=page.limit, offset=page.offset, staff=staff_member)
    return build_page(request, page, count, [picture.read() for picture in results])


@staff.get("/returns/{return_id}", summary="Get a return", response_model=ReturnRead,
           responses={**STAFF_ONLY, 404: {"description": "NOT_FOUND: unknown return"}}, dependencies=[RETURN_IN_SCOPE])
@key_access(SCOPE_ORDERS_READ)
async def get_return(return_id: str, _: OrderReaderPrincipal, returns: ReturnReaderDep) -> Any:
    """One return with its lines (support, finance)."""
    return (await returns.get(return_id)).read()


@staff.post("/returns/{return_id}/approve", summary="Approve a return", response_model=ReturnRead,
            responses=STAFF_WRITE_ERRORS, dependencies=[RETURN_IN_SCOPE])
@key_access()
async def approve_return(return_id: str, support: SupportPrincipal, returns: ReturnsDep) -> Any:
    """Accept a requested return before the parcel comes (support, admin; audited as `return.approve`).
    Optional: a requested return may be received directly. A customer's exchange request approved
    (`exchange.approve`) places its new items' order at the prices it was requested at, and answers the
    `payment_url` when the customer owes the difference."""
    return (await returns.approve(return_id, support)).read()


@staff.post("/returns/{return_id}/receive", summary="Receive a return", response_model=ReturnRead,
            responses=STAFF_WRITE_ERRORS, dependencies=[RETURN_IN_SCOPE])
@key_access()
async def receive_return(return_id: str, data: ReturnReceive, staff_member: OrderReaderPrincipal,
                         returns: ReturnsDep) -> Any:
    """Staff have the parcel (support, finance, admin): the units received of each line are refunded (their
    share of discount and tax; plus the order's shipping with `refund_shipping`) through payments, once;
    the `resaleable` ones go back in stock; units not received leave the return. Audited as `return.receive`."""
    return (await returns.receive(return_id, data, staff_member)).read()


@staff.post("/returns/{return_id}/reject", summary="Reject a return", response_model=ReturnRead,
            responses=STAFF_WRITE_ERRORS, dependencies=[RETURN_IN_SCOPE])
@key_access()
async def reject_return(return_id: str, support: SupportPrincipal, returns: ReturnsDep,
                        data: ReturnReject | None = None) -> Any:
    """Refuse a return not received yet (support, admin; audited as `return.reject`): nothing is refunded
    or restocked, and its units may be returned again."""
    return (await returns.reject(return_id, data.reason if data else None, support)).read()


EXCHANGE_ERRORS: ErrorResponses = {
    404: {"description": "NOT_FOUND: unknown order, or another customer's"},
    400: {"description": "VALIDATION_ERROR: a line that is not a shipped line of the order, or a new item that is "
                         "not goods from stock; PRODUCT_UNAVAILABLE: a new item unknown, inactive or not sold on the "
                         "order's storefront"},
    409: {"description": "ORDER_NOT_RETURNABLE (not delivered; details.status) or RETURN_QUANTITY_EXCEEDED "
                         "(more units than delivered less those in returns, claims and exchanges; "
                         "details.returnable per item)"}}


@router.post("/orders/{order_id}/exchanges/preview", summary="Preview an exchange of a delivered order",
             response_model=ExchangePreview, responses=EXCHANGE_ERRORS)
async def preview_exchange(order_id: str, data: ExchangeCreate, viewer: AnonPrincipal,
                           exchanges: ExchangeReaderDep) -> Any:
    """What an exchange of some of the caller's delivered units for other goods would come to: the credit of the
    lines coming back, the new items priced, the difference. Nothing is written."""
    return await exchanges.preview(order_id, data, viewer, staff=False)


@router.post("/orders/{order_id}/exchanges", summary="Request an exchange of a delivered order", status_code=201,
             response_model=ReturnRead, responses=EXCHANGE_ERRORS)
async def request_exchange(order_id: str, data: ExchangeCreate, viewer: AnonPrincipal,
                           exchanges: ExchangesDep) -> Any:
    """Ask to send some shipped units of one of the caller's delivered orders back for other goods (`kind:
    exchange`, `requested`): staff approve it (its new items' order is placed then) or reject it."""
    return (await exchanges.open(order_id, data, viewer, staff=False)).read()


@staff.post("/orders/{order_id}/exchanges/preview", summary="Preview an exchange", response_model=ExchangePreview,
            responses={**EXCHANGE_ERRORS, **STAFF_ONLY}, dependencies=[ORDER_IN_SCOPE])
@key_access()
async def preview_staff_exchange(order_id: str, data: ExchangeCreate, support: SupportPrincipal,
                                 exchanges: ExchangeReaderDep) -> Any:
    """The credit of the lines coming back, the new items priced at the order's storefront, currency and tax, and
    the difference (`amount_due` the customer pays, or `refund`); nothing is written (support, admin)."""
    return await exchanges.preview(order_id, data, support, staff=True)


@staff.post("/orders/{order_id}/exchanges", summary="Open an exchange for a customer", status_code=201,
            response_model=ReturnRead, responses={**EXCHANGE_ERRORS, **STAFF_ONLY}, dependencies=[ORDER_IN_SCOPE])
@key_access()
async def open_staff_exchange(order_id: str, data: ExchangeCreate, support: SupportPrincipal,
                              exchanges: ExchangesDep) -> Any:
    """Exchange some delivered units for other goods (support, admin; audited as `exchange.open`), approved at
    once: the new items go out as an order of their own (`replacement_order_id`) once catalog holds their stock
    and, when the customer owes the difference, once it is paid through `payment_url`. Receiving the lines
    (`…/returns/{id}/receive`, every unit) restocks them and refunds what the shop owes, once."""
    return (await exchanges.open(order_id, data, support, staff=True)).read()
