"""Order edits: staff (support, finance, admin) change the quantities of an order that has not
shipped, remove lines or add catalog lines, previewed then confirmed; an edit that adds units waits
for catalog to hold them, and one that raises a paid order's total for the customer to pay the
difference (docs/back-office.md#order-edits)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from atelier_common.auth import SCOPE_ORDERS_READ, AnonPrincipal, OrderReaderPrincipal, key_access
from atelier_common.responses import ErrorResponses
from atelier_common.service import use_case
from atelier_orders.api.deps import ORDER_IN_SCOPE
from atelier_orders.edits.service import OrderEdits
from atelier_orders.schemas.edits import (
    CustomerEditCreate,
    OrderEditConfirmedRead,
    OrderEditCreate,
    OrderEditPreviewRead,
    OrderEditRead,
)

router = APIRouter(prefix="/api/v1", tags=["orders"])
staff = APIRouter(prefix="/api/v1/staff", tags=["staff"])
EditsDep = Annotated[OrderEdits, use_case(OrderEdits)]
EditReaderDep = Annotated[OrderEdits, use_case(OrderEdits, read_only=True)]

EDIT_ERRORS: ErrorResponses = {
    401: {"description": "Authentication required"},
    403: {"description": "Support, finance or admin only"},
    404: {"description": "NOT_FOUND: unknown order"},
    400: {"description": "VALIDATION_ERROR: not a line of the order, not goods from stock, a line named twice, "
                         "an addition the order has or named twice, nothing changed, or every line removed (cancel "
                         "the order instead); PRODUCT_UNAVAILABLE: an addition catalog does not sell here"},
    409: {"description": "ORDER_NOT_EDITABLE: pending, shipped, delivered, cancelled, ... (details.status); or "
                         "ORDER_EDIT_UNSUPPORTED: another edit waits for its stock or payment (edit_pending), or an "
                         "order with a manual discount (manual_discount) (details.reason)"}}


@staff.post("/orders/{order_id}/edits/preview", summary="Preview an edit of an order", response_model=OrderEditPreviewRead,
            responses=EDIT_ERRORS, dependencies=[ORDER_IN_SCOPE])
@key_access()
async def preview_edit(order_id: str, data: OrderEditCreate, _: OrderReaderPrincipal, edits: EditReaderDep) -> Any:
    """The order as the new quantities and added lines would make it, re-priced by the same rules as at
    checkout (its promotions judged again on the lines it would have), the refund it would ask for and
    the amount it would leave due. Nothing changes."""
    return await edits.preview(order_id, data)


@staff.post("/orders/{order_id}/edits", summary="Edit an order that has not shipped", status_code=201,
            response_model=OrderEditConfirmedRead, responses=EDIT_ERRORS, dependencies=[ORDER_IN_SCOPE])
@key_access()
async def confirm_edit(order_id: str, data: OrderEditCreate, staff_member: OrderReaderPrincipal,
                       edits: EditsDep) -> Any:
    """Apply the edit (audited as `order.edit`): the lines and totals change, the order's next version is
    kept (`edit`), the units removed go back in stock and a paid order is refunded the difference through
    payments, once (`order.edited`); the credit note follows the refund. An edit that adds units is kept
    `pending` and goes on once catalog holds them (or is refused); one that raises a paid order's total
    then waits for the customer to pay the difference through the mailed link (`awaiting_payment`)."""
    return await edits.confirm(order_id, data, staff_member)


@staff.get("/orders/{order_id}/edits", summary="An order's versions", response_model=list[OrderEditRead],
           responses={401: EDIT_ERRORS[401], 403: EDIT_ERRORS[403], 404: EDIT_ERRORS[404]},
           dependencies=[ORDER_IN_SCOPE])
@key_access(SCOPE_ORDERS_READ)
async def list_edits(order_id: str, _: OrderReaderPrincipal, edits: EditReaderDep) -> Any:
    """The order's edits, oldest first: version, what changed, who, why, the totals and the refund."""
    return await edits.history(order_id)


CUSTOMER_EDIT_ERRORS: ErrorResponses = {
    404: {"description": "NOT_FOUND: unknown order, or another customer's"},
    400: {"description": "VALIDATION_ERROR: not a line of the order, not goods from stock, a line raised, nothing "
                         "changed, or every line removed (cancel the order instead)"},
    409: {"description": "ORDER_NOT_EDITABLE: the storefront does not let customers edit orders (details.reason "
                         "policy), or the order is processing or further along (details.reason status, "
                         "details.status); ORDER_EDIT_UNSUPPORTED: an edit of the order waits for its stock or "
                         "payment, or the order has a manual discount"}}


@router.post("/orders/{order_id}/edits/preview", summary="Preview lowering your order",
             response_model=OrderEditPreviewRead, responses=CUSTOMER_EDIT_ERRORS)
async def preview_own_edit(order_id: str, data: CustomerEditCreate, viewer: AnonPrincipal,
                           edits: EditReaderDep) -> Any:
    """Where the storefront lets customers edit their orders (`customer_order_edits`): one of the caller's
    orders with some quantities lowered or lines removed, re-priced by the checkout's rules, and the refund
    it would bring (a paid order). Nothing changes."""
    return await edits.customer_preview(order_id, data, viewer)


@router.post("/orders/{order_id}/edits", summary="Lower your order before it is processing", status_code=201,
             response_model=OrderEditConfirmedRead, responses=CUSTOMER_EDIT_ERRORS)
async def confirm_own_edit(order_id: str, data: CustomerEditCreate, viewer: AnonPrincipal, edits: EditsDep) -> Any:
    """Where the storefront lets customers edit their orders: lower quantities or remove lines of one of the
    caller's orders while it awaits its payment or is paid (not yet processing). It applies at once, as the
    preview said: the units go back in stock and a paid order is refunded the difference (`order.edited`)."""
    return await edits.customer_confirm(order_id, data, viewer)
