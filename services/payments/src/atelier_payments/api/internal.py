"""/internal/...: for other services only (service credential), never routed by the gateway."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from atelier_common.auth import require_service
from atelier_payments.api.deps import PaymentServiceDep
from atelier_payments.rows import PaymentRow
from atelier_payments.schemas import PaymentList

router = APIRouter(prefix="/internal", tags=["internal"], dependencies=[require_service], include_in_schema=False)


@router.get("/orders/{order_id}/payments", response_model=PaymentList)
async def list_order_payments(order_id: uuid.UUID, payments: PaymentServiceDep) -> dict[str, list[PaymentRow]]:
    return {"results": await payments.of_order(order_id)}
