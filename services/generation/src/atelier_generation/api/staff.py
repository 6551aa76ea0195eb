"""The staff API generation answers (#36): a customer's credits (granted or taken back by hand,
and their ledger), their books, and every customer's jobs with a failed one retried."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from atelier_common.auth import OrderReaderPrincipal, SupportPrincipal
from atelier_common.idempotency import IdempotencyDep
from atelier_common.inputs import InputModel
from atelier_common.pagination import Page, PageParamsDep, build_page
from atelier_common.service import use_case
from atelier_common.staff_access import CONFIRMED_RESPONSES, CurrentFinancePrincipal
from atelier_generation.domain import JobStatus
from atelier_generation.schemas import CreditAdjustment, CreditAdjustmentRead, TransactionRead
from atelier_generation.service.staff_credits import StaffCredits
from atelier_generation.service.staff_jobs import StaffCustomerGeneration, StaffJobs

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])
StaffCreditsDep = Annotated[StaffCredits, use_case(StaffCredits)]
StaffJobsDep = Annotated[StaffJobs, use_case(StaffJobs)]
StaffJobsReaderDep = Annotated[StaffJobs, use_case(StaffJobs, read_only=True)]
CustomerGenerationDep = Annotated[StaffCustomerGeneration, use_case(StaffCustomerGeneration, read_only=True)]


class StaffJobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    owner_id: uuid.UUID
    kind: str
    status: str
    model: str
    prompt: str
    batch_size: int
    credits_charged: int
    quota_charged: int
    attempts: int
    error: str | None
    provider: str | None
    provider_request_id: str | None
    storefront: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobRetry(InputModel):
    reason: str | None = Field(default=None, max_length=500)


class CustomerCreditsRead(BaseModel):
    user_id: uuid.UUID
    balance: int
    transactions: list[TransactionRead] = Field(description="the newest first, as the customer sees them")


class StaffBookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    status: str
    language: str
    print_tier: str | None
    print_order_id: uuid.UUID | None
    print_paid_at: datetime | None
    storefront: str
    created_at: datetime


_INSUFFICIENT: dict[int | str, dict[str, Any]] = {
    409: {"description": "INSUFFICIENT_CREDITS: the deduction is more than the balance"}, **CONFIRMED_RESPONSES}


@router.post("/customers/{user_id}/credits", response_model=CreditAdjustmentRead,
             status_code=status.HTTP_201_CREATED, responses=_INSUFFICIENT)
@router.post("/credits/{user_id}", response_model=CreditAdjustmentRead, status_code=status.HTTP_201_CREATED,
             responses=_INSUFFICIENT, include_in_schema=False)
async def adjust_credits(user_id: uuid.UUID, data: CreditAdjustment, staff: CurrentFinancePrincipal,
                         credits: StaffCreditsDep, idempotency: IdempotencyDep) -> Any:
    """Grant (positive `amount`) or deduct (negative) a customer's credits, with a reason they see.
    Credits move: the caller's roles are identity's answer now (`atelier_common.staff_access`).
    (`/staff/credits/{user_id}`: the first path, kept as an alias.)"""
    return await idempotency.run(lambda: credits.adjust(user_id, data, staff))


@router.get("/customers/{user_id}/credits", response_model=CustomerCreditsRead)
@router.get("/credits/{user_id}", response_model=CustomerCreditsRead, include_in_schema=False)
async def customer_credits(user_id: uuid.UUID, _: OrderReaderPrincipal, reader: CustomerGenerationDep) -> Any:
    """The customer's balance and ledger (an account that never had credits: 0 and none); support
    and finance (who grants credits) read it."""
    balance, transactions = await reader.credits(user_id)
    return CustomerCreditsRead(user_id=user_id, balance=balance, transactions=transactions)


@router.get("/books", response_model=Page[StaffBookRead])
async def customer_books(request: Request, customer: uuid.UUID, _: SupportPrincipal, reader: CustomerGenerationDep,
                         params: PageParamsDep) -> dict[str, Any]:
    """A customer's storybooks, newest first."""
    count, rows = await reader.books(customer, limit=params.limit, offset=params.offset)
    return build_page(request, params, count, list(rows))


@router.get("/jobs", response_model=Page[StaffJobRead])
async def list_jobs(request: Request, _: SupportPrincipal, jobs: StaffJobsReaderDep, params: PageParamsDep,
                    status_: Annotated[list[JobStatus] | None, Query(alias="status", description=(
                        "one or more (repeat it): failed, blocked, queued, running, completed"))] = None,
                    customer: uuid.UUID | None = None) -> dict[str, Any]:
    """Every customer's generation jobs, newest first, by status and customer."""
    count, rows = await jobs.page(statuses=[s.value for s in status_ or ()], customer=customer,
                                  limit=params.limit, offset=params.offset)
    return build_page(request, params, count, list(rows))


@router.post("/jobs/{job_id}/retry", response_model=StaffJobRead,
             responses={404: {"description": "NOT_FOUND"},
                        409: {"description": "JOB_NOT_RETRYABLE (not failed) or INSUFFICIENT_CREDITS"}})
async def retry_job(job_id: uuid.UUID, staff: SupportPrincipal, jobs: StaffJobsDep, idempotency: IdempotencyDep,
                    body: JobRetry | None = None) -> Any:
    """Queue a failed job again through the worker, paid again (the failure refunded it); a job
    whose provider request is stored resumes by polling it, never submitting twice."""
    reason = body.reason if body else None
    return await idempotency.run(lambda: jobs.retry(job_id, staff, reason=reason))
