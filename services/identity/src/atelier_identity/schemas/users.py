"""The account's profile (`/users`), its plan and quota as payments tells them, and the internal lookups."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from atelier_identity.schemas._shared import (
    CompanyName,
    DisplayName,
    Name,
    Password,
    Phone,
    Request,
    TaxNumber,
    Username,
)


class UserLookup(Request):
    """Internal: an account by its email address."""

    email: str = Field(min_length=1, max_length=320)


class UserUpdate(Request):
    """Profile fields; all optional (PUT and PATCH both update what is sent).

    `email` is not a field here: a changed address must be proven through the email-change flow,
    so an `email` in the body is ignored like any unknown field (S1 ignores it too).
    """

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"first_name": "Ada", "last_name": "Lovelace", "display_name": "Ada"}]})

    first_name: Name | None = None
    last_name: Name | None = None
    phone: Phone = None
    company_name: CompanyName = None
    # Kept for invoices: an order placed by the account without its own `buyer_tax_number` prints this one.
    tax_number: TaxNumber = None
    username: Username = None
    display_name: DisplayName = None

    @field_validator("first_name", "last_name")
    @classmethod
    def _not_null(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("This field cannot be null")
        return value


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a", "email": "ada.lovelace@example.com", "username": None,
         "display_name": "Ada", "first_name": "Ada", "last_name": "Lovelace", "phone": "+442079460000",
         "company_name": None, "is_business_customer": False, "is_verified": True, "has_password": True,
         "roles": ["customer"], "signup_storefront": "default", "created_at": "2026-11-26T02:15:22.404442Z"}]})

    id: uuid.UUID
    # None: an account registered by username alone (`Storefront.email_optional`) until it adds one.
    email: str | None
    # S4's profile fields, None until chosen.
    username: str | None
    display_name: str | None
    first_name: str
    last_name: str
    phone: str | None
    company_name: str | None
    tax_number: str | None = Field(default=None, description=(
        "a business customer's tax or VAT number, printed on the invoices of its orders that name no other"))
    is_business_customer: bool
    is_verified: bool
    # False for accounts that sign in by passkey, provider or magic link only.
    has_password: bool
    roles: list[str]
    # The storefront the account was created on (read-only: accounts are platform-wide).
    signup_storefront: str
    created_at: datetime


class UserAccessRead(BaseModel):
    """What an account may do now (`/internal/users/{id}/access`): the roles its next token would
    carry and whether it may sign in. A money-moving staff write asks it at the moment it acts."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    is_active: bool
    roles: list[str]


class SubscriptionRead(BaseModel):
    """The user's plan as payments reports it (`GET /subscriptions/current` without its quota)."""

    plan_id: str | None
    tier: str
    status: str | None
    current_period_start: datetime | None
    current_period_end: datetime | None
    cancel_at_period_end: bool


class QuotaRead(BaseModel):
    monthly: int | None
    used: int
    remaining: int | None


class UserProfile(UserRead):
    """`GET /users/me`: the profile with the subscription and quota; both null when payments cannot
    tell them right now."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a", "email": "ada.lovelace@example.com", "username": None,
         "display_name": None, "first_name": "Ada", "last_name": "Lovelace", "phone": None, "company_name": None,
         "is_business_customer": False, "is_verified": True, "has_password": True, "roles": ["customer"],
         "signup_storefront": "default", "created_at": "2026-11-26T02:15:22.404442Z",
         "subscription": {"plan_id": None, "tier": "free", "status": None, "current_period_start": None,
          "current_period_end": None, "cancel_at_period_end": False},
         "quota": {"monthly": 0, "used": 0, "remaining": 0}}]})

    subscription: SubscriptionRead | None
    quota: QuotaRead | None


class DeleteAccountRequest(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"password": "correct horse battery staple"}]})

    password: Password | None = None
    confirm: str | None = Field(default=None, max_length=20)
