"""Request and response models of the identity API. Unknown request fields are ignored."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, EmailStr, Field, StringConstraints
from pydantic import ValidationInfo, field_validator

from atelier_identity.domain import PASSWORD_MAX_LENGTH


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150)]
Phone = Annotated[
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=32, pattern=r"^\+?[0-9 ()./-]{4,32}$")] | None,
    BeforeValidator(_blank_to_none)]
CompanyName = Annotated[Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None,
                        BeforeValidator(_blank_to_none)]
Password = Annotated[str, Field(min_length=1, max_length=PASSWORD_MAX_LENGTH)]


class Request(BaseModel):
    # Strict: a number where a string belongs is a 400, not silently converted.
    model_config = ConfigDict(strict=True, extra="ignore")


class RegisterRequest(Request):
    email: EmailStr = Field(max_length=320)
    password: Password
    password_confirm: str
    first_name: Name
    last_name: Name
    phone: Phone = None
    company_name: CompanyName = None

    @field_validator("password_confirm")
    @classmethod
    def _confirm_matches(cls, value: str, info: ValidationInfo) -> str:
        if "password" in info.data and value != info.data["password"]:
            raise ValueError("Passwords do not match")
        return value


class LoginRequest(Request):
    # The login name is the email; S3 clients send it as `username`.
    email: str = Field(min_length=1, max_length=320, validation_alias=AliasChoices("email", "username"))
    password: Password


class RefreshRequest(Request):
    refresh: str | None = Field(default=None, max_length=200)


class TokenRequest(Request):
    token: str = Field(min_length=1, max_length=200)


class EmailRequest(Request):
    email: EmailStr = Field(max_length=320)


class UserUpdate(Request):
    """Profile fields; all optional (PUT and PATCH both update what is sent).

    `email` is not a field here: a changed address must be proven through the email-change flow,
    so an `email` in the body is ignored like any unknown field (S1 ignores it too).
    """

    first_name: Name | None = None
    last_name: Name | None = None
    phone: Phone = None
    company_name: CompanyName = None

    @field_validator("first_name", "last_name")
    @classmethod
    def _not_null(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("This field cannot be null")
        return value


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    first_name: str
    last_name: str
    phone: str | None
    company_name: str | None
    is_business_customer: bool
    is_verified: bool
    roles: list[str]
    created_at: datetime


class TokenPair(BaseModel):
    access: str
    refresh: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="Lifetime of the access token in seconds")


class LoginResponse(TokenPair):
    user: UserRead


class RegisterResponse(BaseModel):
    message: str
    user: UserRead


class RegisterResponseWithTokens(RegisterResponse, TokenPair):
    """When `require_verified_email` is off, registration signs the user in at once."""


class VerifyEmailResponse(BaseModel):
    message: str
    user: UserRead


class VerifyTokenResponse(BaseModel):
    valid: bool
    user_id: uuid.UUID
    expires_at: datetime


class MessageResponse(BaseModel):
    message: str


class MailRead(BaseModel):
    id: uuid.UUID
    to: str
    subject: str
    text: str
    html: str
    sent_at: datetime | None


class Mailbox(BaseModel):
    results: list[MailRead]
