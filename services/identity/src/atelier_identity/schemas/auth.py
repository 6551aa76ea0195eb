"""Registration, sign-in, tokens and email verification (`/auth`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    ValidationInfo,
    field_validator,
)

from atelier_identity.schemas._shared import (
    CompanyName,
    DisplayName,
    Name,
    Password,
    Phone,
    Request,
    Username,
    _blank_to_none,
)
from atelier_identity.schemas.users import UserRead


class RegisterRequest(Request):
    """`email`, `first_name` and `last_name` are required, except on a storefront with
    `email_optional` (S0): there a `username` and a password make an account (`AuthService.register`)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "email": "ada@example.com", "password": "correct horse battery staple",
        "password_confirm": "correct horse battery staple", "first_name": "Ada", "last_name": "Lovelace"}, {
        "username": "ada_l", "password": "correct horse battery staple",
        "password_confirm": "correct horse battery staple"}]})

    email: Annotated[EmailStr | None, BeforeValidator(_blank_to_none)] = Field(default=None, max_length=320)
    password: Password
    password_confirm: str
    first_name: Annotated[Name | None, BeforeValidator(_blank_to_none)] = None
    last_name: Annotated[Name | None, BeforeValidator(_blank_to_none)] = None
    phone: Phone = None
    company_name: CompanyName = None
    username: Username = None
    display_name: DisplayName = None

    @field_validator("password_confirm")
    @classmethod
    def _confirm_matches(cls, value: str, info: ValidationInfo) -> str:
        if "password" in info.data and value != info.data["password"]:
            raise ValueError("Passwords do not match")
        return value


class LoginRequest(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"email": "ada@example.com", "password": "correct horse battery staple"}]})

    # The email or the username (S4); S3 clients send the email as `username`.
    email: str = Field(min_length=1, max_length=320, validation_alias=AliasChoices("email", "username"))
    password: Password


class RefreshRequest(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"refresh": "PVEJQtEadTfdc_wy0YTvgixftSAvsT6qyk0lUyXDUVY"}]})

    refresh: str | None = Field(default=None, max_length=200)


class TokenRequest(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"token": "GM7iTPHJLhQsgW44MDtU7AyNNiT18nHVM7vapuZaiVc"}]})

    token: str = Field(min_length=1, max_length=200)


class EmailRequest(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"email": "ada.lovelace@example.com"}]})

    email: EmailStr = Field(max_length=320)


class TokenPair(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"access": "eyJhbGciOiJFZERTQSIsImtpZCI6IjJjMWM5YmUw…",
         "refresh": "-sMRvldTPWIyIhGg0NnuWEivgsXhHbnzTYeJ32r5yFM", "token_type": "Bearer", "expires_in": 900}]})

    access: str
    refresh: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="Lifetime of the access token in seconds")


class LoginResponse(TokenPair):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"access": "eyJhbGciOiJFZERTQSIsImtpZCI6IjJjMWM5YmUw…",
         "refresh": "PVEJQtEadTfdc_wy0YTvgixftSAvsT6qyk0lUyXDUVY", "token_type": "Bearer", "expires_in": 900,
         "user": {"id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a", "email": "ada.lovelace@example.com",
          "username": None, "display_name": None, "first_name": "Ada", "last_name": "Lovelace", "phone": None,
          "company_name": None, "is_business_customer": False, "is_verified": True, "has_password": True,
          "roles": ["customer"], "signup_storefront": "default", "created_at": "2026-11-26T02:15:22.404442Z"}}]})

    user: UserRead


class RegisterResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"message": "Registered. Check your email to verify your account.",
         "user": {"id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a", "email": "ada.lovelace@example.com",
          "username": None, "display_name": None, "first_name": "Ada", "last_name": "Lovelace", "phone": None,
          "company_name": None, "is_business_customer": False, "is_verified": False, "has_password": True,
          "roles": ["customer"], "signup_storefront": "default", "created_at": "2026-11-26T02:15:22.404442Z"}}]})

    message: str
    user: UserRead


class RegisterResponseWithTokens(RegisterResponse, TokenPair):
    """When `require_verified_email` is off, registration signs the user in at once."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"access": "eyJhbGciOiJFZERTQSIsImtpZCI6IjJjMWM5YmUw…",
         "refresh": "Qm9vbGVhbi1yZWZyZXNoLXRva2VuLWV4YW1wbGUtMDM", "token_type": "Bearer", "expires_in": 900,
         "message": "Registered.",
         "user": {"id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a", "email": "ada.lovelace@example.com",
          "username": None, "display_name": None, "first_name": "Ada", "last_name": "Lovelace", "phone": None,
          "company_name": None, "is_business_customer": False, "is_verified": False, "has_password": True,
          "roles": ["customer"], "signup_storefront": "default", "created_at": "2026-11-26T02:15:22.404442Z"}}]})


class VerifyEmailResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"message": "Email verified.",
         "user": {"id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a", "email": "ada.lovelace@example.com",
          "username": None, "display_name": None, "first_name": "Ada", "last_name": "Lovelace", "phone": None,
          "company_name": None, "is_business_customer": False, "is_verified": True, "has_password": True,
          "roles": ["customer"], "signup_storefront": "default", "created_at": "2026-11-26T02:15:22.404442Z"}}]})

    message: str
    user: UserRead


class VerifyTokenResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"valid": True, "user_id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a", "expires_at": "2026-11-26T02:30:22Z"}]})

    valid: bool
    user_id: uuid.UUID
    expires_at: datetime


class MessageResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"message": "If this account exists and is not verified yet, a new link is on its way."}]})

    message: str


class SignInResponse(LoginResponse):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"access": "eyJhbGciOiJFZERTQSIsImtpZCI6IjJjMWM5YmUw…",
         "refresh": "AFa7gXZYQA_hlLczh4E7LAVC1i2_Jszabjlpudyu_tk", "token_type": "Bearer", "expires_in": 900,
         "user": {"id": "f7dfc8a2-86d9-473a-a5aa-539dcc57330a", "email": "ada.lovelace@example.com",
          "username": None, "display_name": "Ada", "first_name": "Ada", "last_name": "Lovelace",
          "phone": "+442079460000", "company_name": None, "is_business_customer": False, "is_verified": True,
          "has_password": True, "roles": ["customer"], "signup_storefront": "default",
          "created_at": "2026-11-26T02:15:22.404442Z"}, "created": False}]})

    # True when this sign-in created the account (magic link, passkey signup).
    created: bool = False
