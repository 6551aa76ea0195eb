"""The staff API identity answers: the audit log of every service's staff writes."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from atelier_common.auth import (
    SCOPE_CUSTOMERS_READ,
    STAFF_ROLES,
    AdminPrincipal,
    OrderReaderPrincipal,
    SupportPrincipal,
    key_access,
)
from atelier_common.errors import ERROR_RESPONSES
from atelier_common.idempotency import IdempotencyDep
from atelier_common.inputs import InputModel
from atelier_common.pagination import Page, PageParamsDep, build_page
from atelier_common.service import use_case
from atelier_common.versions import IfMatchDep
from atelier_identity.repository.staff import AuditFilter
from atelier_identity.service.audit import AuditLog
from atelier_identity.service.customer_care import CustomerCard, CustomerCare, StaffMail
from atelier_identity.service.staff import CustomerSearch, StaffAccounts

router = APIRouter(prefix="/api/v1/staff", tags=["staff"], responses=ERROR_RESPONSES)
AuditLogDep = Annotated[AuditLog, use_case(AuditLog, read_only=True)]
StaffAccountsDep = Annotated[StaffAccounts, use_case(StaffAccounts)]
StaffReaderDep = Annotated[StaffAccounts, use_case(StaffAccounts, read_only=True)]
CustomerSearchDep = Annotated[CustomerSearch, use_case(CustomerSearch, read_only=True)]
CustomerCareDep = Annotated[CustomerCare, use_case(CustomerCare)]
CustomerCardDep = Annotated[CustomerCare, use_case(CustomerCare, read_only=True)]
StaffMailDep = Annotated[StaffMail, use_case(StaffMail)]
StaffMailReaderDep = Annotated[StaffMail, use_case(StaffMail, read_only=True)]


class CustomerRead(BaseModel):
    """A customer as support sees them."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a", "email": "ada.lovelace@example.com", "first_name": "Ada",
         "last_name": "Lovelace", "username": None, "display_name": "Ada", "is_active": True,
         "email_verified_at": "2026-11-26T02:15:22.488002Z", "signup_storefront": "default",
         "last_login_at": "2026-11-26T02:15:23.797215Z", "created_at": "2026-11-26T02:15:22.404442Z",
         "staff_roles": [], "version": "94051704c0152d8c"}]})

    id: uuid.UUID
    email: str | None  # None: an account registered by username alone
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
    # The account's version: send it back as `expected_version` or `If-Match` with a write.
    version: str


class CustomerDetailRead(CustomerRead):
    """The account with its live sessions; its orders, credits, subscriptions, jobs and books are
    each owning service's staff reads (`?customer=`), which the console calls side by side."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a", "email": "ada.lovelace@example.com", "first_name": "Ada",
         "last_name": "Lovelace", "username": None, "display_name": "Ada", "is_active": True,
         "email_verified_at": "2026-11-26T02:15:22.488002Z", "signup_storefront": "default",
         "last_login_at": "2026-11-26T02:15:23.797215Z", "created_at": "2026-11-26T02:15:22.404442Z",
         "staff_roles": [], "version": "94051704c0152d8c", "active_sessions": 3}]})

    active_sessions: int


class CustomerAction(InputModel):
    """An optional reason (kept in the audit log) and the version the staffer's form was read at."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"reason": "Chargeback under review"}]})

    reason: str | None = Field(default=None, max_length=500)
    expected_version: str | None = Field(default=None, max_length=64)


class MailRead(BaseModel):
    """A mail as support sees it: what and to whom, not its body (its links are the customer's
    credentials: a reset or sign-in link must not be readable by staff)."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": "60c28887-0e9c-4138-b9d3-888b0c170e31", "to": "ada.lovelace@example.com", "kind": "password_reset",
         "subject": "Reset your password", "created_at": "2026-11-26T02:15:40.199271Z",
         "sent_at": "2026-11-26T02:15:40.220642Z", "failed_at": None, "attempts": 1}]})

    id: uuid.UUID
    to: str = Field(validation_alias="recipient")
    kind: str
    subject: str
    created_at: datetime
    sent_at: datetime | None
    failed_at: datetime | None
    attempts: int


class SessionRead(BaseModel):
    """A signed-in session of the customer (a device or browser): one refresh token family, by its
    id. `last_used_at` is its last sign-in or refresh; `storefront` where that happened (null:
    unknown, or before it was kept)."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": "0b0fd3c2-51b4-4fd4-9b4c-1d6f6b1f7a55", "created_at": "2026-11-26T02:15:23.797215Z",
         "last_used_at": "2026-11-26T09:41:02.120334Z", "expires_at": "2026-12-26T09:41:02.120334Z",
         "storefront": "default"}]})

    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    storefront: str | None


# The staff roles, listed in the OpenAPI document (the console's role boxes are read from it); the
# service, not the schema, refuses an unknown one (400, its message naming the roles).
StaffRoleName = Annotated[str, WithJsonSchema({"type": "string", "enum": list(STAFF_ROLES)})]


class StaffAccountChange(InputModel):
    """Make the existing account `email` staff with exactly `roles` (empty: staff no more)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"email": "ada.lovelace@example.com", "roles": ["support"]}]})

    email: str = Field(min_length=3, max_length=320)
    roles: list[StaffRoleName] = Field(max_length=len(STAFF_ROLES), description=", ".join(STAFF_ROLES))


class StaffAccountRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "5f398e4d-778b-4622-a229-9e21de414ae0", "email": "staff@example.com", "roles": ["admin"]}]})

    id: uuid.UUID
    email: str
    roles: list[str] = Field(validation_alias="staff_roles")


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "d1eadf72-7688-411a-8f94-9cb188ff3053", "at": "2026-11-26T02:15:40.316241Z",
         "actor": "5f398e4d-778b-4622-a229-9e21de414ae0", "actor_email": "staff@example.com", "roles": ["admin"],
         "service": "identity", "action": "mail.resend", "target_type": "mail",
         "target": "60c28887-0e9c-4138-b9d3-888b0c170e31", "reason": None, "before": None,
         "after": {"resent_as": "34e3ffc3-11c2-48b2-bab9-11d8ba6a95dd", "to": "ada.lovelace@example.com",
          "kind": "password_reset"}}]})

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


@router.get("/accounts", summary="List staff accounts", response_model=Page[StaffAccountRead])
async def list_staff_accounts(request: Request, _: AdminPrincipal, accounts: StaffReaderDep,
                              params: PageParamsDep) -> dict[str, Any]:
    """Every account with a staff role, with its roles."""
    count, rows = await accounts.page(limit=params.limit, offset=params.offset)
    page: dict[str, Any] = build_page(request, params, count, list(rows))
    return page


@router.post("/accounts", summary="Set staff roles", response_model=StaffAccountRead,
             responses={404: {"description": "USER_NOT_FOUND: no account has that email"}})
async def set_staff_roles(body: StaffAccountChange, staff: AdminPrincipal, accounts: StaffAccountsDep) -> Any:
    """Set an account's staff roles (none: no longer staff); its sessions end when they change (tokens carry the
    roles)."""
    return await accounts.set_roles(body.email, body.roles, staff)


@router.get("/customers", summary="Search customers", response_model=Page[CustomerRead])
@key_access(SCOPE_CUSTOMERS_READ)
async def search_customers(request: Request, staff: OrderReaderPrincipal, customers: CustomerSearchDep,
                           params: PageParamsDep,
                           q: Annotated[str | None, Query(max_length=320, description="part of the email or name")] = None,
                           ids: Annotated[list[uuid.UUID] | None, Query(
                               alias="id", max_length=100,
                               description="only these accounts (repeat it: `?id=…&id=…`, up to 100)")] = None,
                           ) -> dict[str, Any]:
    """Accounts by email or name, or by id (the console names many ids at once), newest first; their orders:
    `/api/v1/staff/orders?customer=`. Support's and finance's: finance names whom it refunds."""
    count, rows = await customers.page(q.strip() if q else None, ids=ids or (), limit=params.limit,
                                       offset=params.offset, staff=staff)
    page: dict[str, Any] = build_page(request, params, count, list(rows))
    return page


def _detail(card: CustomerCard) -> dict[str, Any]:
    return {**CustomerRead.model_validate(card.user).model_dump(), "active_sessions": card.active_sessions}


@router.get("/customers/{user_id}", summary="Get a customer", response_model=CustomerDetailRead,
            responses={404: {"description": "USER_NOT_FOUND"}})
@key_access(SCOPE_CUSTOMERS_READ)
async def get_customer(user_id: uuid.UUID, staff: SupportPrincipal, care: CustomerCardDep) -> Any:
    """A customer's account as support sees it: status, verification, sign-in methods, its `version` for the write
    forms."""
    return _detail(await care.card(user_id, staff))


_ACTION_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "PERMISSION_DENIED: also support acting on an account with a staff role (admin only)"},
    404: {"description": "USER_NOT_FOUND"},
    409: {"description": "STALE_VERSION: the account changed since the form was read; `details.current`"}}


@router.post("/customers/{user_id}/suspend", summary="Suspend a customer",
             response_model=CustomerDetailRead, responses=_ACTION_RESPONSES)
@key_access()
async def suspend_customer(user_id: uuid.UUID, staff: AdminPrincipal, care: CustomerCareDep, if_match: IfMatchDep,
                           body: CustomerAction | None = None) -> Any:
    """No more sign-in or refresh (403 `ACCOUNT_DISABLED`); every session ends. Again: no change."""
    body = body or CustomerAction()
    return _detail(await care.suspend(user_id, staff, reason=body.reason,
                                      expected_version=body.expected_version or if_match))


@router.post("/customers/{user_id}/reactivate", summary="Reactivate a customer",
             response_model=CustomerDetailRead, responses=_ACTION_RESPONSES)
@key_access()
async def reactivate_customer(user_id: uuid.UUID, staff: AdminPrincipal, care: CustomerCareDep,
                              if_match: IfMatchDep, body: CustomerAction | None = None) -> Any:
    """Lift a suspension; the customer may sign in again. The admin's, as suspending is: support
    does not undo it."""
    body = body or CustomerAction()
    return _detail(await care.reactivate(user_id, staff, reason=body.reason,
                                         expected_version=body.expected_version or if_match))


@router.post("/customers/{user_id}/verify-email", summary="Mark a customer's email verified",
             response_model=CustomerDetailRead, responses=_ACTION_RESPONSES)
@key_access()
async def verify_customer_email(user_id: uuid.UUID, staff: SupportPrincipal, care: CustomerCareDep,
                                if_match: IfMatchDep, body: CustomerAction | None = None) -> Any:
    """Mark the account's email as verified (support checked it another way)."""
    body = body or CustomerAction()
    return _detail(await care.verify_email(user_id, staff, reason=body.reason,
                                           expected_version=body.expected_version or if_match))


@router.post("/customers/{user_id}/password-reset", summary="Send a customer a password reset",
             response_model=CustomerDetailRead,
             responses={**_ACTION_RESPONSES,
                        409: {"description": "STALE_VERSION, or ACCOUNT_SUSPENDED: reactivate first"}})
@key_access()
async def send_customer_password_reset(user_id: uuid.UUID, staff: SupportPrincipal, care: CustomerCareDep,
                                       if_match: IfMatchDep, idempotency: IdempotencyDep,
                                       body: CustomerAction | None = None) -> Any:
    """Mail a reset link from the customer's storefront; each call mails (retry with an Idempotency-Key)."""
    action = body or CustomerAction()
    return await idempotency.run(lambda: _detailed(care.send_password_reset(
        user_id, staff, reason=action.reason, expected_version=action.expected_version or if_match)))


@router.post("/customers/{user_id}/sign-out", summary="Sign a customer out",
             response_model=CustomerDetailRead, responses=_ACTION_RESPONSES)
@key_access()
async def sign_customer_out(user_id: uuid.UUID, staff: SupportPrincipal, care: CustomerCareDep,
                            if_match: IfMatchDep, body: CustomerAction | None = None) -> Any:
    """End every session of the account (refresh tokens revoked, access tokens denied)."""
    body = body or CustomerAction()
    return _detail(await care.sign_out(user_id, staff, reason=body.reason,
                                       expected_version=body.expected_version or if_match))


@router.post("/customers/{user_id}/verification-mail", summary="Send a customer a verification mail",
             response_model=CustomerDetailRead,
             responses={**_ACTION_RESPONSES,
                        409: {"description": "STALE_VERSION, EMAIL_ALREADY_VERIFIED, NO_EMAIL_ADDRESS, or "
                                             "ACCOUNT_SUSPENDED: reactivate first"}})
@key_access()
async def send_customer_verification_mail(user_id: uuid.UUID, staff: SupportPrincipal, care: CustomerCareDep,
                                          if_match: IfMatchDep, idempotency: IdempotencyDep,
                                          body: CustomerAction | None = None) -> Any:
    """Mail a new verification link from the customer's storefront; each call mails (retry with an
    Idempotency-Key)."""
    action = body or CustomerAction()
    return await idempotency.run(lambda: _detailed(care.send_verification(
        user_id, staff, reason=action.reason, expected_version=action.expected_version or if_match)))


@router.get("/customers/{user_id}/sessions", summary="List a customer's sessions", response_model=Page[SessionRead],
            responses={404: {"description": "USER_NOT_FOUND"}})
@key_access(SCOPE_CUSTOMERS_READ)
async def list_customer_sessions(request: Request, user_id: uuid.UUID, staff: SupportPrincipal, care: CustomerCardDep,
                                 params: PageParamsDep) -> dict[str, Any]:
    """The customer's signed-in sessions (devices) that may still be refreshed, the most recently active first;
    `sign-out` ends them all."""
    count, rows = await care.sessions_of(user_id, staff, limit=params.limit, offset=params.offset)
    page: dict[str, Any] = build_page(request, params, count, rows)
    return page


async def _detailed(card: Awaitable[CustomerCard]) -> dict[str, Any]:
    return _detail(await card)


@router.get("/mail", summary="List sent mail", response_model=Page[MailRead])
async def list_mail(request: Request, _: SupportPrincipal, mail: StaffMailReaderDep, params: PageParamsDep,
                    to: Annotated[str | None, Query(max_length=320, description="the recipient's address")] = None,
                    ) -> dict[str, Any]:
    """Mail sent or queued (account mail, order and job notifications), newest first; `to` filters by recipient."""
    count, rows = await mail.page(to.strip() if to else None, limit=params.limit, offset=params.offset)
    page: dict[str, Any] = build_page(request, params, count, list(rows))
    return page


class MailResend(InputModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"reason": "The customer's inbox was full"}]})

    reason: str | None = Field(default=None, max_length=500)


@router.post("/mail/{mail_id}/resend", summary="Resend a mail",
             response_model=MailRead, status_code=status.HTTP_201_CREATED,
             responses={404: {"description": "MAIL_NOT_FOUND"}})
async def resend_mail(mail_id: uuid.UUID, staff: SupportPrincipal, mail: StaffMailDep, idempotency: IdempotencyDep,
                      body: MailResend | None = None) -> Any:
    """Queue the same mail again to the same address; answers the new message (a retried request with the same
    Idempotency-Key sends nothing more)."""
    reason = body.reason if body else None
    return await idempotency.run(lambda: mail.resend(mail_id, staff, reason=reason))


@router.get("/audit", summary="List the audit log", response_model=Page[AuditEntryRead])
async def list_audit(request: Request, _: AdminPrincipal, log: AuditLogDep, params: PageParamsDep,
                     where: Annotated[AuditFilter, Depends(_filter)]) -> dict[str, Any]:
    """Staff writes of every service, newest first; filter by actor, action, target and time."""
    count, rows = await log.page(where, limit=params.limit, offset=params.offset)
    results = [{**row.model_dump(), "actor": row.actor_id, "roles": row.actor_roles, "target": row.target_id}
               for row in rows]
    page: dict[str, Any] = build_page(request, params, count, results)
    return page
