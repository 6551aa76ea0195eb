"""Order edits: staff (support, finance, admin) lower the quantities of an order that has not
shipped, or remove lines, previewed then confirmed (docs/back-office.md#order-edits)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from atelier_common.auth import OrderReaderPrincipal
from atelier_common.responses import ErrorResponses
from atelier_common.service import use_case
from atelier_orders.api.deps import ORDER_IN_SCOPE
from atelier_orders.edits.service import OrderEdits
from atelier_orders.schemas.edits import OrderEditConfirmedRead, OrderEditCreate, OrderEditPreviewRead, OrderEditRead

staff = APIRouter(prefix="/api/v1/staff", tags=["staff"])
EditsDep = Annotated[OrderEdits, use_case(OrderEdits)]
EditReaderDep = Annotated[OrderEdits, use_case(OrderEdits, read_only=True)]

EDIT_ERRORS: ErrorResponses = {
    401: {"description": "Authentication required"},
    403: {"description": "Support, finance or admin only"},
    404: {"description": "NOT_FOUND: unknown order"},
    400: {"description": "VALIDATION_ERROR: not a line of the order, not goods from stock, a line named twice, "
                         "nothing changed, or every line removed (cancel the order instead)"},
    409: {"description": "ORDER_NOT_EDITABLE: pending, shipped, delivered, cancelled, ... (details.status); or "
                         "ORDER_EDIT_UNSUPPORTED: more units than the line has, a total that would rise, or an order "
                         "with a manual discount (details.reason): charging a difference comes later"}}


@staff.post("/orders/{order_id}/edits/preview", summary="Preview an edit of an order", response_model=OrderEditPreviewRead,
            responses=EDIT_ERRORS, dependencies=[ORDER_IN_SCOPE])
async def preview_edit(order_id: str, data: OrderEditCreate, _: OrderReaderPrincipal, edits: EditReaderDep) -> Any:
    """The order as the new quantities would make it, re-priced by the same rules as at checkout (its
    promotions judged again on the lines left), and the refund it would ask for. Nothing changes."""
    return await edits.preview(order_id, data)


@staff.post("/orders/{order_id}/edits", summary="Edit an order that has not shipped", status_code=201,
            response_model=OrderEditConfirmedRead, responses=EDIT_ERRORS, dependencies=[ORDER_IN_SCOPE])
async def confirm_edit(order_id: str, data: OrderEditCreate, staff_member: OrderReaderPrincipal,
                       edits: EditsDep) -> Any:
    """Apply the edit (audited as `order.edit`): the lines and totals change, the order's next version is
    kept (`edit`), the units removed go back in stock and a paid order is refunded the difference through
    payments, once (`order.edited`); the credit note follows the refund."""
    return await edits.confirm(order_id, data, staff_member)


@staff.get("/orders/{order_id}/edits", summary="An order's versions", response_model=list[OrderEditRead],
           responses={401: EDIT_ERRORS[401], 403: EDIT_ERRORS[403], 404: EDIT_ERRORS[404]},
           dependencies=[ORDER_IN_SCOPE])
async def list_edits(order_id: str, _: OrderReaderPrincipal, edits: EditReaderDep) -> Any:
    """The order's edits, oldest first: version, what changed, who, why, the totals and the refund."""
    return await edits.history(order_id)
