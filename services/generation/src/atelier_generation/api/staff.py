"""The staff API generation answers (#36): credits granted or taken back by hand."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, status

from atelier_common.auth import FinancePrincipal
from atelier_common.idempotency import IdempotencyDep
from atelier_common.service import use_case
from atelier_generation.schemas import CreditAdjustment, CreditAdjustmentRead
from atelier_generation.service.staff_credits import StaffCredits

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])
StaffCreditsDep = Annotated[StaffCredits, use_case(StaffCredits)]


@router.post("/credits/{user_id}", response_model=CreditAdjustmentRead, status_code=status.HTTP_201_CREATED,
             responses={409: {"description": "INSUFFICIENT_CREDITS: the deduction is more than the balance"}})
async def adjust_credits(user_id: uuid.UUID, data: CreditAdjustment, staff: FinancePrincipal,
                         credits: StaffCreditsDep, idempotency: IdempotencyDep) -> Any:
    """Grant (positive `amount`) or deduct (negative) a customer's credits, with a reason they see."""
    return await idempotency.run(lambda: credits.adjust(user_id, data, staff))
