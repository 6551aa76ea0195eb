"""The staff API identity answers (#36): the audit log of every service's staff writes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from atelier_common.auth import STAFF_ROLES, AdminPrincipal, SupportPrincipal
from atelier_common.errors import ERROR_RESPONSES
from atelier_common.inputs import InputModel
from atelier_common.pagination import Page, PageParamsDep, build_page
from atelier_common.service import use_case
from atelier_identity.service.audit import AuditLog
from atelier_identity.service.staff import CustomerSearch, StaffAccounts
from atelier_identity.staff_repository import AuditFilter

router = APIRouter(prefix="/api/v1/staff", tags=["staff"], responses=ERROR_RESPONSES)
AuditLogDep = Annotated[AuditLog, use_case(AuditLog, read_only=True)]
StaffAccountsDep = Annotated[StaffAccounts, use_case(StaffAccounts)]
StaffReaderDep = Annotated[StaffAccounts, use_case(StaffAccounts, read_only=True)]
CustomerSearchDep = Annotated[CustomerSearch, use_case(CustomerSearch, read_only=True)]


class CustomerRead(BaseModel):
    """A customer as support sees them (#36)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    first_name: str
    last_name: str
    username: str | None
    display_name: str | None
    is_active: bool
    email_verified_at: datetime | None
    signup_storefront: str
    last_login_at: datetime | None
    created_at: datetime
    staff_roles: list[str]


class StaffAccountChange(InputModel):
    """Make the existing account `email` staff with exactly `roles` (empty: staff no more)."""

    email: str = Field(min_length=3, max_length=320)
    roles: list[str] = Field(max_length=len(STAFF_ROLES), description=", ".join(STAFF_ROLES))


class StaffAccountRead(BaseModel):
    id: uuid.UUID
    email: str
    roles: list[str] = Field(validation_alias="staff_roles")


class AuditEntryRead(BaseModel):
    id: uuid.UUID
    at: datetime
    actor: uuid.UUID
    actor_email: str | None
    roles: list[str]
    service: str
    action: str
    target_type: str
    target: str
    reason: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def _filter(actor: uuid.UUID | None = None, action: Annotated[str | None, Query(max_length=64)] = None,
            target_type: Annotated[str | None, Query(max_length=32)] = None,
            target: Annotated[str | None, Query(max_length=128)] = None,
            at_after: datetime | None = None, at_before: datetime | None = None) -> AuditFilter:
    return AuditFilter(actor_id=actor, action=action, target_type=target_type, target_id=target,
                       after=at_after, before=at_before)


@router.get("/accounts", response_model=Page[StaffAccountRead])
async def list_staff_accounts(request: Request, _: AdminPrincipal, accounts: StaffReaderDep,
                              params: PageParamsDep) -> dict[str, Any]:
    count, rows = await accounts.page(limit=params.limit, offset=params.offset)
    page: dict[str, Any] = build_page(request, params, count, list(rows))
    return page


@router.post("/accounts", response_model=StaffAccountRead,
             responses={404: {"description": "USER_NOT_FOUND: no account has that email"}})
async def set_staff_roles(body: StaffAccountChange, staff: AdminPrincipal, accounts: StaffAccountsDep) -> Any:
    """Set an account's staff roles; its sessions end when they change (tokens carry the roles)."""
    return await accounts.set_roles(body.email, body.roles, staff)


@router.get("/customers", response_model=Page[CustomerRead])
async def search_customers(request: Request, _: SupportPrincipal, customers: CustomerSearchDep,
                           params: PageParamsDep,
                           q: Annotated[str | None, Query(max_length=320, description="part of the email or name")] = None,
                           ) -> dict[str, Any]:
    """Accounts by email or name, newest first; their orders: `/api/v1/staff/orders?customer=`."""
    count, rows = await customers.page(q.strip() if q else None, limit=params.limit, offset=params.offset)
    page: dict[str, Any] = build_page(request, params, count, list(rows))
    return page


@router.get("/customers/{user_id}", response_model=CustomerRead,
            responses={404: {"description": "USER_NOT_FOUND"}})
async def get_customer(user_id: uuid.UUID, _: SupportPrincipal, customers: CustomerSearchDep) -> Any:
    return await customers.get(user_id)


@router.get("/audit", response_model=Page[AuditEntryRead])
async def list_audit(request: Request, _: AdminPrincipal, log: AuditLogDep, params: PageParamsDep,
                     where: Annotated[AuditFilter, Depends(_filter)]) -> dict[str, Any]:
    """Staff writes of every service, newest first; filter by actor, action, target and time."""
    count, rows = await log.page(where, limit=params.limit, offset=params.offset)
    results = [{**row.model_dump(), "actor": row.actor_id, "roles": row.actor_roles, "target": row.target_id}
               for row in rows]
    page: dict[str, Any] = build_page(request, params, count, results)
    return page
