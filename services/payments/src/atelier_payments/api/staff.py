"""The staff API payments answers (#36): its part of an order's picture."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter

from atelier_common.auth import OrderReaderPrincipal
from atelier_common.service import use_case
from atelier_payments.schemas import OrderPaymentsRead
from atelier_payments.service.staff import StaffPayments

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])
StaffPaymentsDep = Annotated[StaffPayments, use_case(StaffPayments, read_only=True)]


@router.get("/payments/orders/{order_id}", response_model=OrderPaymentsRead,
            responses={404: {"description": "ORDER_NOT_FOUND: no payment of that order"}})
async def order_payments(order_id: uuid.UUID, _: OrderReaderPrincipal, payments: StaffPaymentsDep) -> OrderPaymentsRead:
    """An order's payments and refunds, what is refunded and what may still be."""
    return await payments.of_order(order_id)
