"""The staff API generation answers: a customer's credits (granted or taken back by hand,
and their ledger), their books, every customer's jobs with a failed one retried, and failed jobs
per day."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from atelier_common.auth import OrderReaderPrincipal, SupportPrincipal
from atelier_common.idempotency import IdempotencyDep
from atelier_common.inputs import InputModel
from atelier_common.pagination import Page, PageParamsDep, build_page
from atelier_common.reports import DEFAULT_DAYS, DailyReport, DaysQuery
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
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": "1219957d-6875-4d61-aa4d-7f7dd6e46df3", "owner_id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a",
         "kind": "storybook", "status": "completed", "model": "storybook-v1",
         "prompt": "Book cover for the children's book \"Max Goes to Sea\". A small dog sails to the lighthouse",
         "batch_size": 1, "credits_charged": 0, "quota_charged": 0, "attempts": 1, "error": None, "provider": None,
         "provider_request_id": None, "storefront": "default", "created_at": "2026-11-26T02:15:32.757510Z",
         "started_at": "2026-11-26T02:15:32.773374Z", "finished_at": "2026-11-26T02:15:32.919286Z"}]})

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
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"reason": "The provider was down; retried for the customer"}]})

    reason: str | None = Field(default=None, max_length=500)


class CustomerCreditsRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"user_id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a", "balance": 12,
         "transactions": [{"id": "15b86943-5e3a-4736-9086-7a59785121c2", "amount": 5,
           "transaction_type": "adjustment", "balance_after": 12, "reference_id": None, "order_id": None,
           "description": "Credits added by support: Goodwill after a failed job", "storefront": "default",
           "created_at": "2026-11-26T02:15:40.065711Z"}]}]})

    user_id: uuid.UUID
    balance: int
    transactions: list[TransactionRead] = Field(description="the newest first, as the customer sees them")


class StaffBookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": "195df106-37a8-47b7-b4a4-84484fb00017", "title": "Max Goes to Sea", "status": "draft",
         "language": "en", "print_tier": None, "print_order_id": None, "print_paid_at": None,
         "storefront": "default", "created_at": "2026-11-26T02:15:31.603999Z"}]})

    id: uuid.UUID
    title: str
    status: str
    language: str
    print_tier: str | None
    print_order_id: uuid.UUID | None
    print_paid_at: datetime | None
    storefront: str
    created_at: datetime


class FailedJobsDayRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"day": "2026-11-26", "failed": 2}]})

    day: date
    failed: int = Field(description="jobs that failed that day (UTC) and have not been retried since")


_INSUFFICIENT: dict[int | str, dict[str, Any]] = {
    409: {"description": "INSUFFICIENT_CREDITS: the deduction is more than the balance"}, **CONFIRMED_RESPONSES}


@router.post("/customers/{user_id}/credits", summary="Adjust a customer's credits", response_model=CreditAdjustmentRead,
             status_code=status.HTTP_201_CREATED, responses=_INSUFFICIENT)
@router.post("/credits/{user_id}", response_model=CreditAdjustmentRead, status_code=status.HTTP_201_CREATED,
             responses=_INSUFFICIENT, include_in_schema=False)
async def adjust_credits(user_id: uuid.UUID, data: CreditAdjustment, staff: CurrentFinancePrincipal,
                         credits: StaffCreditsDep, idempotency: IdempotencyDep) -> Any:
    """Grant (positive `amount`) or deduct (negative) a customer's credits, with a reason they see.
    Credits move: the caller's roles are identity's answer now (`atelier_common.staff_access`).
    (`/staff/credits/{user_id}`: the first path, kept as an alias.)"""
    return await idempotency.run(lambda: credits.adjust(user_id, data, staff))


@router.get("/customers/{user_id}/credits", summary="Get a customer's credits", response_model=CustomerCreditsRead)
@router.get("/credits/{user_id}", response_model=CustomerCreditsRead, include_in_schema=False)
async def customer_credits(user_id: uuid.UUID, _: OrderReaderPrincipal, reader: CustomerGenerationDep) -> Any:
    """The customer's balance and credit history (an account that never had credits: 0 and none)."""
    balance, transactions = await reader.credits(user_id)
    return CustomerCreditsRead(user_id=user_id, balance=balance, transactions=transactions)


@router.get("/books", summary="List a customer's storybooks", response_model=Page[StaffBookRead])
async def customer_books(request: Request, customer: uuid.UUID, _: SupportPrincipal, reader: CustomerGenerationDep,
                         params: PageParamsDep) -> dict[str, Any]:
    """A customer's storybooks, newest first."""
    count, rows = await reader.books(customer, limit=params.limit, offset=params.offset)
    return build_page(request, params, count, list(rows))


@router.get("/jobs", summary="List generation jobs", response_model=Page[StaffJobRead])
async def list_jobs(request: Request, _: SupportPrincipal, jobs: StaffJobsReaderDep, params: PageParamsDep,
                    status_: Annotated[list[JobStatus] | None, Query(alias="status", description=(
                        "one or more (repeat it): failed, blocked, queued, running, completed"))] = None,
                    customer: uuid.UUID | None = None) -> dict[str, Any]:
    """Every customer's generation jobs, newest first; filter by status and customer."""
    count, rows = await jobs.page(statuses=[s.value for s in status_ or ()], customer=customer,
                                  limit=params.limit, offset=params.offset)
    return build_page(request, params, count, list(rows))


@router.post("/jobs/{job_id}/retry", summary="Retry a failed job", response_model=StaffJobRead,
             responses={404: {"description": "NOT_FOUND"},
                        409: {"description": "JOB_NOT_RETRYABLE (not failed) or INSUFFICIENT_CREDITS"}})
async def retry_job(job_id: uuid.UUID, staff: SupportPrincipal, jobs: StaffJobsDep, idempotency: IdempotencyDep,
                    body: JobRetry | None = None) -> Any:
    """Queue a failed job again through the worker, paid again (the failure refunded it); a job whose provider
    request is stored resumes by polling it, never submitting twice."""
    reason = body.reason if body else None
    return await idempotency.run(lambda: jobs.retry(job_id, staff, reason=reason))


@router.get("/reports/failed-jobs", summary="Failed generation jobs per day",
            response_model=DailyReport[FailedJobsDayRead])
async def failed_jobs_report(_: SupportPrincipal, jobs: StaffJobsReaderDep, days: DaysQuery = DEFAULT_DAYS) -> Any:
    """The last `days` days (UTC, today so far included), one row per day on which jobs failed: how
    many, counted by the day they failed; a job retried since is not counted. The console's
    dashboard chart."""
    window, counts = await jobs.failed_per_day(days)
    return DailyReport[FailedJobsDayRead](days=days, since=window.since, until=window.until,
                                          results=[FailedJobsDayRead(day=day, failed=n) for day, n in counts])
